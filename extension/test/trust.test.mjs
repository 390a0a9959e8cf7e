// The extension's trust boundary (issue 12, "The page can steer the
// background"): each attack a hostile page can make is refused, in real
// Chromium with the real extension. The page is untrusted; identity comes
// from the browser (sender); every message is checked against its schema;
// nothing a page sends acts on another tab, the mode, or another tab's
// Referer rule; the runtime's internals are out of the page's reach.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, openPreview, extensionPage, waitForAsync } from "../tools/harness.mjs";

let stack;
let victim; // an ordinary preview tab the attacks must not touch
let victimTab;
let ext;

before(async () => {
  stack = await startStack({ agent: true });
  victim = await openPreview(stack, "?victim");
  ({ ext, tabId: victimTab } = await extensionPage(stack, stack.preview.url + "?victim"));
  // The victim's Referer rule and records are in place.
  await victim.evaluate((u) => fetch(u).then((r) => r.text()), stack.fx.byName.valid.url + "json");
  await waitForAsync(ext, async (id) => (await chrome.runtime.sendMessage({ type: "getRecords", tabId: id })).length >= 1, victimTab, { timeout: 30000 });
}, { timeout: 120000 });

after(async () => { if (stack) await stack.close(); });

const rule = (tabId) => ext.evaluate(async (id) => (await chrome.declarativeNetRequest.getSessionRules()).find((r) => r.id === id) || null, tabId);
const records = (tabId) => ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId);
const badge = (tabId) => ext.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId);

test("a hostile page script reaches nothing of the runtime and cannot switch checking off", async () => {
  const page = await stack.context.newPage();
  try {
    await page.goto(stack.preview.url + "test/hostile.html");
    await page.waitForFunction(() => window.mpnet && window.mpnet.status().state !== "loading", null, { timeout: 20000 });
    const out = await page.evaluate(async (port) => {
      const h = window.__hostile;
      // A verdict listener's event must not lead to the runtime either.
      let target = null;
      const on = (e) => { target = e.target; };
      window.mpnet.addEventListener("verdict", on);
      const blocked = await fetch(`https://stats.mpnet.test:${port}/collect`).then(() => "proceeded", (e) => e.message);
      window.mpnet.removeEventListener("verdict", on);
      return {
        globals: h.runtimeGlobals, flipped: h.flipped, ports: h.ports.length, posted: h.posted, sawInit: h.sawInit,
        frozen: Object.isFrozen(window.mpnet), apiKeys: Object.keys(window.mpnet).sort(),
        status: window.mpnet.status(), blocked,
        targetKeys: target ? Object.keys(target).length : -1, targetIsPlain: target ? Object.getPrototypeOf(target) === EventTarget.prototype : false,
      };
    }, new URL(stack.fx.byName.valid.url).port);
    assert.equal(out.status.state, "ready", JSON.stringify(out.status));
    assert.deepEqual(out.globals, ["mpnet"], "only the documented API is a global");
    assert.equal(out.flipped, false, "there is no __mpnetRuntime to switch off");
    assert.equal(out.ports, 0, "the private port never reached page script");
    assert.equal(out.sawInit, false, "the bridge's init message never reached page script");
    assert.ok(!out.posted.some((t) => String(t).startsWith("to-fake")), "the runtime ignored the forged init: " + out.posted);
    assert.equal(out.frozen, true);
    assert.deepEqual(out.apiKeys, ["addEventListener", "check", "ready", "removeEventListener", "setBackground", "status"]);
    assert.equal(out.status.state, "ready");
    assert.equal(out.status.enabled, true);
    assert.equal(out.status.mode, "enforce");
    assert.equal(out.blocked, "request:fail url not in domain list", "checking is still on");
    assert.equal(out.targetKeys, 0);
    assert.equal(out.targetIsPlain, true, "a verdict event's target is a bare EventTarget");
  } finally {
    await page.close();
  }
});

