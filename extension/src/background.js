// The background service worker: per-origin configuration, per-tab state
// (enabled, mode, simulated background), the fixed Referer as a
// declarativeNetRequest session rule scoped to the preview tab (R8), the
// call records behind the DevTools panel, and the toolbar badge.

import { MpnetModule } from "../../wasm/loader.js";
import { initHops, enrichHops, forgetHops } from "./hops.js";
import { isTeamMessage, teamMessage, teamFiles, teamRecords } from "./team.js"; // the team service (team.js)

const MAX_RECORDS = 5000;
const DEFAULT_TAB = { enabled: true, mode: "", background: false };

// tabId -> {records: Map, status, preserve, origin}
const tabs = new Map();
// tabId -> Set<Port>
const panels = new Map();

let defaultsPromise = null;
function defaults() {
  if (!defaultsPromise) {
    defaultsPromise = fetch(chrome.runtime.getURL("defaults.json")).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  }
  return defaultsPromise;
}

async function settings() {
  const s = await chrome.storage.local.get(["origins"]);
  return { origins: s.origins || {} };
}

function tabInfo(tabId) {
  let t = tabs.get(tabId);
  if (!t) {
    t = { records: new Map(), status: null, preserve: false, origin: "", tls: new Map() };
    tabs.set(tabId, t);
  }
  return t;
}

async function tabState(tabId) {
  const key = "tab:" + tabId;
  const s = await chrome.storage.session.get(key);
  return { ...DEFAULT_TAB, ...(s[key] || {}) };
}

async function setTabState(tabId, patch) {
  const next = { ...(await tabState(tabId)), ...patch };
  await chrome.storage.session.set({ ["tab:" + tabId]: next });
  return next;
}

/** filesFor returns the configuration files for a page origin. */
async function filesFor(origin) {
  const team = await teamFiles(); // while connected to the team service, its configuration (team.js)
  if (team) return team;
  const { origins } = await settings();
  if (origins[origin] && origins[origin].files && origins[origin].files.length) return origins[origin].files;
  const d = await defaults();
  return d.files || [];
}

// The Referer rule (R8): every request of the preview tab carries the
// client's fixed Referer. The runtime asks for it once it knows the value.
async function setReferer(tabId, referer) {
  const rules = referer ? [{
    id: tabId,
    priority: 1,
    action: { type: "modifyHeaders", requestHeaders: [{ header: "referer", operation: "set", value: referer }] },
    condition: { tabIds: [tabId], resourceTypes: ["xmlhttprequest", "websocket", "other"] },
  }] : [];
  await chrome.declarativeNetRequest.updateSessionRules({ removeRuleIds: [tabId], addRules: rules });
}

// installedReferer is the Referer the tab's rule sets now ("" for none): a
// reload keeps the rule, and the runtime skips a round trip when it is
// already the one it needs.
async function installedReferer(tabId) {
  const [rule] = await chrome.declarativeNetRequest.getSessionRules({ ruleIds: [tabId] });
  const h = rule && rule.action.requestHeaders && rule.action.requestHeaders[0];
  return (h && h.value) || "";
}

// R12 in the browser. The extension cannot see the certificate chain a
// server sends or probe its TLS versions, so, once the user opts in (the
// agent's URL in the options, or baked by the build), it asks a locally
// running `hostsim agent`, which gathers the facts natively and has the same
// module judge them. Reports ({facts, verdict}) are cached per host:port for
// the session; the panel gets each tab's reports once (type "tls") and shows
// them for the records that name them (tlsKey).
const tlsCache = new Map();
const sentTLS = new Set(); // "tabId|host:port" verdicts already handed to the tab's runtimes

async function agentURL() {
  const s = await chrome.storage.local.get("agent");
  if (typeof s.agent === "string") return s.agent.replace(/\/+$/, "");
  return ((await defaults()).agent || "").replace(/\/+$/, "");
}

function tlsTarget(url) {
  try {
    const u = new URL(url);
    if (u.protocol !== "https:" && u.protocol !== "wss:") return null;
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port || "443" };
  } catch (e) {
    return null;
  }
}

function tlsReport(target) {
  const key = `${target.host}:${target.port}`;
  if (!tlsCache.has(key)) {
    tlsCache.set(key, (async () => {
      const base = await agentURL();
      const { agentToken } = await chrome.storage.local.get("agentToken");
      if (!base || !agentToken) return null;
      // The pairing token: the agent answers no one else (docs/RATIONALE.md).
      const r = await fetch(`${base}/v1/cert?host=${encodeURIComponent(target.host)}&port=${target.port}`, { headers: { Authorization: `Bearer ${agentToken}` } });
      if (!r.ok) return null;
      const report = await r.json();
      return report && report.verdict && typeof report.verdict === "object" ? report : null;
    })().catch(() => null));
  }
  return tlsCache.get(key);
}

