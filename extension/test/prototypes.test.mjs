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
//
// The worker client (extension/src/worker/client.js) shares each worker's
// global scope with the worker's own scripts in the same way: the last two
// tests make a worker script lay the same traps, and patch the
// BroadcastChannel the client speaks to the page on. Both failed on the
// client before it followed the same rules: its runtime object was caught
// through `Object.prototype.localPending`, call handles through `.done` and
// Map.prototype.set, the channel (whose name is the page's secret) through
// BroadcastChannel.prototype.postMessage and MessageEvent.prototype.data,
// and with the handles and the channel the worker made an unlisted call the
// page never heard of.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { startStack, extensionPage, root } from "../tools/harness.mjs";

// Every name the runtime's sources read or assign with `.name` (and, for
// the hostile worker, the worker client's too).
const namesOf = (files) => {
  const skip = new Set(["length", "prototype", "constructor", "then", "toString", "valueOf", "call", "apply", "bind",
    "get", "set", "value", "writable", "enumerable", "configurable", "console", "log"]);
  return [...new Set(files.flatMap((f) => readFileSync(f, "utf8").match(/\.[A-Za-z_][A-Za-z0-9_]*/g) || []).map((s) => s.slice(1)))]
    .filter((n) => !skip.has(n)).sort();
};
const sources = [
  ...readdirSync(path.join(root, "extension/src/page")).filter((f) => f.endsWith(".js")).map((f) => path.join(root, "extension/src/page", f)),
  path.join(root, "wasm/loader.js"),
];
const NAMES = namesOf(sources);
const WORKER_NAMES = namesOf([...sources, path.join(root, "extension/src/worker/client.js")]);

// The traps, for the hostile page and the hostile worker: with mode
// "accessors", an accessor on Object.prototype for each of NAMES; else
// replaced methods of Map, Set, Array, Promise and WeakMap. Whatever they
// are handed goes into `caught` (and to onCaught, if set).
const TRAPS = `
  const caught = new Map();
  const has = Map.prototype.has, put = Map.prototype.set, apply = Function.prototype.apply;
  let busy = false;
  let onCaught = null;
  const keep = (how, o) => {
    if (busy || !o || (typeof o !== "object" && typeof o !== "function") || o === globalThis || (typeof document === "object" && o === document)) return;
    busy = true;
    try {
      if (!apply.call(has, caught, [o])) {
        apply.call(put, caught, [o, how]);
        if (onCaught) onCaught(o, how);
      }
    } finally { busy = false; }
  };
  if (mode === "accessors") {
    for (const n of NAMES) {
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
  const call = (host, tag = "") => fetch("https://" + host + ".mpnet.test:" + port + "/json" + tag).then(() => "proceeded", (e) => e.message);
  const own = (o, k) => { try { return Object.prototype.hasOwnProperty.call(o, k); } catch (e) { return false; } };
  const isFn = (o, k) => { try { return typeof o[k] === "function"; } catch (e) { return false; } };
`;

