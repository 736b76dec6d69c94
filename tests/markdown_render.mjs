// Render a batch of Markdown documents to HTML with marked (GitHub-flavoured, raw HTML
// passed through, as MkDocs, Jupyter and Obsidian pass it): what a reader's browser gets.
// stdin:  JSON array of Markdown strings
// stdout: JSON array of HTML strings, one per document
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// marked comes with @mermaid-js/mermaid-cli (package.json pins it); resolve it from the
// repository's own node_modules.
const require = createRequire(new URL("../package.json", import.meta.url));
const { marked } = require("marked");

const documents = JSON.parse(readFileSync(0, "utf8"));
const results = documents.map((md) => marked.parse(md, { gfm: true, mangle: false, headerIds: false }));
process.stdout.write(JSON.stringify(results) + "\n");
