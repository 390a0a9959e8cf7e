// The extension with the team service: the real extension in Chromium,
// connected in its options page to a real mpnet-team (dist/mpnet-team, on
// loopback). The team's configuration replaces the baked one from the
// next page load; calls the preview finds wrong reach the service's
// counts; an outage of the service and a restart of the service worker
// lose nothing and count nothing twice; the panel says the configuration
// is the team's.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { startStack, openPreview, demoConfig, root, APPID } from "../tools/harness.mjs";
import { startTeam, api } from "../tools/team.mjs";

let stack;
let team;
let options;
const artifacts = path.join(root, "test-results");

// The team lists one host fewer than the baked configuration (5xx), so
// which one applies shows in the page's own decisions.
const teamConfig = (fx) => {
  const c = demoConfig(fx);
  return { ...c, domains: { ...c.domains, request: c.domains.request.filter((h) => !h.includes("5xx")) } };
};

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startStack();
  team = await startTeam(stack.dir, APPID, teamConfig(stack.fx));
  options = await stack.context.newPage();
  await options.goto(`chrome-extension://${stack.extensionId}/ui/options.html`);
}, { timeout: 120000 });

after(async () => {
  if (stack) await stack.close();
  if (team) await team.stop();
});

const send = (msg) => options.evaluate((m) => chrome.runtime.sendMessage(m), msg);
const teamStatus = () => send({ type: "teamGet" });

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const url5xx = () => stack.fx.byName["5xx"].url;
const unlisted = (n) => `https://unlisted-${n}.mpnet.test:${new URL(stack.fx.byName.valid.url).port}/api`;
const check = (page, url) => page.evaluate((u) => window.mpnet.check({ api: "request", url: u }), url);
const fetchIn = (page, url) => page.evaluate((u) => fetch(u).then(() => "ok", (e) => String(e)), url);
const total = async () => (await team.summary()).violations.reduce((n, v) => n + v.count, 0);

test("connecting in the options page pulls the team's configuration", async () => {
  let page = await openPreview(stack);
  assert.equal((await check(page, url5xx())).allowed, true, "before connecting, the baked configuration lists 5xx");
  await page.close();

  await options.fill("#teamURL", team.url);
  await options.fill("#teamToken", team.member);
  await options.click("#teamConnect");
  await options.waitForFunction((appid) => document.getElementById("teamStatus").innerText.includes(appid), APPID, { timeout: 15000 });
  const st = await teamStatus();
  assert.equal(st.connected, true);
  assert.equal(st.appid, APPID);
  assert.equal(st.role, "member");
  assert.equal(st.config.version, 1);
  assert.ok(st.config.checkedAt > Date.now() - 60000, "checked just now");
  await options.screenshot({ path: path.join(artifacts, "options-team.png"), fullPage: true });

  page = await openPreview(stack);
  const d = await check(page, url5xx());
  assert.equal(d.allowed, false, "the team's configuration does not list 5xx");
  assert.equal(d.rule, "R2");
  await page.close();
});

test("a wrong token or a page-like sender is refused", async () => {
  const bad = await send({ type: "teamConnect", url: team.url, token: "mpnet_aaaaaaaaaaaaaaaa_" + "A".repeat(43) });
  assert.equal(bad.ok, false);
  assert.match(bad.error, /401/);
  assert.equal((await teamStatus()).connected, true, "the working connection stays");
  const forged = await send({ type: "teamConnect", url: team.url, token: team.member, extra: 1 });
  assert.equal(forged.ok, false);
  assert.match(forged.error, /unexpected field/);
  // A content script (the bridge, or a page through it) cannot send team
  // messages: the bridge relays only its own four types, and the
  // background refuses senders whose URL is not the extension's (unit
  // tests: teamcore.test.mjs). A page posting one gets nothing.
  const page = await openPreview(stack);
  const answered = await page.evaluate(() => new Promise((resolve) => {
    window.addEventListener("message", (e) => { if (e.data && e.data.type === "reply") resolve("answered"); });
    window.postMessage({ type: "teamDisconnect", replyTo: 1 }, "*");
    setTimeout(() => resolve("nothing"), 1000);
  }));
  assert.equal(answered, "nothing");
  assert.equal((await teamStatus()).connected, true);
  await page.close();
});

