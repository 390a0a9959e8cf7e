// The page runtime shares the MAIN world with page scripts, which may
// patch any built-in before and while the runtime works: an accessor on
// Object.prototype for a property the runtime reads or assigns on its own
// objects, or a replaced Map/Set/Array/Promise method, is called with the
// runtime's object as `this`. docs/RATIONALE.md ("Threat model") promises
// that page script reaches nothing of the runtime but `window.mpnet`; these
// tests hold it to that with a page that installs such traps for every
// property name the runtime's sources use, then makes calls, and tries to
// switch checking off with whatever it caught.
//
// Review of issues 11/12: both tests failed on the tree before the page
// runtime took its built-ins at document start (extension/src/page/
// intrinsics.js): the Runtime instance, its private port and the module
// instance were caught through `Object.prototype.referer` / `.module`, and
// every call's handle through Map.prototype.set. extension/test/
// intrinsics-lint.test.mjs keeps the sources to the rules that closed it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { startStack, extensionPage, root } from "../tools/harness.mjs";

// Every name the runtime's sources read or assign with `.name`.
const sources = [
  ...readdirSync(path.join(root, "extension/src/page")).filter((f) => f.endsWith(".js")).map((f) => path.join(root, "extension/src/page", f)),
  path.join(root, "wasm/loader.js"),
];
const SKIP = new Set(["length", "prototype", "constructor", "then", "toString", "valueOf", "call", "apply", "bind",
  "get", "set", "value", "writable", "enumerable", "configurable", "console", "log"]);
const NAMES = [...new Set(sources.flatMap((f) => readFileSync(f, "utf8").match(/\.[A-Za-z_][A-Za-z0-9_]*/g) || []).map((s) => s.slice(1)))]
  .filter((n) => !SKIP.has(n)).sort();

// The hostile page: its first script installs the traps (it runs after
// mpnet's document-start scripts, like any page script), then waits for
// mpnet, makes calls, and reports what it caught on the console (the page
// is too polluted for the test driver's own evaluate).
const HOSTILE = `(() => {
  const log = console.log.bind(console);
  const q = new URLSearchParams(location.search);
  const mode = q.get("mode"), port = q.get("port");
  const caught = new Map();
  const has = Map.prototype.has, put = Map.prototype.set, apply = Function.prototype.apply;
  let busy = false;
  const keep = (how, o) => {
    if (busy || !o || (typeof o !== "object" && typeof o !== "function") || o === window || o === document) return;
    busy = true;
    try { if (!apply.call(has, caught, [o])) apply.call(put, caught, [o, how]); } finally { busy = false; }
  };
  if (mode === "accessors") {
    for (const n of window.__NAMES) {
      if (n in Object.prototype) continue;
      try {
        Object.defineProperty(Object.prototype, n, { configurable: true,
          get() { keep("get " + n, this); return undefined; },
          set(v) { keep("set " + n, this); Object.defineProperty(this, n, { value: v, writable: true, configurable: true, enumerable: true }); } });
      } catch (e) { /* not definable */ }
    }
  } else {
    for (const [C, ms] of [[Map, ["get", "set", "has", "delete", "forEach", "values", "keys", "entries", "clear"]], [Set, ["add", "has", "delete", "forEach", "values", "clear"]],
      [Array, ["push", "shift", "splice", "map", "forEach", "filter", "slice", "indexOf", "includes", "find", "some", "join", "concat", "pop", "unshift"]],
      [Promise, ["then", "catch", "finally"]], [WeakMap, ["get", "set", "has"]]]) {
      for (const m of ms) {
        const orig = C.prototype[m];
        C.prototype[m] = function (...a) { keep(C.name + "." + m, this); for (let i = 0; i < a.length; i++) keep(C.name + "." + m + " argument", a[i]); return apply.call(orig, this, a); };
      }
    }
  }
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const call = (host) => fetch("https://" + host + ".mpnet.test:" + port + "/json").then(() => "proceeded", (e) => e.message);
  (async () => {
    for (let i = 0; i < 400 && (!window.mpnet || window.mpnet.status().state === "loading"); i++) await wait(25);
    const before = [await call("valid"), await call("stats")];
    await new Promise((res) => { const x = new XMLHttpRequest(); x.open("GET", "https://stats.mpnet.test:" + port + "/x"); x.onloadend = res; x.send(); });
    await new Promise((res) => { try { const ws = new WebSocket("wss://stats.mpnet.test:" + port + "/x"); ws.onclose = res; setTimeout(res, 2000); } catch (e) { res(); } });
    await wait(300);
    const own = (o, k) => { try { return Object.prototype.hasOwnProperty.call(o, k); } catch (e) { return false; } };
    const isFn = (o, k) => { try { return typeof o[k] === "function"; } catch (e) { return false; } };
    const found = { runtime: [], port: [], engine: [], callHandle: [] };
    const objects = [];
    for (const [o, how] of caught) objects[objects.length] = [o, how];
    for (const [o, how] of objects) {
      if (own(o, "port") && own(o, "calls")) found.runtime.push(how);
      if (o instanceof MessagePort) found.port.push(how);
      if (isFn(o, "configure") && isFn(o, "step")) found.engine.push(how);
      if (own(o, "onAction") && own(o, "record")) found.callHandle.push(how);
    }
    // What a page would do with them: switch checking off, or make the
    // module allow everything, so that calls are recorded as fine.
    for (const [o] of objects) {
      if (isFn(o, "configure") && isFn(o, "step")) {
        try { o.configure({ files: [{ name: "mpnet.json", content: JSON.stringify({ appid: "wx0123456789abcdef", domains: { request: ["https://stats.mpnet.test"] } }) }] }); } catch (e) { /* refused */ }
      }
    }
    const reconfigured = await call("stats");
    for (const [o] of objects) if (own(o, "port") && own(o, "calls")) o.enabled = false;
    const afterwards = await call("stats");
    log("RESULT " + JSON.stringify({ before, reconfigured, afterwards, status: window.mpnet.status(), found }));
  })().catch((e) => log("RESULT " + JSON.stringify({ error: String(e && e.stack || e) })));
})();`;

