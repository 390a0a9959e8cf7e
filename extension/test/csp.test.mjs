// A preview whose Content-Security-Policy forbids WebAssembly (the header
// `script-src 'self'`, no 'wasm-unsafe-eval'): the page runtime cannot
// compile the module, so the same module runs in the extension (offscreen
// document) and the runtime drives it by messages. Every check keeps
// working, with the same answers as in the page; "checks are OFF" is only
// for when nothing can host the module. Real Chromium, the real extension.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, openPreview, REFERER } from "../tools/harness.mjs";

let stack;
let page;
let base;

before(async () => {
  stack = await startStack({ testHooks: true });
  page = await openPreview(stack, "?csp=nowasm");
  base = stack.fx.byName.valid.url;
}, { timeout: 120000 });

after(async () => { if (stack) await stack.close(); });

test("the page may not compile WebAssembly, and checks run in the extension instead", async () => {
  const premise = await page.evaluate(() => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])).then(() => "compiled", (e) => e.message));
  assert.match(premise, /Content Security Policy|disallowed/i, "the page's CSP refuses WebAssembly");
  const st = await page.evaluate(() => window.mpnet.status());
  assert.equal(st.state, "ready", st.error);
  assert.equal(st.placement, "extension");
  assert.ok(st.timings.compileRefused > 0, JSON.stringify(st.timings));
  assert.equal(st.referer, REFERER);
});

test("R1-R5, R8, R10 and mpnet.check give the in-page answers (fetch, XHR, WebSocket)", async () => {
  const out = await page.evaluate(async (base) => {
    const stats = base.replace("valid.", "stats.") + "collect";
    const f = await fetch(stats).then(() => "resolved", (e) => `${e.name}: ${e.message}`);
    const x = await new Promise((res) => {
      const r = new XMLHttpRequest();
      r.open("GET", stats);
      r.onerror = () => res(`error ${r.readyState} ${r.status} ${r.mpnetErrMsg}`);
      r.onload = () => res("load");
      r.send();
    });
    const w = await new Promise((res) => {
      const s = new WebSocket(stats.replace("https:", "wss:"));
      s.onclose = (e) => res(`close ${e.code} ${s.mpnetErrMsg}`);
    });
    const referer = await fetch(`${base}echo`).then((r) => r.json()).then((j) => j.headers.Referer);
    const gbk = await fetch(`${base}gbk`).then((r) => r.text());
    const gbkXHR = await new Promise((res) => {
      const r = new XMLHttpRequest();
      r.open("GET", `${base}gbk`);
      const seen = [];
      r.onreadystatechange = () => { if (r.readyState === 4) seen.push("rs4:" + r.responseText); };
      r.onload = () => seen.push("load:" + r.responseText);
      r.onloadend = () => res(seen);
      r.send();
    });
    const d = await window.mpnet.check({ api: "request", url: "https://0x7f.1/x" });
    return { f, x, w, referer, gbk, gbkXHR, rule: d.rule, host: d.host };
  }, base);
  assert.equal(out.f, "TypeError: request:fail url not in domain list");
  assert.equal(out.x, "error 4 0 request:fail url not in domain list");
  assert.equal(out.w, "close 1006 connectSocket:fail url not in domain list");
  assert.equal(String(out.referer), REFERER);
  assert.equal(out.gbk, "你好，世界");
  assert.deepEqual(out.gbkXHR, ["rs4:你好，世界", "load:你好，世界"], "XHR events wait for the converted body");
  assert.deepEqual([out.rule, out.host], ["R3", "127.0.0.1"]);
});

test("R7 and R6 hold across the message boundary: the 11th call waits, a timeout fires", async () => {
  const out = await page.evaluate(async (base) => {
    const events = [];
    const on = (e) => events.push([e.detail.url.split("i=")[1], e.detail.state]);
    window.mpnet.addEventListener("verdict", on);
    await Promise.all(Array.from({ length: 11 }, (_, i) => fetch(`${base}slow?ms=300&i=${i}`).then((r) => r.text())));
    window.mpnet.removeEventListener("verdict", on);
    const t0 = performance.now();
    const x = await new Promise((res) => {
      const r = new XMLHttpRequest();
      r.open("GET", `${base}slow?ms=3000`);
      r.timeout = 500;
      r.ontimeout = () => res(`timeout ${r.mpnetErrMsg} ${Math.round(performance.now() - t0)}`);
      r.onload = () => res("load");
      r.send();
    });
    return { queued: events.filter(([, s]) => s === "queued").map(([i]) => i), x, st: window.mpnet.status() };
  }, base);
  assert.deepEqual(out.queued, ["10"]);
  assert.match(out.x, /^timeout request:fail timeout \d+$/);
  assert.equal(out.st.inFlight, 0);
});

test("a synchronous XHR cannot be judged across the boundary: enforce mode refuses it and says why", async () => {
  const sync = await page.evaluate((base) => {
    try {
      const s = new XMLHttpRequest();
      s.open("GET", `${base}json`, false);
      s.send();
      return "sent";
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  }, base);
  assert.match(sync, /^NetworkError: .*request:fail mpnet cannot judge a synchronous XMLHttpRequest while its module runs in the extension/);
});

test("a trap in the extension-hosted module fails the call it was judging; a lost host is replaced and brought back to the engine's state", async () => {
  const trapped = await page.evaluate(async (base) => {
    window.mpnet.test.trapNext("open");
    const a = await fetch(`${base}json`).then(() => "resolved", (e) => e.message);
    const b = await fetch(`${base}json`).then((r) => r.status, (e) => e.message);
    return { a, b, restarts: window.mpnet.status().restarts };
  }, base);
  assert.match(trapped.a, /^request:fail mpnet's policy module failed on this call/);
  assert.equal(trapped.b, 200);
  assert.equal(trapped.restarts, 1);
  // A socket stays open while the host goes away: the new host must still
  // count it (the engine's state is replayed), and the configuration too.
  await page.evaluate((ws) => new Promise((res) => {
    window.__sock = new WebSocket(ws);
    window.__sock.onopen = res;
  }), stack.fx.byName.wss.url);
  await stack.worker.evaluate(() => chrome.offscreen.closeDocument());
  const after = await page.evaluate(async (base) => {
    const blocked = await fetch(base.replace("valid.", "stats.") + "collect").then(() => "proceeded", (e) => e.message);
    const ok = await fetch(`${base}json`).then((r) => r.status, (e) => e.message);
    const st = window.mpnet.status();
    window.__sock.close();
    return { blocked, ok, sockets: st.sockets, state: st.state };
  }, base);
  assert.deepEqual(after, { blocked: "request:fail url not in domain list", ok: 200, sockets: 1, state: "ready" });
});