test("violations reach the service; an outage and a service-worker restart lose and double nothing", { timeout: 120000 }, async () => {
  const page = await openPreview(stack);
  assert.match(await fetchIn(page, unlisted(1)), /url not in domain list/);
  await until("the first report to be counted", async () => (await total()) === 1);

  // The service goes away; three more violations queue up.
  await team.stop();
  for (const n of [2, 3, 4]) assert.match(await fetchIn(page, unlisted(n)), /url not in domain list/);
  const queued = await until("three queued reports", async () => {
    const s = await teamStatus();
    return s.queue.waiting === 3 && s.queue.lastError ? s : null;
  }, 30000);
  assert.match(queued.queue.lastError, /offline/);
  assert.ok(queued.queue.nextRetry > Date.now(), "a retry is scheduled");

  // The service worker stops (its memory is gone); the queue is in storage.
  const cdp = await stack.context.newCDPSession(options);
  await cdp.send("ServiceWorker.enable");
  await cdp.send("ServiceWorker.stopAllWorkers");
  await new Promise((r) => setTimeout(r, 500));

  // The service comes back; the worker wakes up and sends the queue.
  await team.start();
  await until("the queue to be sent", async () => {
    const s = await send({ type: "teamSync" });
    return s.ok && s.status.queue.waiting === 0 ? s : null;
  }, 30000);
  assert.equal(await total(), 4, "every violation counted once");
  // Sending again (the alarm, another sync) adds nothing.
  await send({ type: "teamSync" });
  assert.equal(await total(), 4);
  const s = await team.summary();
  const hosts = s.violations.map((v) => v.host).sort();
  assert.deepEqual(hosts, [1, 2, 3, 4].map((n) => `unlisted-${n}.mpnet.test`));
  for (const v of s.violations) assert.deepEqual(v.reporters.map((r) => r.name), ["alice"]);
  await page.close();
});

test("the panel says the configuration is the team's and how fresh it is", async () => {
  const page = await openPreview(stack);
  const tabId = await options.evaluate(async (u) => (await chrome.tabs.query({})).find((t) => t.url && t.url.startsWith(u)).id, stack.preview.url);
  const panel = await stack.context.newPage();
  await panel.setViewportSize({ width: 1400, height: 700 });
  await panel.goto(`chrome-extension://${stack.extensionId}/ui/panel.html?tab=${tabId}`);
  await panel.waitForFunction(() => /Team config v1/.test(document.getElementById("teamPill").textContent), null, { timeout: 15000 });
  await panel.screenshot({ path: path.join(artifacts, "panel-team.png") });
  await panel.close();
  await page.close();
});

test("the dashboard lists what the extension reported", async () => {
  const dash = await stack.context.newPage();
  await dash.setViewportSize({ width: 1300, height: 1100 });
  await dash.goto(`${team.dashboard}#token=${team.member}`);
  await dash.waitForFunction(() => document.body.innerText.includes("unlisted-4.mpnet.test"), null, { timeout: 15000 });
  const text = await dash.evaluate(() => document.body.innerText);
  assert.match(text, /Release gate: FAIL/);
  assert.match(text, /https:\/\/unlisted-1\.mpnet\.test/, "hosts to add");
  assert.equal(await dash.evaluate(() => location.hash), "", "the token left the address bar");
  await dash.screenshot({ path: path.join(artifacts, "dashboard.png"), fullPage: true });
  const r = await api(team.url, team.member, "GET", `/v1/projects/${APPID}/gate`);
  assert.equal(r.body.pass, false);
  await dash.close();
});

test("disconnecting returns to the browser's own configuration", async () => {
  const st = await send({ type: "teamDisconnect" });
  assert.equal(st.ok, true);
  assert.equal(st.status.connected, false);
  const page = await openPreview(stack);
  assert.equal((await check(page, url5xx())).allowed, true);
  await page.close();
});