let stack;
before(async () => {
  stack = await startStack({
    files: {
      "/test/prototypes.html": { type: "text/html; charset=utf-8", body: `<!doctype html><script>window.__NAMES = ${JSON.stringify(NAMES)};</script><script src="/test/prototypes.js"></script><p>prototypes</p>` },
      "/test/prototypes.js": { type: "text/javascript", body: HOSTILE },
    },
  });
}, { timeout: 120000 });
after(async () => { if (stack) await stack.close(); });

async function runHostile(mode) {
  const page = await stack.context.newPage();
  const port = new URL(stack.fx.byName.valid.url).port;
  const result = new Promise((resolve) => page.on("console", (m) => { if (m.text().startsWith("RESULT ")) resolve(JSON.parse(m.text().slice(7))); }));
  const url = `${stack.preview.url}test/prototypes.html?mode=${mode}&port=${port}`;
  await page.goto(url);
  const out = await Promise.race([result, new Promise((r) => setTimeout(() => r({ error: "the hostile page reported nothing in 60 s" }), 60000))]);
  const { ext, tabId } = await extensionPage(stack, url);
  const records = await ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId);
  await ext.close();
  await page.close();
  return { out, records };
}

test("accessors on Object.prototype catch nothing of the runtime, and checking stays on", async () => {
  const { out, records } = await runHostile("accessors");
  if (process.env.MPNET_REVIEW_DEBUG) console.log(JSON.stringify({ out, records: records.map((r) => [r.url, r.verdict, r.unchecked, r.findings.map((f) => f.message)]) }));
  assert.equal(out.error, undefined, out.error);
  assert.deepEqual(out.before, ["proceeded", "request:fail url not in domain list"], "the hostile page's calls were judged before the attempt");
  assert.deepEqual(out.found.runtime, [], "the Runtime instance (and with it the private port) was caught by: " + out.found.runtime);
  assert.deepEqual(out.found.engine, [], "the module instance was caught by: " + out.found.engine);
  assert.deepEqual(out.found.port, [], "the private port was caught by: " + out.found.port);
  assert.equal(out.status.enabled, true, "checking was switched off from page script");
  assert.equal(out.reconfigured, "request:fail url not in domain list", "an unlisted call went out after the page reconfigured the module");
  assert.equal(out.afterwards, "request:fail url not in domain list", "an unlisted call went out after the page switched checking off");
  const late = records.filter((r) => r.url.includes("stats.mpnet.test") && r.url.endsWith("/json"));
  assert.ok(late.length >= 3 && late.every((r) => r.verdict === "fail"), "the panel shows every unlisted call failed: " + JSON.stringify(late.map((r) => [r.verdict, r.unchecked, r.findings.map((f) => f.message)])));
});

test("patched Map, Set, Array and Promise methods catch no call handle or internal", async () => {
  const { out } = await runHostile("methods");
  assert.equal(out.error, undefined, out.error);
  assert.deepEqual(out.before, ["proceeded", "request:fail url not in domain list"]);
  assert.deepEqual(out.found.runtime, []);
  assert.deepEqual(out.found.engine, []);
  assert.deepEqual(out.found.port, []);
  // A call's handle carries onAction: calling it with {type: "start"}
  // starts a call the engine queued (R7) or marks it tooling ({type: "pass"}).
  assert.deepEqual(out.found.callHandle, [], "call handles (onAction) were caught by: " + [...new Set(out.found.callHandle)]);
  assert.equal(out.afterwards, "request:fail url not in domain list");
});
