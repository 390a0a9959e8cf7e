// The engine's move into the page. Every page runtime starts on the module
// hosted by the extension (the offscreen module host); once the page has
// parsed, the bridge hands it the module's bytes, the page compiles them,
// and the engine switches to the in-page instance by replaying the remote
// engine's journal, when no message is in flight. These tests hold the
// switch (a test hook) to make each case happen on purpose: a sync XHR
// before it, calls in flight and queued across it, a trap after it, and a
// strict-CSP page that never switches. Real Chromium, the real extension.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, openPreview } from "../tools/harness.mjs";

let stack;
let page;
let base;

// A page whose first script holds the switch: the runtime (page.js, a
// document_start content script) has defined window.mpnet before it runs.
const HELD = "<!doctype html><meta charset=\"utf-8\"><title>held</title><script>window.mpnet.test.holdSwitch(true);</script><body>held</body>";

// The preview server looks its files up per request: pages that need the
// fixtures' URLs are added once the stack runs.
const files = { "/held.html": { type: "text/html; charset=utf-8", body: HELD } };

before(async () => {
  stack = await startStack({ testHooks: true, files });
  base = stack.fx.byName.valid.url;
  page = await stack.context.newPage();
  await page.goto(new URL("held.html", stack.preview.url).href);
  // Ready on the extension's module, and the page's own module compiled,
  // warmed and waiting for the switch.
  await page.waitForFunction(() => window.mpnet.status().state !== "loading" && window.mpnet.test.localState() === "ready", null, { timeout: 30000 });
}, { timeout: 120000 });

after(async () => { if (stack) await stack.close(); });

const syncXHR = (p, url) => p.evaluate((url) => {
  const recs = [];
  const on = (e) => recs.push(e.detail);
  window.mpnet.addEventListener("verdict", on);
  let out;
  try {
    const s = new XMLHttpRequest();
    s.open("GET", url, false);
    s.send();
    out = `sent ${s.status}`;
  } catch (e) {
    out = `${e.name}: ${e.message}`;
  }
  window.mpnet.removeEventListener("verdict", on);
  return { out, rec: recs.find((r) => r.rule === "sync" || r.transport === "xhr") || null };
}, url);

test("before the switch, the engine runs in the extension and a synchronous XHR fails with a record (it cannot be judged there)", async () => {
  const st = await page.evaluate(() => window.mpnet.status());
  assert.equal(st.state, "ready", st.error);
  assert.equal(st.placement, "extension");
  assert.equal(st.switching, true);
  const { out, rec } = await syncXHR(page, `${base}json`);
  assert.match(out, /^NetworkError: .*request:fail mpnet is still loading/);
  assert.ok(rec, "the refused sync XHR has a record");
  assert.equal(rec.state, "failed");
  assert.match(rec.findings.at(-1).message, /in-page module/);
});

test("calls in flight and queued cross the switch: the in-page engine takes over R7's pool and queue, and every call completes", async () => {
  const out = await page.evaluate(async (base) => {
    const st = () => window.mpnet.status();
    const order = [];
    const calls = [];
    // Ten calls that take 1.5 s hold the pool; the 11th waits in R7's queue.
    for (let i = 0; i < 11; i++) calls.push(fetch(i < 10 ? `${base}slow?ms=1500&i=${i}` : `${base}json?i=${i}`).then((r) => { order.push(i); return r.status; }, (e) => e.message));
    const until = async (f) => { for (let t = 0; t < 200 && !f(); t++) await new Promise((r) => setTimeout(r, 10)); return f(); };
    const before = await until(() => st().inFlight === 10 && st().queued === 1) && { placement: st().placement, inFlight: st().inFlight, queued: st().queued };
    window.mpnet.test.holdSwitch(false);
    const switched = await until(() => st().placement === "page");
    // The in-page engine knows the ten running calls and the queued one: a
    // 12th call waits as well, and the queue empties in FIFO order.
    calls.push(fetch(`${base}json?i=11`).then((r) => { order.push(11); return r.status; }, (e) => e.message));
    const after = { placement: st().placement, inFlight: st().inFlight, queued: st().queued };
    const statuses = await Promise.all(calls);
    const end = st();
    return { before, switched, after, statuses, order, end: { inFlight: end.inFlight, queued: end.queued, switching: end.switching }, timings: end.timings };
  }, base);
  assert.deepEqual(out.before, { placement: "extension", inFlight: 10, queued: 1 });
  assert.ok(out.switched, "the engine switched while calls were in flight: " + JSON.stringify(out.timings));
  assert.deepEqual(out.after, { placement: "page", inFlight: 10, queued: 2 });
  assert.deepEqual(out.statuses, Array(12).fill(200));
  // The queued calls (fast ones) waited for the slow ones to free a place.
  assert.deepEqual(out.order.slice(-2).sort((a, b) => a - b), [10, 11], "the queued calls went last: " + out.order.join(","));
  assert.deepEqual(out.end, { inFlight: 0, queued: 0, switching: false });
});

