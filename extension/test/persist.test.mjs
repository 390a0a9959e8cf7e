// Nothing lost (issue 11, item 8): Chromium stops an idle MV3 service
// worker after about 30 s and its memory goes with it. The panel keeps
// every record of a tab since its last navigation (or across navigations
// with Preserve log) through such restarts, and the badge agrees with it.
// The test stops the worker the way Chromium does (DevTools protocol,
// ServiceWorker.stopAllWorkers) instead of waiting 30 s.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, openPreview, extensionPage, waitForAsync } from "../tools/harness.mjs";

let stack;
let page;
let ext;
let tabId;
let panel;

before(async () => {
  stack = await startStack();
  page = await openPreview(stack);
  ({ ext, tabId } = await extensionPage(stack, stack.preview.url));
  panel = await stack.context.newPage();
  await panel.goto(`chrome-extension://${stack.extensionId}/ui/panel.html?tab=${tabId}`);
}, { timeout: 120000 });

after(async () => { if (stack) await stack.close(); });

const port = () => new URL(stack.fx.byName.valid.url).port;

// calls makes n blocked calls (R2), one allowed and one with an R11 reminder.
function calls(n) {
  return page.evaluate(async ({ port, n }) => {
    for (let i = 0; i < n; i++) await fetch(`https://stats.mpnet.test:${port}/c?i=${i}`).catch(() => {});
    await fetch(`https://valid.mpnet.test:${port}/json`).then((r) => r.text());
    await fetch(`https://5xx.mpnet.test:${port}/x`).then((r) => r.text());
  }, { port: port(), n });
}

const records = () => ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId);
const badge = () => ext.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId);
// The panel's own counts line: "N calls · N would fail · N warnings".
const panelCounts = () => panel.evaluate(() => (document.getElementById("counts").textContent.match(/\d+/g) || []).map(Number));

// settle waits until the background holds n finished records and the panel
// shows the same counts as those records (the panel's last update can come
// a message after the background's).
async function settle(n) {
  const finished = (rs) => rs.filter((r) => r.state !== "running" && r.state !== "waiting").length;
  const triple = (rs) => [rs.length, rs.filter((r) => r.verdict === "fail").length, rs.filter((r) => r.verdict === "warn").length].join(",");
  const t0 = Date.now();
  let want = "";
  for (;;) {
    const rs = await records();
    want = triple(rs);
    const shown = (await panelCounts()).join(",");
    if (finished(rs) >= n && shown === want) return;
    if (Date.now() - t0 > 10000) throw new Error(`after 10 s: ${finished(rs)} of ${n} records finished; the panel shows ${shown}, the background holds ${want}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// stopWorker stops the extension's service worker, as Chromium does when it
// is idle, and wakes a new one (the next message starts it).
async function stopWorker() {
  const cdp = await stack.context.newCDPSession(ext);
  await cdp.send("ServiceWorker.enable");
  await cdp.send("ServiceWorker.stopAllWorkers");
  await cdp.detach();
}

test("records, badge and panel survive the service worker being stopped", async () => {
  await calls(2);
  await settle(4);
  const before = await records();
  assert.equal(before.length, 4);
  assert.deepEqual(await panelCounts(), [4, 2, 1]);
  assert.equal(await badge(), "2");

  await stopWorker();
  // The panel's port closed with the worker; it reconnects and gets the
  // kept records in its snapshot.
  await panel.waitForTimeout(1500);
  const after = await records();
  assert.deepEqual(after.map((r) => [r.id, r.verdict, r.state]), before.map((r) => [r.id, r.verdict, r.state]));
  assert.deepEqual(await panelCounts(), [4, 2, 1]);
  assert.equal(await badge(), "2");

  // Calls after the restart add to the same list.
  await calls(1);
  await settle(7);
  assert.equal((await records()).length, 7);
  assert.deepEqual(await panelCounts(), [7, 3, 2]);
  assert.equal(await badge(), "3");
});

test("a navigation starts a new list; with Preserve log the list goes on, across navigations and restarts", async () => {
  await page.reload();
  await page.waitForFunction(() => window.mpnet && window.mpnet.status().state === "ready");
  await waitForAsync(ext, async (id) => (await chrome.runtime.sendMessage({ type: "getRecords", tabId: id })).length === 0, tabId);
  await panel.waitForFunction(() => /^0\b/.test(document.getElementById("counts").textContent.trim()), null, { timeout: 5000 });
  assert.equal(await badge(), "");

  await panel.check("#preserve");
  await calls(1);
  await settle(3);
  await page.reload();
  await page.waitForFunction(() => window.mpnet && window.mpnet.status().state === "ready");
  await stopWorker();
  await panel.waitForTimeout(1500);
  await calls(0);
  await settle(5);
  assert.equal((await records()).length, 5);
  assert.deepEqual(await panelCounts(), [5, 1, 2]);
  assert.equal(await badge(), "1", "the badge counts the preserved records too");
  await panel.uncheck("#preserve");
});