// The hostile page: its first script installs the traps (it runs after
// mpnet's document-start scripts, like any page script), then waits for
// mpnet, makes calls, and reports what it caught on the console (the page
// is too polluted for the test driver's own evaluate).
const HOSTILE = `(() => {
  const log = console.log.bind(console);
  const q = new URLSearchParams(location.search);
  const mode = q.get("mode"), port = q.get("port");
  const NAMES = window.__NAMES;
  ${TRAPS}
  (async () => {
    for (let i = 0; i < 400 && (!window.mpnet || window.mpnet.status().state === "loading"); i++) await wait(25);
    const before = [await call("valid"), await call("stats")];
    await new Promise((res) => { const x = new XMLHttpRequest(); x.open("GET", "https://stats.mpnet.test:" + port + "/x"); x.onloadend = res; x.send(); });
    await new Promise((res) => { try { const ws = new WebSocket("wss://stats.mpnet.test:" + port + "/x"); ws.onclose = res; setTimeout(res, 2000); } catch (e) { res(); } });
    await wait(300);
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

// The hostile worker: a worker of an ordinary page, whose script (run by
// the worker client's bootstrap, after the client) lays the same traps,
// and in "methods" mode also replaces BroadcastChannel.prototype.postMessage,
// MessageEvent.prototype.data and Promise.resolve. Then it makes calls, and
// with whatever it caught tries what a worker script would: with the
// channel's name (the page's secret) it tells every worker client of the
// page that checking is off and makes a synchronous XHR; with call handles
// (and, in "methods" mode, the client's messages in its hands) it keeps a
// call from the page and starts it itself.
const HOSTILE_WORKER = `(() => {
  const q = new URLSearchParams(self.location.search);
  const mode = q.get("mode"), port = q.get("port");
  const NAMES = ${JSON.stringify(WORKER_NAMES)};
  // Taken before the traps: how this script reads what it catches.
  const NativeChannel = BroadcastChannel, NativeMessageEvent = MessageEvent;
  const channelName = Object.getOwnPropertyDescriptor(BroadcastChannel.prototype, "name").get;
  const eventTarget = Object.getOwnPropertyDescriptor(Event.prototype, "target").get;
  ${TRAPS}
  let hijacking = false;
  if (mode === "methods") {
    const post = BroadcastChannel.prototype.postMessage;
    BroadcastChannel.prototype.postMessage = function (m) {
      keep("BroadcastChannel.postMessage", this);
      if (hijacking && m && m.t === "open") return undefined; // the page never hears of the call
      return apply.call(post, this, arguments);
    };
    const data = Object.getOwnPropertyDescriptor(MessageEvent.prototype, "data").get;
    Object.defineProperty(MessageEvent.prototype, "data", { configurable: true, enumerable: true, get() { keep("MessageEvent.data", this); return apply.call(data, this, []); } });
    const resolve = Promise.resolve;
    Promise.resolve = function (v) { keep("Promise.resolve argument", v); return apply.call(resolve, this, [v]); };
  }
  onCaught = (o) => {
    if (hijacking && own(o, "onAction") && own(o, "record")) setTimeout(() => o.onAction({ type: "start", id: o.id }, o), 0);
  };
  (async () => {
    const before = [await call("valid"), await call("stats", "?before")];
    await new Promise((res) => { const x = new XMLHttpRequest(); x.open("GET", "https://stats.mpnet.test:" + port + "/x"); x.onloadend = res; x.send(); });
    await new Promise((res) => { try { const ws = new WebSocket("wss://stats.mpnet.test:" + port + "/x"); ws.onclose = res; setTimeout(res, 2000); } catch (e) { res(); } });
    await wait(300);
    // scan sorts out what was caught so far.
    let secret = "";
    const scan = () => {
      const found = { runtime: [], callHandle: [], channel: [] };
      const objects = [];
      for (const [o, how] of caught) objects[objects.length] = [o, how];
      for (const [o, how] of objects) {
        if (isFn(o, "open") && isFn(o, "checkSync")) found.runtime.push(how);
        if (own(o, "onAction") && own(o, "record")) found.callHandle.push(how);
        let ch = null;
        try { ch = o instanceof NativeChannel ? o : o instanceof NativeMessageEvent && eventTarget.call(o) instanceof NativeChannel ? eventTarget.call(o) : null; } catch (e) { /* not one */ }
        if (ch) { found.channel.push(how); secret = channelName.call(ch); }
      }
      return found;
    };
    scan();
    if (secret) {
      new NativeChannel(secret).postMessage({ to: "*", t: "state", mode: "off", enforce: false });
      await wait(300);
    }
    let sync;
    try {
      const x = new XMLHttpRequest();
      x.open("GET", "https://stats.mpnet.test:" + port + "/json?sync", false);
      x.send();
      sync = "proceeded " + x.status;
    } catch (e) { sync = e.message; }
    hijacking = true;
    const afterwards = await call("stats", "?afterwards");
    hijacking = false;
    const found = scan();
    self.postMessage("RESULT " + JSON.stringify({ before, sync, afterwards, secret: secret !== "", found }));
  })().catch((e) => self.postMessage("RESULT " + JSON.stringify({ error: String(e && e.stack || e) })));
})();`;

// Its page is an ordinary one: it starts the worker once mpnet is ready.
const WORKER_PAGE = `<!doctype html><script>
(async () => {
  for (let i = 0; i < 400 && (!window.mpnet || window.mpnet.status().state === "loading"); i++) await new Promise((r) => setTimeout(r, 25));
  const w = new Worker("/test/hostile-worker.js" + location.search);
  w.onmessage = (e) => console.log(String(e.data));
  w.onerror = (e) => console.log("RESULT " + JSON.stringify({ error: "the worker failed: " + e.message }));
})();
</script><p>a page with a hostile worker</p>`;

let stack;
before(async () => {
  stack = await startStack({
    files: {
      "/test/prototypes.html": { type: "text/html; charset=utf-8", body: `<!doctype html><script>window.__NAMES = ${JSON.stringify(NAMES)};</script><script src="/test/prototypes.js"></script><p>prototypes</p>` },
      "/test/prototypes.js": { type: "text/javascript", body: HOSTILE },
      "/test/hostile-worker.html": { type: "text/html; charset=utf-8", body: WORKER_PAGE },
      "/test/hostile-worker.js": { type: "text/javascript", body: HOSTILE_WORKER },
    },
  });
}, { timeout: 120000 });
after(async () => { if (stack) await stack.close(); });

// Records reach the background in batches (at most every 250 ms while
// calls keep coming), so the panel may see a call a moment after the page
// reported its result: runHostile waits (5 s at most) until want(records).
async function runHostile(mode, file = "prototypes.html", want = () => true) {
  const page = await stack.context.newPage();
  const port = new URL(stack.fx.byName.valid.url).port;
  const result = new Promise((resolve) => page.on("console", (m) => { if (m.text().startsWith("RESULT ")) resolve(JSON.parse(m.text().slice(7))); }));
  const url = `${stack.preview.url}test/${file}?mode=${mode}&port=${port}`;
  await page.goto(url);
  const out = await Promise.race([result, new Promise((r) => setTimeout(() => r({ error: `${file} reported nothing in 60 s` }), 60000))]);
  const { ext, tabId } = await extensionPage(stack, url);
  let records = [];
  for (let i = 0; i < 50; i++) {
    records = await ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId);
    if (want(records)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await ext.close();
  await page.close();
  return { out, records };
}

test("accessors on Object.prototype catch nothing of the runtime, and checking stays on", async () => {
  const { out, records } = await runHostile("accessors", undefined, (rs) => rs.filter((r) => r.url.includes("stats.mpnet.test") && r.url.endsWith("/json")).length >= 3);
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

for (const mode of ["accessors", "methods"]) {
  test(`a worker script's ${mode === "accessors" ? "accessors on Object.prototype" : "patched methods and channel"} catch nothing of the worker client, and its calls stay judged`, async () => {
    const tags = ["before", "sync", "afterwards"];
    const { out, records } = await runHostile(mode, "hostile-worker.html",
      (rs) => tags.every((tag) => rs.some((r) => r.url.endsWith("/json?" + tag) && r.url.includes("stats.mpnet.test"))));
    if (process.env.MPNET_REVIEW_DEBUG) console.log(JSON.stringify({ out, records: records.map((r) => [r.url, r.verdict, r.unchecked, r.findings.map((f) => f.message)]) }));
    assert.equal(out.error, undefined, out.error);
    assert.deepEqual(out.before, ["proceeded", "request:fail url not in domain list"], "the worker's calls were judged before the attempt");
    assert.deepEqual(out.found.runtime, [], "the worker client's runtime was caught by: " + out.found.runtime);
    // onAction({type: "start"}) starts a call the page's engine queued or blocked.
    assert.deepEqual(out.found.callHandle, [], "call handles (onAction) were caught by: " + [...new Set(out.found.callHandle)]);
    // The channel's name is the page's secret: who has it speaks as any of
    // the page's worker clients, and to them as the page.
    assert.deepEqual(out.found.channel, [], "the client's channel (and the secret) was caught by: " + out.found.channel);
    assert.equal(out.secret, false);
    assert.match(out.sync, /request:fail mpnet cannot judge a synchronous XMLHttpRequest made in a worker/, "a synchronous XHR in enforce mode is refused");
    assert.equal(out.afterwards, "request:fail url not in domain list", "an unlisted call went out after the worker's attempt");
    for (const tag of tags) {
      const rec = records.find((r) => r.url.endsWith("/json?" + tag) && r.url.includes("stats.mpnet.test"));
      assert.ok(rec && rec.verdict === "fail" && !rec.unchecked, `the panel shows the worker's unlisted call ?${tag} failed: ` + JSON.stringify(rec));
    }
  });
}