/** applyTLS adds the R12 findings to a record once; reports whether it changed. */
function applyTLS(record, verdict) {
  if (!verdict || record.tlsChecked) return false;
  record.tlsChecked = true;
  record.tlsKey = `${verdict.host}:${verdict.port}`;
  for (const f of verdict.findings || []) {
    record.findings.push({ rule: f.rule, severity: f.severity, message: `${f.message} (${(f.platforms || []).join(", ")})`, fix: f.fix, console: "", list: "", entry: "" });
  }
  if (!verdict.ok) {
    record.verdict = "fail";
    if (!record.rule) record.rule = "R12";
    if (!record.errMsg) record.errMsg = verdict.errMsg;
  } else if ((verdict.findings || []).length && record.verdict === "ok") {
    record.verdict = "warn";
    if (!record.rule) record.rule = "R12";
  }
  return true;
}

function checkTLS(tabId, record) {
  const target = tlsTarget(record.url);
  if (!target || ["R1", "R2", "R3", "R5"].includes(record.rule) && record.state === "blocked") return;
  tlsReport(target).then((report) => {
    const v = report && report.verdict;
    if (v && !sentTLS.has(`${tabId}|${v.host}:${v.port}`)) {
      sentTLS.add(`${tabId}|${v.host}:${v.port}`);
      chrome.tabs.sendMessage(tabId, { type: "tls", verdict: v }).catch(() => {});
    }
    const t = tabs.get(tabId);
    const key = v && `${v.host}:${v.port}`;
    if (t && v && !t.tls.has(key)) {
      t.tls.set(key, report);
      toPanels(tabId, { type: "tls", key, report });
    }
    const cur = t && t.records.get(record.id);
    if (cur && applyTLS(cur, v)) {
      toPanels(tabId, { type: "record", record: cur });
      updateBadge(tabId);
    }
  });
}

function counts(t) {
  let fail = 0, warn = 0;
  for (const r of t.records.values()) {
    if (r.verdict === "fail") fail++;
    else if (r.verdict === "warn") warn++;
  }
  return { calls: t.records.size, fail, warn };
}

// updateBadge shows the tab's count of violations (red) or warnings
// (amber), or OFF when checks cannot run; it touches the badge only when
// what it shows changes.
function updateBadge(tabId) {
  const t = tabs.get(tabId);
  if (!t) return;
  let text, color;
  if (t.status && t.status.state === "failed") {
    text = "OFF";
    color = "#d93025";
  } else {
    const c = counts(t);
    text = c.fail ? String(c.fail) : c.warn ? String(c.warn) : "";
    color = c.fail ? "#d93025" : "#f29900";
  }
  if (t.badge === text + color) return;
  t.badge = text + color;
  chrome.action.setBadgeBackgroundColor({ tabId, color });
  chrome.action.setBadgeText({ tabId, text });
}

function toPanels(tabId, msg) {
  for (const p of panels.get(tabId) || []) {
    try { p.postMessage(msg); } catch (e) { /* closed */ }
  }
}

function clearTab(tabId) {
  const t = tabInfo(tabId);
  t.records.clear();
  t.badge = null;
  updateBadge(tabId);
  toPanels(tabId, { type: "snapshot", records: [], status: t.status, tls: [...t.tls] });
}

let validator = null;
async function validate(files) {
  if (!validator) {
    const bytes = await (await fetch(chrome.runtime.getURL("mpnet.wasm"))).arrayBuffer();
    validator = await MpnetModule.load(bytes);
  }
  return validator.configure({ files, dryRun: true });
}

