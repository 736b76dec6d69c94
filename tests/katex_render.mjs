// Render a batch of formulas with KaTeX, the engine GitHub, Jupyter and MkDocs use.
// stdin:  JSON array of [latex, displayMode] pairs
// stdout: JSON array, one entry per formula: null if it rendered, else the error message
// One process for the whole batch: starting node per formula costs ~50 ms each.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Resolve katex from the repository's own node_modules (package.json pins it),
// never from a global install that may be another version.
const require = createRequire(new URL("../package.json", import.meta.url));
const katex = require("katex");

const formulas = JSON.parse(readFileSync(0, "utf8"));
const results = formulas.map(([latex, displayMode]) => {
  try {
    katex.renderToString(latex, { displayMode, throwOnError: true, strict: "error" });
    return null;
  } catch (err) {
    return String(err && err.message ? err.message : err);
  }
});
process.stdout.write(JSON.stringify(results) + "\n");
