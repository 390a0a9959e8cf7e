// The browser test stack, shared by the end-to-end tests and the demo:
// hostsim's fixture servers (real TLS and WebSocket servers on loopback,
// each fault under its own *.mpnet.test name), a static server for the demo
// preview page on http://localhost, the extension bundled with a
// configuration that lists some fixture hosts, and Debian's Chromium with
// that extension loaded and the fixture names mapped to loopback.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { bundle } from "../../build/bundle.mjs";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const APPID = "wx0123456789abcdef";
export const REFERER = `https://appservice.wx.com/${APPID}/0/page-frame.html`;

/** chromiumPath finds Debian's Chromium (installed by scripts/install-deps.sh). */
export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (p && existsSync(p)) return p;
  }
  throw new Error("Chromium is not installed: run scripts/install-deps.sh (apt-get install chromium)");
}

/**
 * startProcess runs one of the build's programs (dist/NAME, built by
 * `go run ./build`) with args, and resolves, once it has printed its first
 * JSON document on stdout (its start-up description: the text up to the
 * first line end where it parses, one line or indented), with {child, doc,
 * close}; close stops it (stop(child), by default SIGTERM) and resolves
 * when it has exited. Rejects if it exits first, with its stderr.
 * stdin: "pipe" (a program stopped by closing its stdin) or "ignore".
 */
export function startProcess(name, args, { stdin = "ignore", stop = (c) => c.kill("SIGTERM") } = {}) {
  const exe = path.join(root, "dist", name);
  if (!existsSync(exe)) throw new Error(`dist/${name} is missing: run go run ./build first`);
  const child = spawn(exe, args, { stdio: [stdin, "pipe", "pipe"] });
  const close = () => new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.on("exit", r);
    stop(child);
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    let from = 0; // where the next line end is looked for
    let done = false;
    child.stderr.on("data", (d) => { err += d; });
    child.stdout.on("data", (d) => {
      if (done) return;
      out += d;
      for (let nl = out.indexOf("\n", from); nl >= 0; nl = out.indexOf("\n", from)) {
        from = nl + 1;
        let doc;
        try { doc = JSON.parse(out.slice(0, nl)); } catch (e) { continue; /* more to come */ }
        done = true;
        resolve({ child, doc, close });
        return;
      }
    });
    child.on("exit", (code) => reject(new Error(`${name} ${args[0]} exited ${code}: ${err}`)));
  });
}

/** startFixtures runs `hostsim serve --json` and resolves with its description. */
export async function startFixtures(dir) {
  // hostsim serve stops when its stdin closes.
  const { doc, close } = await startProcess("hostsim", ["serve", "--json", "--ca", path.join(dir, "ca.pem")], { stdin: "pipe", stop: (c) => c.stdin.end() });
  return { ...doc, byName: Object.fromEntries(doc.faults.map((f) => [f.name, f])), close };
}

/**
 * startAgent runs `hostsim agent` for the fixtures, its pairing kept in dir,
 * and resolves with its URL and pairing token.
 */
export async function startAgent(fx, dir) {
  const args = ["agent", "--listen", "127.0.0.1:0", "--state", path.join(dir, "agent.json"), "--roots", fx.ca, "--timeout", "3000"];
  for (const f of fx.faults) {
    args.push("--resolve", `${f.host}:${f.addr.split(":").pop()}:127.0.0.1`);
  }
  const { doc, close } = await startProcess("hostsim", args, { stdin: "pipe" });
  return { url: doc.url, token: doc.token, close };
}

/**
 * pairAgent pairs the extension with the agent as a user does: the options
 * page, the token pasted, Save, then Test, which the agent answers only
 * for the extension that presented its token (and pins from then on).
 */
export async function pairAgent(context, extensionId, agent) {
  const page = await context.newPage();
  try {
    await page.goto(`chrome-extension://${extensionId}/ui/options.html`);
    await page.fill("#agentInput", agent.url);
    await page.fill("#agentToken", agent.token);
    await page.click("#agentSave");
    await page.waitForFunction(() => document.getElementById("agentStatus").textContent !== "");
    await page.evaluate(() => { document.getElementById("agentStatus").textContent = ""; });
    await page.click("#agentTest");
    await page.waitForFunction(() => document.getElementById("agentStatus").textContent !== "", null, { timeout: 10000 });
    const status = await page.textContent("#agentStatus");
    if (!/ABI/.test(status)) throw new Error(`pairing with hostsim agent failed: ${status}`);
  } finally {
    await page.close();
  }
}

/** origin of a fixture URL, e.g. https://valid.mpnet.test:34567 */
export function fixtureOrigin(fx, name) { return new URL(fx.byName[name].url).origin; }

/** The configuration the tests and the demo bake into the extension. */
export function demoConfig(fx, extra = {}) {
  return {
    appid: APPID,
    version: "0",
    domains: {
      request: ["https://valid.mpnet.test", "https://5xx.mpnet.test", "https://slow.mpnet.test", "https://expired.mpnet.test", "https://missing-intermediate.mpnet.test"],
      uploadFile: ["https://valid.mpnet.test"],
      downloadFile: ["https://valid.mpnet.test"],
      socket: ["wss://wss.mpnet.test"],
    },
    networkTimeout: { request: 10000, connectSocket: 10000 },
    ...extra,
  };
}

/**
 * startPreview serves demo/preview on http://localhost:PORT, with
 * /fixtures.js describing the fixtures, the browser tests' own pages
 * (extension/tools/pages) under /test/; files maps more paths to
 * {type, body} (test pages, bundles).
 */
