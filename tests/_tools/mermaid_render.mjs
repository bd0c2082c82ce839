// Render Mermaid text with the real mermaid (browser build) inside the system's chromium.
// One browser launch serves every diagram, so a whole test session pays the start-up cost once.
//
// Needs mermaid + puppeteer-core in node_modules of MERMAID_TOOLS (default: the current directory),
// e.g. `make .tools/mermaid/.installed`, then run from `.tools/mermaid`. Nothing downloads a browser.
//
//   node mermaid_render.mjs FILE.mmd...   print OK/INVALID per file; exit 0 if all render, 1 otherwise
//   node mermaid_render.mjs --serve       read JSON lines {"id", "text"} on stdin and answer one JSON line
//                                         {"id", "ok": true, "svg", "labels"} or {"id", "ok": false, "error"};
//                                         the first line written is {"ready": true} once the page is up.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const require = createRequire(join(process.env.MERMAID_TOOLS || process.cwd(), 'noop.js'));
const puppeteer = require('puppeteer-core');
const mermaidJs = require.resolve('mermaid/dist/mermaid.min.js');

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
await page.addScriptTag({ path: mermaidJs });
await page.evaluate(() => mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' }));

let counter = 0;
async function render(text) {
  counter += 1;
  return page.evaluate(async (text, id) => {
    try {
      await mermaid.parse(text); // throws on a syntax error or an unknown diagram type
      const { svg } = await mermaid.render(id, text); // lays out too, catching render-time errors
      // The text people will see in each label (HTML labels live in <foreignObject>), <br> as "\n".
      const holder = document.createElement('div');
      holder.innerHTML = svg;
      let boxes = [...holder.querySelectorAll('foreignObject')];
      if (!boxes.length) boxes = [...holder.querySelectorAll('text')];
      const labels = boxes.map((box) => {
        box.querySelectorAll('br').forEach((br) => br.replaceWith('\n'));
        return box.textContent;
      });
      return { ok: true, svg, labels };
    } catch (e) {
      return { ok: false, error: String((e && e.message) || e) };
    }
  }, text, `mermaid-${counter}`);
}

let failed = 0;
try {
  if (process.argv[2] === '--serve') {
    process.stdout.write(JSON.stringify({ ready: true }) + '\n');
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      const request = JSON.parse(line);
      const result = await render(request.text);
      process.stdout.write(JSON.stringify({ id: request.id, ...result }) + '\n');
    }
  } else {
    const files = process.argv.slice(2);
    if (!files.length) {
      console.error('usage: node mermaid_render.mjs FILE.mmd... | --serve');
      process.exitCode = 2;
    }
    for (const file of files) {
      const result = await render(readFileSync(file, 'utf8'));
      if (result.ok) console.log(`OK      ${file}`);
      else { failed += 1; console.log(`INVALID ${file}\n  ${result.error.split('\n').join('\n  ')}`); }
    }
  }
} finally {
  await browser.close();
}
if (failed) process.exitCode = 1;
