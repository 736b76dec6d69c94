// Render Mermaid diagrams in headless Chromium: one browser and one page for the whole batch.
//
// stdin: {"diagrams": ["flowchart LR\n ...", ...], "out": null | "/dir", "format": "svg" | "png"}
// stdout: a JSON list, one entry per diagram: null when it rendered, else Mermaid's error.
// With "out", diagram i is written to <out>/<i>.<format> (to look at).
//
// The page is mermaid-cli's own (its fonts and styles) with the Mermaid that mermaid-cli
// pins; mermaid-cli's renderMermaid() would load a new page and Mermaid for every
// diagram, which costs about a second each. The browser is the one in tests/puppeteer.json
// (Debian's /usr/bin/chromium): nothing is downloaded, and its flags keep it off the network.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import puppeteer from "puppeteer";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "package.json"));
const cli = join(dirname(require.resolve("@mermaid-js/mermaid-cli")), "..");
// The Mermaid that mermaid-cli resolves, as one classic script (no ES module imports
// from file:// pages, which Chromium refuses).
const mermaidJs = join(dirname(require.resolve("mermaid", { paths: [cli] })), "mermaid.min.js");
const config = JSON.parse(readFileSync(join(here, "puppeteer.json"), "utf-8"));
const { diagrams, out = null, format = "svg" } = JSON.parse(readFileSync(0, "utf-8"));

const browser = await puppeteer.launch({ headless: "shell", ...config });
const results = [];
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1600, height: 1200, deviceScaleFactor: 2 });
  await page.goto(pathToFileURL(join(cli, "dist", "index.html")).href);
  await page.addScriptTag({ path: mermaidJs });
  await page.evaluate(() => {
    globalThis.mermaid.initialize({ startOnLoad: false, theme: "default" });
  });
  for (const [i, definition] of diagrams.entries()) {
    const error = await page.evaluate(
      async (definition, i) => {
        const container = document.getElementById("container");
        container.innerHTML = "";
        try {
          const { svg } = await globalThis.mermaid.render(`d${i}`, definition, container);
          container.innerHTML = svg;
          return null;
        } catch (e) {
          return String(e?.message ?? e);
        }
      },
      definition,
      i,
    );
    results.push(error);
    if (out && error === null) {
      const svg = await page.$("#container svg");
      const file = join(out, `${i}.${format}`);
      if (format === "png") await svg.screenshot({ path: file, omitBackground: false });
      else writeFileSync(file, await page.$eval("#container svg", (s) => s.outerHTML));
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