test("with the private port in hand, a page still cannot act on another tab, forge another tab's records, clear OFF, or steer hostsim agent", async () => {
  // A script that ran before mpnet's document-start scripts (an init
  // script here; no page script can) takes the bridge's port: this is what
  // a page could do with it.
  const page = await stack.context.newPage();
  try {
    await page.addInitScript(() => {
      window.addEventListener("message", (e) => {
        if (e.data && e.data.__mpnet === "init" && e.ports[0]) {
          window.__stolen = e.ports[0];
          e.stopImmediatePropagation();
        }
      }, true);
    });
    await page.goto(stack.preview.url + "?attacker");
    await page.waitForFunction(() => window.__stolen);
    const { tabId: attackerTab } = await extensionPage(stack, stack.preview.url + "?attacker");
    const victimRule = await rule(victimTab);
    const victimRecords = (await records(victimTab)).length;
    assert.ok(victimRule, "the victim tab has its Referer rule");

    const answers = await page.evaluate(async ({ victimTab, port }) => {
      const p = window.__stolen;
      const replies = new Map();
      p.onmessage = (e) => { if (e.data && e.data.type === "reply") replies.set(e.data.id, e.data.value); };
      const ask = (msg, id) => new Promise((res) => {
        p.postMessage({ ...msg, replyTo: id });
        const t0 = Date.now();
        const poll = () => (replies.has(id) ? res(replies.get(id)) : Date.now() - t0 > 8000 ? res("no reply") : setTimeout(poll, 20));
        poll();
      });
      const rec = (id, url) => ({ id, api: "request", method: "GET", url, frame: location.href, startedAt: Date.now(), state: "blocked", verdict: "fail",
        rule: "R2", errMsg: "request:fail url not in domain list", proceeded: false, findings: [], queuedMs: 0, durationMs: 0, status: 0, mode: "enforce" });
      const out = {};
      // 1. The Referer rule of another tab (tabId in the message), widened
      // to hosts outside the configuration, and a Referer of our choosing.
      out.refererOther = await ask({ type: "referer", tabId: victimTab, referer: "https://appservice.wx.com/evil/0/page-frame.html", mode: "enforce", hosts: ["valid.mpnet.test", "stats.mpnet.test", "evil.example"] }, "r1");
      out.refererFree = await ask({ type: "referer", referer: "https://evil.example/", mode: "enforce", hosts: ["valid.mpnet.test"] }, "r2");
      // 2. Records and badge of another tab.
      p.postMessage({ type: "records", tabId: victimTab, records: [rec("forged-1", "https://victim.example/")] });
      // 3. Kinds of message a page may not send at all, and oversized ones.
      out.setTab = await ask({ type: "setTab", tabId: victimTab, mode: "off", enabled: false }, "r3");
      out.unknown = await ask({ type: "getRecords", tabId: victimTab }, "r4");
      out.tooMany = await ask({ type: "records", records: Array.from({ length: 501 }, (_, i) => rec("x" + i, "https://a.example/")) }, "r5");
      // 4. Make the background ask hostsim agent about any host and port.
      out.agent = await ask({ type: "tlsVerdict", server: "127.0.0.1:22" }, "r6");
      out.agentListed = await ask({ type: "tlsVerdict", server: `valid.mpnet.test:${port}` }, "r7");
      // 5. OFF, then a status that claims all is well.
      const status = (state) => ({ state, error: state === "failed" ? "broken" : "", mode: "enforce", enabled: true, hidden: false, background: false, referer: "", restarts: 0, inFlight: 0, queued: 0, sockets: 0, problems: [] });
      p.postMessage({ type: "status", status: status("failed") });
      await new Promise((r) => setTimeout(r, 300));
      p.postMessage({ type: "status", status: status("ready") });
      p.postMessage({ type: "records", records: [rec("own-1", "https://own.example/")] });
      await new Promise((r) => setTimeout(r, 500));
      return out;
    }, { victimTab, port: new URL(stack.fx.byName.valid.url).port });

    // The bridge refuses what is not a page message, and what breaks its schema.
    assert.equal(answers.setTab, null, "setTab is not a page message");
    assert.equal(answers.unknown, null, "getRecords is not a page message");
    assert.equal(answers.tooMany, null, "501 records in one message are refused");
    assert.equal(answers.refererFree, null, "a Referer that is not the client's format is refused");
    // tabId in a page message means nothing: the rule went to the sender's own tab.
    assert.deepEqual(answers.refererOther, { ok: true });
    assert.deepEqual(await rule(victimTab), victimRule, "the victim tab's Referer rule is unchanged");
    const own = await rule(attackerTab);
    assert.deepEqual(own.condition.tabIds, [attackerTab, -1], "the tab, and requests outside any tab (shared workers)");
    // The hosts the page named mean nothing: the rule covers the API hosts
    // of the origin's configuration, as the background reads them.
    const sorted = (x) => [...x].sort();
    assert.deepEqual(sorted(own.condition.requestDomains), sorted(victimRule.condition.requestDomains));
    assert.ok(!own.condition.requestDomains.includes("stats.mpnet.test") && !own.condition.requestDomains.includes("evil.example"), JSON.stringify(own.condition.requestDomains));
    assert.deepEqual(own.condition.initiatorDomains, ["localhost"]);
    // Records and badge: only the sender's tab.
    assert.equal((await records(victimTab)).length, victimRecords, "no forged record in the victim tab");
    assert.ok(!(await records(victimTab)).some((r) => r.id === "forged-1"));
    assert.ok((await records(attackerTab)).some((r) => r.id === "forged-1"), "the record went to the sender's own tab");
    // The agent is asked only about the configuration's hosts.
    assert.match(answers.agent.unavailable, /not in the configuration's domain lists/);
    assert.ok(answers.agentListed.verdict, "a listed host gets its verdict");
    // OFF stays until the tab navigates; the panel hears of the refused messages.
    assert.equal(await badge(attackerTab), "OFF");
    const st = await ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getTab", tabId: id }), attackerTab);
    assert.equal(st.status.state, "failed");
    assert.ok(st.status.rejected >= 1, JSON.stringify(st.status));
    assert.equal(await badge(victimTab), "", "the victim's badge is untouched");
  } finally {
    await page.close();
  }
});

test("a content script (the bridge's world) cannot name a tab, use extension-only messages, or watch another tab's panel", async () => {
  const page = await openPreview(stack, "?cs");
  const { tabId } = await extensionPage(stack, stack.preview.url + "?cs");
  await ext.evaluate(() => chrome.storage.local.set({ mpnetTestSecret: "s3cret" }));
  try {
    const cdp = await stack.context.newCDPSession(page);
    const contexts = [];
    cdp.on("Runtime.executionContextCreated", (e) => contexts.push(e.context));
    await cdp.send("Runtime.enable");
    const world = contexts.find((c) => c.auxData && c.auxData.type === "isolated" && c.auxData.isDefault === false && c.origin.startsWith("chrome-extension://"));
    assert.ok(world, "the bridge's isolated world is found");
    const run = async (expr) => (await cdp.send("Runtime.evaluate", { expression: expr, contextId: world.id, awaitPromise: true, returnByValue: true })).result.value;
    const before = (await records(victimTab)).length;
    const out = await run(`(async () => {
      const out = {};
      out.setTab = await chrome.runtime.sendMessage({ type: "setTab", tabId: ${victimTab}, enabled: false });
      out.getRecords = await chrome.runtime.sendMessage({ type: "getRecords", tabId: ${victimTab} });
      await chrome.runtime.sendMessage({ type: "records", tabId: ${victimTab}, records: [] });
      // What the extension keeps (pairing tokens, the team's token) is not
      // for the page's renderer: local storage is for trusted contexts only.
      out.local = await (async () => {
        try { const v = await chrome.storage.local.get(null); return "read " + Object.keys(v).join(","); } catch (e) { return "refused: " + e.message; }
      })();
      out.panel = await new Promise((res) => {
        const p = chrome.runtime.connect({ name: "panel:${victimTab}" });
        p.onMessage.addListener((m) => res("got " + m.type));
        p.onDisconnect.addListener(() => res("disconnected"));
        setTimeout(() => res("nothing"), 3000);
      });
      return out;
    })()`);
    assert.match(out.setTab.error, /unknown message type "setTab"/);
    assert.match(out.getRecords.error, /unknown message type "getRecords"/);
    assert.equal(out.panel, "disconnected", "a content script gets no panel port");
    assert.match(out.local, /^refused: /, "a content script cannot read the extension's local storage: " + out.local);
    const tab = await ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getTab", tabId: id }), victimTab);
    assert.equal(tab.enabled, true, "the victim tab is still enabled");
    assert.equal((await records(victimTab)).length, before);
    await cdp.detach();
  } finally {
    await ext.evaluate(() => chrome.storage.local.remove("mpnetTestSecret"));
    await page.close();
  }
  assert.ok(tabId >= 0);
});

test("the Referer rule is scoped to the configuration's API hosts and goes when the tab leaves the preview origin", async () => {
  const r = await rule(victimTab);
  assert.deepEqual(r.condition.tabIds, [victimTab, -1]);
  assert.ok(r.condition.requestDomains.includes("valid.mpnet.test"), JSON.stringify(r.condition));
  assert.ok(!r.condition.requestDomains.includes("stats.mpnet.test"));
  assert.deepEqual(r.condition.initiatorDomains, ["localhost"]);
  // Another site in the same tab (127.0.0.1 is not a preview origin here).
  await victim.goto(stack.preview.url.replace("localhost", "127.0.0.1"));
  await waitForAsync(ext, async (id) => !(await chrome.declarativeNetRequest.getSessionRules()).some((x) => x.id === id), victimTab);
});