async function handle(msg, sender) {
  const tabId = msg.tabId !== undefined ? msg.tabId : sender.tab && sender.tab.id;
  switch (msg.type) {
    case "hello": {
      const origin = sender.origin || new URL(msg.url).origin;
      const t = tabInfo(tabId);
      if (sender.frameId === 0) t.origin = origin;
      const [state, files, referer] = await Promise.all([tabState(tabId), filesFor(origin), installedReferer(tabId)]);
      return { files, tab: { ...state, mode: state.mode || "" }, referer };
    }
    case "referer": {
      const state = await tabState(tabId);
      const mode = msg.mode || state.mode;
      await setReferer(tabId, state.enabled && mode === "enforce" ? msg.referer : "");
      return { ok: true };
    }
    case "records": {
      const t = tabInfo(tabId);
      for (const record of msg.records || []) {
        if (!t.records.has(record.id) && t.records.size >= MAX_RECORDS) {
          t.records.delete(t.records.keys().next().value);
        }
        enrichHops(tabId, record); // R14: every hop the browser saw (hops.js)
        t.records.set(record.id, record);
        checkTLS(tabId, record);
      }
      teamRecords(tabId, msg.records); // queued for the team service (team.js)
      toPanels(tabId, { type: "records", records: msg.records || [] });
      updateBadge(tabId);
      return;
    }
    case "status": {
      const t = tabInfo(tabId);
      if (sender.frameId === 0 || !t.status) t.status = msg.status;
      toPanels(tabId, { type: "status", status: t.status });
      updateBadge(tabId);
      return;
    }
    case "getTab": {
      const t = tabInfo(tabId);
      const state = await tabState(tabId);
      const st = t.status || {};
      return { ...state, mode: state.mode || st.mode || "enforce", counts: counts(t), status: t.status, appid: st.appid || "", version: st.version || "", origin: t.origin };
    }
    case "setTab": {
      const patch = {};
      for (const k of ["enabled", "mode", "background"]) if (msg[k] !== undefined) patch[k] = msg[k];
      const next = await setTabState(tabId, patch);
      const t = tabInfo(tabId);
      const st = t.status || {};
      const mode = next.mode || st.mode || "enforce";
      await setReferer(tabId, next.enabled && mode === "enforce" ? st.referer || "" : "");
      chrome.tabs.sendMessage(tabId, { type: "control", enabled: next.enabled, mode: next.mode || undefined, background: next.background }).catch(() => {});
      return next;
    }
    case "getRecords": {
      const t = tabInfo(tabId);
      return [...t.records.values()];
    }
    case "getSettings": {
      const s = await settings();
      return { ...s, defaults: await defaults() };
    }
    case "saveOrigin": {
      let origin;
      try {
        origin = new URL(msg.origin).origin;
      } catch (e) {
        return { ok: false, error: `"${msg.origin}" is not an origin such as http://localhost:10086` };
      }
      const s = await settings();
      s.origins[origin] = { files: msg.files || [], updated: Date.now() };
      await chrome.storage.local.set({ origins: s.origins });
      await registerScripts();
      return { ok: true, origin };
    }
    case "removeOrigin": {
      const s = await settings();
      delete s.origins[msg.origin];
      await chrome.storage.local.set({ origins: s.origins });
      await registerScripts();
      return { ok: true };
    }
    case "validate":
      return validate(msg.files || []);
  }
  return undefined;
}

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (isTeamMessage(msg)) return teamMessage(msg, sender, reply); // the team service (team.js)
  if (!msg || typeof msg.type !== "string") return false;
  handle(msg, sender).then(reply, (e) => reply({ ok: false, error: String(e && e.message || e) }));
  return true;
});

chrome.runtime.onConnect.addListener((port) => {
  const m = /^panel:(\d+)$/.exec(port.name);
  if (!m) return;
  const tabId = Number(m[1]);
  if (!panels.has(tabId)) panels.set(tabId, new Set());
  panels.get(tabId).add(port);
  const t = tabInfo(tabId);
  port.postMessage({ type: "snapshot", records: [...t.records.values()], status: t.status, tls: [...t.tls] });
  port.onMessage.addListener((msg) => {
    if (msg.type === "clear") clearTab(tabId);
    if (msg.type === "preserve") t.preserve = !!msg.on;
  });
  port.onDisconnect.addListener(() => panels.get(tabId).delete(port));
});

// A navigation starts a new page: its records start afresh unless the panel
// preserves the log.
chrome.webNavigation && chrome.webNavigation.onCommitted.addListener((d) => {
  if (d.frameId !== 0) return;
  const t = tabs.get(d.tabId);
  if (t && !t.preserve) clearTab(d.tabId);
  for (const k of [...sentTLS]) if (k.startsWith(d.tabId + "|")) sentTLS.delete(k);
  if (t) t.status = null;
});

// R14: the redirect hops the page cannot see, for the panel (hops.js).
initHops({
  records: (tabId) => (tabs.get(tabId) || { records: new Map() }).records,
  updated: (tabId, record) => toPanels(tabId, { type: "record", record }),
});

chrome.tabs.onRemoved.addListener((tabId) => {
  forgetHops(tabId);
  tabs.delete(tabId);
  chrome.storage.session.remove("tab:" + tabId);
  chrome.declarativeNetRequest.updateSessionRules({ removeRuleIds: [tabId] }).catch(() => {});
});

// Content scripts for origins the user added at runtime (the build's
// baked origins are declared in the manifest).
async function registerScripts() {
  const { origins } = await settings();
  const granted = [];
  for (const o of Object.keys(origins)) {
    const pattern = o + "/*";
    if (await chrome.permissions.contains({ origins: [pattern] })) granted.push(pattern);
  }
  const ids = (await chrome.scripting.getRegisteredContentScripts()).map((s) => s.id);
  if (ids.length) await chrome.scripting.unregisterContentScripts({ ids });
  if (!granted.length) return;
  await chrome.scripting.registerContentScripts([
    { id: "mpnet-bridge", matches: granted, js: ["bridge.js"], runAt: "document_start", world: "ISOLATED", allFrames: true, matchOriginAsFallback: true },
    { id: "mpnet-page", matches: granted, js: ["wasm.js", "page.js"], runAt: "document_start", world: "MAIN", allFrames: true, matchOriginAsFallback: true },
  ]);
}

chrome.runtime.onInstalled.addListener(() => { registerScripts().catch((e) => console.error("[mpnet]", e)); });
chrome.permissions.onAdded.addListener(() => { registerScripts().catch((e) => console.error("[mpnet]", e)); });
