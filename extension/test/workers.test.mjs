// Workers (issue 11, item 3): fetch, XHR and WebSocket in dedicated workers
// (classic and module) and shared workers the preview starts are judged by
// the page's engine: the client's errMsg, the fixed Referer, records in the
// panel, one pool of 10 and one socket cap for the page and its workers.
// Real Chromium, the real extension, real workers from the test pages.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, openPreview, extensionPage, REFERER, waitForAsync } from "../tools/harness.mjs";

let stack;
let page;
let valid;
let stats;

before(async () => {
  stack = await startStack();
  page = await openPreview(stack, "test/workers.html");
  valid = stack.fx.byName.valid.url;
  stats = valid.replace("valid.", "stats.");
  // The tab's Referer rule is in place (the page's own calls carry it)
  // before the workers' calls are compared with the page's.
  await waitForAsync(page, async (u) => (await fetch(u).then((r) => r.json())).headers.Referer, valid + "echo", { timeout: 10000, every: 200 });
}, { timeout: 120000 });

after(async () => { if (stack) await stack.close(); });

for (const kind of ["classic", "module", "shared"]) {
  test(`a ${kind} worker's calls are judged by the page's engine and recorded`, async () => {
    const out = await page.evaluate(async ({ kind, valid, stats, wss }) => {
      const h = window.workers.start(kind);
      const r = (cmd) => window.workers.run(h, cmd);
      return {
        isWorker: kind === "shared" ? h.w instanceof SharedWorker : h.w instanceof Worker,
        blocked: await r({ op: "fetch", url: stats + "collect?" + kind }),
        allowed: await r({ op: "fetch", url: valid + "echo", json: true }),
        xhr: await r({ op: "xhr", url: stats + "x?" + kind }),
        ws: await r({ op: "ws", url: wss.replace("wss.", "stats.") }),
        where: await r({ op: "where" }),
      };
    }, { kind, valid, stats, wss: stack.fx.byName.wss.url });
    assert.equal(out.isWorker, true, "instanceof keeps working");
    assert.equal(out.blocked, "request:fail url not in domain list");
    assert.equal(String(out.allowed.headers.Referer), REFERER, "the Referer rule covers the worker's calls");
    assert.equal(out.xhr, "error request:fail url not in domain list");
    assert.equal(out.ws, "close 1006 connectSocket:fail url not in domain list");
    const script = kind === "module" ? "worker.mjs" : kind === "shared" ? "shared.js" : "worker.js";
    assert.equal(out.where.href, stack.preview.url + "test/" + script, "self.location names the worker's script, not its bootstrap");
    assert.equal(out.where.request, stack.preview.url + "test/data.json", "relative URLs resolve against the worker's script");
    if (kind === "classic") assert.equal(out.where.helper, "helper.js", "relative importScripts works");
    const { ext, tabId } = await extensionPage(stack, stack.preview.url + "test/workers.html");
    await waitForAsync(ext, async ({ id, kind }) => (await chrome.runtime.sendMessage({ type: "getRecords", tabId: id })).some((r) => r.url.endsWith("collect?" + kind)), { id: tabId, kind }, { timeout: 30000 });
    const rec = (await ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId)).find((r) => r.url.endsWith("collect?" + kind));
    await ext.close();
    assert.equal(rec.verdict, "fail");
    assert.equal(rec.rule, "R2");
    assert.match(rec.frame, new RegExp(`test/${script.replace(".", "\\.")} \\(`), "the record names the worker");
  });
}

test("the page and its workers share one pool of 10 and one cap of 5 sockets", async () => {
  const out = await page.evaluate(async ({ valid, wss }) => {
    const events = [];
    const on = (e) => { if (e.detail.state === "queued") events.push(e.detail.url.split("i=")[1]); };
    window.mpnet.addEventListener("verdict", on);
    const a = window.workers.start("classic");
    const b = window.workers.start("module");
    await window.workers.run(a, { op: "where" }); // both running before the calls start
    await window.workers.run(b, { op: "where" });
    const page = Array.from({ length: 6 }, (_, i) => fetch(`${valid}slow?ms=600&i=p${i}`).then((r) => r.text()));
    await new Promise((r) => setTimeout(r, 100));
    const fromA = window.workers.run(a, { op: "fetchMany", urls: Array.from({ length: 3 }, (_, i) => `${valid}slow?ms=600&i=a${i}`) });
    await new Promise((r) => setTimeout(r, 100));
    const fromB = window.workers.run(b, { op: "fetchMany", urls: Array.from({ length: 3 }, (_, i) => `${valid}slow?ms=600&i=b${i}`) });
    await Promise.all([...page, fromA, fromB]);
    window.mpnet.removeEventListener("verdict", on);
    // Sockets: 3 from the page, 2 kept open by a worker, then one more from each.
    const pageSockets = await Promise.all(Array.from({ length: 3 }, () => new Promise((res) => {
      const s = new WebSocket(wss);
      s.onopen = () => res(s);
    })));
    const kept = [await window.workers.run(a, { op: "ws", url: wss, keep: true }), await window.workers.run(a, { op: "ws", url: wss, keep: true })];
    const sixthWorker = await window.workers.run(b, { op: "ws", url: wss });
    // In the page the engine answers at once: a socket refused then throws
    // from its constructor, as connectSocket fails through fail (R15).
    const sixthPage = await new Promise((res) => {
      try {
        const s = new WebSocket(wss);
        s.onopen = () => res("open");
        s.onclose = (e) => res(`close ${e.code} ${s.mpnetErrMsg}`);
      } catch (e) {
        res(`throw ${String(e)}`);
      }
    });
    const sockets = window.mpnet.status().sockets;
    for (const s of pageSockets) s.close();
    return { queued: events, kept, sixthWorker, sixthPage, sockets };
  }, { valid, wss: stack.fx.byName.wss.url });
  assert.deepEqual(out.queued, ["b1", "b2"], "the 11th and 12th calls (from a worker) wait for the page's pool");
  assert.deepEqual(out.kept, ["open", "open"]);
  assert.equal(out.sixthWorker, "close 1006 connectSocket:fail exceed max task count");
  assert.equal(out.sixthPage, "throw connectSocket:fail exceed max task count");
  assert.equal(out.sockets, 5);
});

test("terminating a worker frees the places its calls held", async () => {
  const out = await page.evaluate(async (valid) => {
    const h = window.workers.start("classic");
    window.workers.run(h, { op: "fetchMany", urls: Array.from({ length: 4 }, (_, i) => `${valid}slow?ms=5000&i=t${i}`) });
    const t0 = performance.now();
    while (window.mpnet.status().inFlight < 4 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    const during = window.mpnet.status().inFlight;
    h.w.terminate();
    await new Promise((r) => setTimeout(r, 100));
    return { during, after: window.mpnet.status().inFlight };
  }, valid);
  assert.ok(out.during >= 4, JSON.stringify(out));
  assert.equal(out.after, 0);
});
