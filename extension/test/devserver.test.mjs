// Real dev servers from npm, the ones Taro and uni-app preview with:
// webpack-dev-server (Taro's webpack5 runner) and Vite (uni-app, Taro's
// vite runner), each on a random port with a tiny app, in Chromium with
// the real extension. Editing a file updates the page (hot reload) while
// mpnet is on: the dev server's own traffic passes untouched and is shown
// as tooling, never as a violation (R15), and the app's own calls on the
// same page, same-origin ones included, are still judged.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer as netServer } from "node:net";
import path from "node:path";
import { startStack } from "../tools/harness.mjs";

let stack;
let popup;

before(async () => {
  stack = await startStack();
  popup = await stack.context.newPage();
  await popup.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
}, { timeout: 120000 });

after(async () => { if (stack) await stack.close(); });

function freePort() {
  return new Promise((resolve) => {
    const s = netServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// app writes a tiny app: it shows value.js's value (re-rendered on a hot
// update), calls an unlisted host and its own dev server's /api/user.
function app(dir, hot, unlisted) {
  mkdirSync(path.join(dir, "public"), { recursive: true });
  writeFileSync(path.join(dir, "value.js"), `export const value = "first";\n`);
  writeFileSync(path.join(dir, "main.js"), `import { value } from "./value.js";
const render = (v) => { document.getElementById("v").textContent = v; };
render(value);
window.__calls = Promise.all([
  fetch(${JSON.stringify(unlisted)}).then(() => "proceeded", (e) => e.message),
  fetch("/api/user").then(() => "proceeded", (e) => e.message),
]);
${hot}
`);
  return `<!doctype html><meta charset="utf-8"><title>dev</title><div id="v"></div>`;
}

async function tabOf(page) {
  return popup.evaluate(async (href) => (await chrome.tabs.query({})).find((t) => t.url === href).id, page.url());
}

// hotReload loads the app, edits value.js and waits for the page to show
// the new value; then checks what mpnet recorded for the tab.
async function hotReload(url, dir) {
  const page = await stack.context.newPage();
  if (process.env.DEBUG_DEV) page.on("console", (m) => console.log("console:", m.text()));
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("v") && document.getElementById("v").textContent === "first", null, { timeout: 20000 });
    const calls = await page.evaluate(() => window.__calls);
    // The edit must reach the page: wait until the client is connected
    // (its socket is open), then write the file.
    await page.waitForFunction(() => window.mpnet.status().state === "ready", null, { timeout: 10000 });
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(path.join(dir, "value.js"), `export const value = "second";\n`);
    await page.waitForFunction(() => document.getElementById("v").textContent === "second", null, { timeout: 20000 }).catch(async (e) => {
      if (process.env.DEBUG_DEV) console.log(JSON.stringify(await popup.evaluate(async (id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), await tabOf(page)), null, 1).slice(0, 6000));
      throw e;
    });
    const tabId = await tabOf(page);
    // Records leave 50 ms after a lone change and at most every 250 ms while
    // calls keep coming (runtime.js): wait past both and their delivery.
    await new Promise((r) => setTimeout(r, 700));
    const records = await popup.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId);
    const badge = await popup.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId);
    return { calls, records, badge };
  } finally {
    await page.close();
  }
}

function unlistedURL() {
  const port = new URL(stack.fx.byName.valid.url).port;
  return `https://stats.mpnet.test:${port}/collect`;
}

function checkRecords({ calls, records, badge }, toolingRe) {
  const NOT_LISTED = "request:fail url not in domain list";
  assert.deepEqual(calls, [NOT_LISTED, NOT_LISTED], "the app's own calls, the same-origin one included, are still judged");
  const fails = records.filter((r) => r.verdict === "fail" || r.verdict === "warn");
  assert.deepEqual(fails.map((r) => [r.rule, new URL(r.url).pathname]).sort(), [["R1", "/api/user"], ["R2", "/collect"]], JSON.stringify(fails));
  assert.equal(badge, "2", "the badge counts the app's two violations only");
  const tooling = records.filter((r) => r.tooling);
  assert.ok(tooling.some((r) => toolingRe.test(r.url)), JSON.stringify(records.map((r) => [r.url, r.tooling])));
  for (const r of tooling) {
    assert.equal(r.verdict, "ok");
    assert.equal(r.rule, "R15");
    assert.match(r.findings[0].message, /not a mini-program call/);
  }
}

test("webpack-dev-server (Taro's webpack5 runner): hot module replacement works with mpnet on; its socket and hot-update manifests are tooling", async () => {
  const { default: webpack } = await import("webpack");
  const { default: WebpackDevServer } = await import("webpack-dev-server");
  const dir = path.join(stack.dir, "wds");
  mkdirSync(dir, { recursive: true });
  const html = app(dir, `if (import.meta.webpackHot) import.meta.webpackHot.accept("./value.js", () => render(value));`, unlistedURL());
  writeFileSync(path.join(dir, "public", "index.html"), html + `<script src="/main.js"></script>`);
  const compiler = webpack({
    mode: "development", context: dir, entry: "./main.js", devtool: false,
    output: { path: path.join(dir, "dist"), filename: "main.js", publicPath: "/" },
    infrastructureLogging: { level: "error" }, stats: "errors-only",
  });
  const port = await freePort();
  const server = new WebpackDevServer({
    host: "127.0.0.1", port, hot: true, liveReload: true, static: { directory: path.join(dir, "public") },
    client: { logging: "error", overlay: false },
  }, compiler);
  await server.start();
  try {
    const out = await hotReload(`http://localhost:${port}/`, dir);
    checkRecords(out, /\/ws$/);
    assert.ok(out.records.some((r) => r.tooling && /\.hot-update\.json$/.test(r.url)), "the hot-update manifest fetch is tooling");
  } finally {
    await server.stop();
  }
});

test("Vite (uni-app, Taro's vite runner): hot module replacement works with mpnet on; its vite-hmr socket is tooling", async () => {
  const { createServer } = await import("vite");
  const dir = path.join(stack.dir, "vite");
  mkdirSync(dir, { recursive: true });
  const html = app(dir, `if (import.meta.hot) import.meta.hot.accept("./value.js", (m) => render(m.value));`, unlistedURL());
  writeFileSync(path.join(dir, "index.html"), html + `<script type="module" src="/main.js"></script>`);
  const port = await freePort();
  const server = await createServer({
    root: dir, configFile: false, logLevel: "error", clearScreen: false, cacheDir: path.join(dir, ".vite"),
    server: { host: "127.0.0.1", port, strictPort: true },
  });
  await server.listen();
  try {
    const out = await hotReload(`http://localhost:${port}/`, dir);
    checkRecords(out, new RegExp(`^ws://localhost:${port}/\\?token=`));
  } finally {
    await server.close();
  }
});