test("after the switch, a synchronous XHR is judged in the page: an allowed one goes out, an unlisted host is refused", async () => {
  const ok = await syncXHR(page, `${base}json`);
  assert.equal(ok.out, "sent 200");
  const blocked = await syncXHR(page, base.replace("valid.", "stats.") + "collect");
  assert.match(blocked.out, /^NetworkError: .*request:fail url not in domain list/);
  assert.equal(blocked.rec.verdict, "fail");
});

test("a trap after the switch replaces the in-page instance: the call fails with a record, the engine stays in the page with its state", async () => {
  const out = await page.evaluate(async ({ base, ws }) => {
    const sock = await new Promise((res) => {
      const s = new WebSocket(ws);
      s.onopen = () => res(s);
    });
    window.mpnet.test.trapNext("open");
    const trapped = await fetch(`${base}json`).then(() => "resolved", (e) => e.message);
    const blocked = await fetch(base.replace("valid.", "stats.") + "collect").then(() => "proceeded", (e) => e.message);
    const ok = await fetch(`${base}json`).then((r) => r.status, (e) => e.message);
    const st = window.mpnet.status();
    sock.close();
    return { trapped, blocked, ok, restarts: st.restarts, placement: st.placement, sockets: st.sockets };
  }, { base, ws: stack.fx.byName.wss.url });
  assert.match(out.trapped, /^request:fail mpnet's policy module failed on this call/);
  assert.deepEqual({ ...out, trapped: "" }, { trapped: "", blocked: "request:fail url not in domain list", ok: 200, restarts: 1, placement: "page", sockets: 1 });
});

test("a page whose CSP forbids WebAssembly stays on the extension's module: it never asks for the bytes", async () => {
  const p = await openPreview(stack, "?csp=nowasm");
  try {
    // Well after DOMContentLoaded, when another page would have switched.
    await p.waitForTimeout(1500);
    const st = await p.evaluate(() => ({ ...window.mpnet.status(), local: window.mpnet.test.localState() }));
    assert.equal(st.state, "ready", st.error);
    assert.equal(st.placement, "extension");
    assert.equal(st.switching, false);
    assert.equal(st.local, "");
    assert.equal(st.timings.localAsked, undefined, JSON.stringify(st.timings));
    const blocked = await p.evaluate((u) => fetch(u).then(() => "proceeded", (e) => e.message), base.replace("valid.", "stats.") + "collect");
    assert.equal(blocked, "request:fail url not in domain list");
  } finally {
    await p.close();
  }
});

test("a page whose load event does not come (an image that hangs) still gets its own module, 5 s after DOMContentLoaded", async () => {
  files["/hang.html"] = { type: "text/html; charset=utf-8", body: `<!doctype html><meta charset="utf-8"><title>hang</title><body><img src="${base}slow?ms=60000"></body>` };
  const p = await stack.context.newPage();
  try {
    await p.goto(new URL("hang.html", stack.preview.url).href, { waitUntil: "domcontentloaded" });
    await p.waitForFunction(() => window.mpnet.status().placement === "page", null, { timeout: 20000 });
    const out = await p.evaluate(() => ({
      readyState: document.readyState,
      dcl: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
      asked: window.mpnet.status().timings.localAsked,
    }));
    assert.equal(out.readyState, "interactive", "the load event has not come");
    assert.ok(out.asked - out.dcl >= 4900, JSON.stringify(out));
  } finally {
    await p.close();
  }
});