export function startPreview(fx, files = {}) {
  const demoDir = path.join(root, "demo/preview");
  const testDir = path.join(root, "extension/tools/pages");
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css" };
  const server = createServer((req, res) => {
    const u = new URL(req.url, "http://localhost");
    if (Object.hasOwn(files, u.pathname)) {
      res.writeHead(200, { "content-type": files[u.pathname].type });
      res.end(files[u.pathname].body);
      return;
    }
    if (u.pathname === "/fixtures.js") {
      const urls = Object.fromEntries(fx.faults.map((f) => [f.name, f.url]));
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(`window.FIXTURES = ${JSON.stringify(urls)};`);
      return;
    }
    const test = u.pathname.startsWith("/test/");
    const dir = test ? testDir : demoDir;
    const rel = test ? u.pathname.slice("/test".length) : u.pathname;
    const file = path.join(dir, rel === "/" ? "index.html" : path.normalize(rel).replace(/^(\.\.[/\\])+/, ""));
    if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404); res.end("not found"); return; }
    const headers = { "content-type": types[path.extname(file)] || "application/octet-stream" };
    // ?csp=strict: a page whose Content-Security-Policy lets it connect only
    // to its own and the fixtures' origins (not to chrome-extension: URLs),
    // as some previews are served; WebAssembly is allowed.
    if (u.searchParams.get("csp") === "strict" && path.extname(file) === ".html") {
      headers["content-security-policy"] = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self' https://*.mpnet.test:* wss://*.mpnet.test:*";
    }
    // ?csp=nowasm: the page may not compile WebAssembly (no
    // 'wasm-unsafe-eval', as a header): the module runs in the extension.
    if (u.searchParams.get("csp") === "nowasm" && path.extname(file) === ".html") {
      headers["content-security-policy"] = "script-src 'self'";
    }
    res.writeHead(200, headers);
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    resolve({ url: `http://localhost:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) });
  }));
}

/**
 * startStack starts fixtures, the preview server, bundles the extension with
 * the demo configuration and launches Chromium with it.
 */
export async function startStack({ headless = true, lang = "en-US", config, agent = false, host = ["https://*.mpnet.test/*"], files = {}, testHooks = false } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "mpnet-e2e-"));
  // The folder (profile, extension copy, CA, agent pairing: 13-18 MB) goes
  // with the stack, and with the process if a test dies before close.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);
  const fx = await startFixtures(dir);
  const preview = await startPreview(fx, files);
  const ag = agent ? await startAgent(fx, dir) : null;
  const cfgPath = path.join(dir, "mpnet.json");
  writeFileSync(cfgPath, JSON.stringify(config ? config(fx) : demoConfig(fx), null, 2));
  const ext = await bundle({
    out: path.join(dir, "extension"), wasm: path.join(root, "dist/mpnet.wasm"), rules: path.join(root, "dist/rules.html"), config: [cfgPath],
    origin: ["http://localhost/*"], host, agent: ag ? ag.url : "", testHooks,
  });
  const context = await chromium.launchPersistentContext(path.join(dir, "profile"), {
    executablePath: chromiumPath(),
    headless,
    locale: lang,
    ignoreHTTPSErrors: true, // the fixtures' CA is generated per run; R12 is judged by hostsim, not by Chromium here
    args: [
      `--disable-extensions-except=${ext}`, `--load-extension=${ext}`,
      `--host-resolver-rules=${fx.hostResolverRules}, MAP *.mpnet.test 127.0.0.1`, `--lang=${lang}`,
      "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
      "--disable-sync", "--disable-quic", "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
    ],
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent("serviceworker", { timeout: 20000 });
  const extensionId = new URL(worker.url()).host;
  if (ag) await pairAgent(context, extensionId, ag);
  return {
    dir, fx, preview, context, worker, extensionId, ext,
    async close() {
      await context.close().catch(() => {});
      await preview.close();
      if (ag) await ag.close();
      await fx.close();
      removeDir();
      process.off("exit", removeDir); // a run that opens many stacks (the cold bench) keeps no listener per stack
    },
  };
}

/** extensionPage opens the extension's popup page (for chrome.* calls) and finds the tab showing url. */
export async function extensionPage(stack, url) {
  const ext = await stack.context.newPage();
  await ext.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
  const tabId = url ? await ext.evaluate(async (u) => (await chrome.tabs.query({})).find((t) => t.url && t.url.startsWith(u)).id, url) : null;
  return { ext, tabId };
}

/**
 * openPreview opens the demo preview page and waits for the runtime: ready
 * (or failed), with the module where it stays (in the page once it took
 * over from the extension's, or in the extension for a page that may not
 * compile WebAssembly).
 */
export async function openPreview(stack, query = "") {
  const page = await stack.context.newPage();
  await page.goto(stack.preview.url + query);
  await settled(page);
  return page;
}

/** settled waits until the page's runtime is no longer loading and its module has moved where it stays. */
export async function settled(page) {
  await page.waitForFunction(() => {
    if (!window.mpnet) return false;
    const s = window.mpnet.status();
    return s.state !== "loading" && !s.switching;
  }, null, { timeout: 20000 });
}

/**
 * waitForAsync evaluates fn(arg) in page until it answers a truthy value,
 * and answers that value; it throws after timeout ms. Playwright's
 * waitForFunction does not await a predicate's promise: an async predicate
 * returns a promise, which is truthy, so it resolves at the first poll
 * without waiting (and its handle holds whatever the promise resolved to).
 * Predicates that ask chrome.* APIs are async, so they wait here.
 */
export async function waitForAsync(page, fn, arg, { timeout = 5000, every = 50 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() >= end) throw new Error(`waitForAsync: ${String(fn).slice(0, 160)} stayed false for ${timeout} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}
