// The background service worker: per-origin configuration, per-tab state
// (enabled, mode, simulated background), the fixed Referer as a
// declarativeNetRequest session rule scoped to the preview tab and the
// configuration's API hosts (R8), the call records behind the DevTools panel
// (kept in session storage through the worker's restarts, store.js), the
// toolbar badge, R12 verdicts from hostsim agent, and the offscreen document
// that hosts the module for pages whose CSP forbids WebAssembly.
//
// Who may say what (docs/RATIONALE.md, "Threat model"): content scripts
// speak for the page they run in, which is untrusted; their tab, frame and
// origin come from `sender`, never from the message, and they may only
// send FROM_PAGE messages about their own tab. The extension's own pages
// (popup, options, panel: sender.origin is this extension's) may name a
// tab and change its state. Every message is checked against schema.js
// first; anything else is refused.

import { MpnetModule } from "../../wasm/loader.js";
import { initHops, enrichHops, forgetHops } from "./hops.js";
import { isTeamMessage, teamMessage, teamFiles, teamRecords } from "./team.js"; // the team service (team.js)
import { check, FROM_PAGE, FROM_EXTENSION, FROM_PANEL, str, int } from "./schema.js";
import { Store } from "./store.js";
import { apiHosts } from "./hosts.js";

// Local storage holds the hostsim agent's pairing token and the team
// service's token; content scripts run in the preview's renderer, which the
// page controls, and none of ours reads storage. Chromium's default lets
// them read local storage (session storage is for trusted contexts only
// already); this keeps the tokens to the extension's own pages and this
// worker. The level is stored by the browser; set again at every start. A
// browser that cannot set it (a throw or a refusal) gets a warning, not a
// worker that fails to start.
Promise.resolve().then(() => chrome.storage.local.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" }))
  .catch((e) => console.warn("[mpnet] could not keep local storage from content scripts: " + (e && e.message || e)));

const DEFAULT_TAB = { enabled: true, mode: "", background: false };
const SELF = new URL(chrome.runtime.getURL("/")).origin; // chrome-extension://<id>

// Records, status and badge of every tab; restored from session storage
// when the worker starts again.
const store = new Store(chrome.storage.session);
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

// ------------------------------------------------------------- identity

/**
 * who says who sent a message, from the browser's sender only: this
 * extension's own pages ({extension: true}), or a content script of this
 * extension in a tab ({tabId, frameId, origin}); null for anything else.
 */
function who(sender) {
  if (!sender || sender.id !== chrome.runtime.id) return null;
  if (sender.origin === SELF || (!sender.origin && typeof sender.url === "string" && sender.url.startsWith(SELF + "/"))) return { extension: true };
  if (sender.tab && Number.isInteger(sender.tab.id) && sender.tab.id >= 0) {
    let origin = sender.origin || "";
    if (!origin) {
      try { origin = new URL(sender.url).origin; } catch (e) { origin = ""; }
    }
    return { tabId: sender.tab.id, frameId: sender.frameId || 0, documentId: sender.documentId || "", origin };
  }
  return null;
}

// A content script may send these (the bridge's hello and what it relays).
const FROM_CONTENT = {
  hello: { url: str(8192) },
  records: FROM_PAGE.records, status: FROM_PAGE.status, resource: FROM_PAGE.resource,
  referer: FROM_PAGE.referer, tlsVerdict: FROM_PAGE.tlsVerdict, engineHost: FROM_PAGE.engineHost,
  // The bridge's own report of what it refused from the page.
  refused: { count: int(0, 2 ** 31), last: str(4096) },
};

// refused counts and reports a message a tab's page sent that was not
// valid: the panel says so (a page script tampering with mpnet's channel).
function refused(tabId, error, count) {
  console.warn("[mpnet] refused a message from tab " + tabId + ": " + error);
  if (tabId === undefined) return;
  const t = store.tab(tabId);
  const n = count !== undefined ? Math.max(count, t.meta.rejected || 0) : (t.meta.rejected || 0) + 1;
  store.setMeta(tabId, { rejected: n, rejectedLast: error.slice(0, 300) });
  toPanels(tabId, { type: "status", status: panelStatus(t) });
}

// ------------------------------------------------------------- R8 Referer

// The Referer rule (R8): requests of the preview tab to the configuration's
// API hosts, initiated by the preview origin, carry the client's fixed
// Referer. The background sets it while answering the top frame's hello
// when it can, otherwise the runtime asks for it once it knows the value;
// either way the hosts are the background's own reading of the origin's
// configuration (apiHosts), never a page's. The rule is removed when the
// tab leaves the preview origin or closes.
//
// A shared worker's requests belong to no tab (DNR sees tab -1): the rule
// also covers requests outside any tab initiated by the preview origin, to
// the same hosts. (One rule per tab, its id the tab's: tab ids use the whole
// positive int32 range, so no offset is free for a second rule.)
const ruleIds = (tabId) => [tabId];

function refererRule(tabId, referer, hosts, origin) {
  let initiator = "";
  try { initiator = new URL(origin).hostname; } catch (e) { initiator = ""; }
  return referer && hosts.length && initiator ? {
    id: tabId, priority: 1,
    action: { type: "modifyHeaders", requestHeaders: [{ header: "referer", operation: "set", value: referer }] },
    condition: { tabIds: [tabId, -1], requestDomains: hosts, initiatorDomains: [initiator], resourceTypes: ["xmlhttprequest", "websocket", "other"] },
  } : null;
}

/** setReferer sets the tab's rule; answers the Referer it now sets ("" for none). */
async function setReferer(tabId, referer, hosts, origin) {
  const rule = refererRule(tabId, referer, hosts, origin);
  await chrome.declarativeNetRequest.updateSessionRules({ removeRuleIds: ruleIds(tabId), addRules: rule ? [rule] : [] });
  return rule ? referer : "";
}

// installedRule is the tab's rule now (null for none): a reload keeps it.
async function installedRule(tabId) {
  const [rule] = await chrome.declarativeNetRequest.getSessionRules({ ruleIds: [tabId] });
  return rule || null;
}

/** ruleReferer is the Referer a rule sets ("" for none). */
function ruleReferer(rule) {
  const h = rule && rule.action.requestHeaders && rule.action.requestHeaders[0];
  return (h && h.value) || "";
}

// sameRule says two Referer rules (or none) rewrite the same requests alike.
function sameRule(a, b) {
  if (!a || !b) return !a && !b;
  const set = (x) => JSON.stringify([...(x || [])].sort());
  return ruleReferer(a) === ruleReferer(b) && set(a.condition.requestDomains) === set(b.condition.requestDomains) &&
    set(a.condition.initiatorDomains) === set(b.condition.initiatorDomains) && set(a.condition.tabIds) === set(b.condition.tabIds);
}

// The tab's Referer rule (R8), set while answering the top frame's hello:
// the module host answers the origin's configuration (prepared before the
// page asked), so the rule is in place before the runtime is configured
// and the runtime skips its own round trip (on a first load too, not only
// on a reload, which keeps the rule). res: that answer (null when the host
// could not give one). Answers the Referer the tab's rule sets.
async function refererAtHello(tabId, origin, state, res, rule) {
  if (!res || !res.ok || !res.config) return ruleReferer(rule);
  const mode = state.mode || res.config.mode;
  const want = refererRule(tabId, state.enabled && mode === "enforce" ? res.referer : "", apiHosts(res.config), origin);
  if (sameRule(want, rule)) return ruleReferer(rule);
  return setReferer(tabId, ruleReferer(want), want ? want.condition.requestDomains : [], origin);
}

// originConfig answers the module's ConfigureResult for the configuration
// of a page origin (the files hello hands that origin's runtime), from the
// module host, or, when the host cannot answer, from the background's own
// instance (the options validator); null when there is none.
async function originConfig(origin) {
  const files = await filesFor(origin);
  if (!files.length) return null;
  const res = (await hostConfigure(files)) || (await validate(files).catch(() => null));
  return res && res.ok && res.config ? res : null;
}

// ------------------------------------------------------------------ R12

// R12 in the browser. The extension cannot see the certificate chain a
// server sends or probe its TLS versions, so, once the user opts in (the
// agent's URL in the options, or baked by the build), it asks a locally
// running `hostsim agent`, which gathers the facts natively and has the same
// module judge them. Reports ({facts, verdict}) are cached per host:port for
// the session; the panel gets each tab's reports once (type "tls") and shows
// them for the records that name them (tlsKey).
const tlsCache = new Map();
const sentTLS = new Set(); // "tabId|host:port" verdicts already handed to the tab's runtimes

// The agent's URL, read once per worker (records ask for it on every batch)
// and again when the options change it.
let agentPromise = null;
function agentURL() {
  if (!agentPromise) {
    agentPromise = (async () => {
      const s = await chrome.storage.local.get("agent");
      if (typeof s.agent === "string") return s.agent.replace(/\/+$/, "");
      return ((await defaults()).agent || "").replace(/\/+$/, "");
    })();
  }
  return agentPromise;
}
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && (changes.agent || changes.agentToken)) {
    agentPromise = null;
    tlsCache.clear();
  }
});

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

/** tlsVerdict answers the agent's verdict on a server (its report's verdict), or null. */
async function tlsVerdict(target) {
  const report = await tlsReport(target);
  return report && report.verdict;
}

// The agent is asked only about hosts in the configuration of the page's
// origin (any port, as R2 allows): a page cannot make the extension probe
// arbitrary hosts and ports through it. The hosts come from the module's
// answer for the configuration (originConfig), as the Referer rule's do.
const configuredHosts = new Map(); // origin -> Promise<Set<host>>

function hostsOf(origin) {
  if (!configuredHosts.has(origin)) {
    configuredHosts.set(origin, originConfig(origin).then((res) => new Set(apiHosts(res && res.config))).catch(() => new Set()));
  }
  return configuredHosts.get(origin);
}

async function mayAsk(origin, host) {
  return (await hostsOf(origin)).has(host.toLowerCase().replace(/\.$/, ""));
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

// (Called only when hostsim agent is configured.)
async function checkTLS(tabId, origin, record) {
  const target = tlsTarget(record.url);
  if (!target || ["R1", "R2", "R3", "R5"].includes(record.rule) && record.state === "blocked") return;
  // The agent is asked about the configuration's hosts (any port), and, for
  // media the page loaded (R13, api "resource"), about an https host on the
  // default port, for the panel only: a page cannot steer the agent to other
  // ports, and a media host's verdict never goes back to the page.
  const configured = await mayAsk(origin, target.host);
  if (!configured && !(record.api === "resource" && target.port === "443")) return;
  const report = await tlsReport(target);
  const v = report && report.verdict;
  if (v && configured && !sentTLS.has(`${tabId}|${v.host}:${v.port}`)) {
    sentTLS.add(`${tabId}|${v.host}:${v.port}`);
    chrome.tabs.sendMessage(tabId, { type: "tls", verdict: v }).catch(() => {});
  }
  const t = store.tabs.get(tabId);
  const key = v && `${v.host}:${v.port}`;
  if (t && v) {
    // The agent's whole report (facts and verdict), for the panel's R12 view.
    if (!t.tls) t.tls = new Map();
    if (!t.tls.has(key)) {
      t.tls.set(key, report);
      toPanels(tabId, { type: "tls", key, report });
    }
  }
  const cur = t && t.records.get(record.id);
  if (cur && applyTLS(cur, v)) {
    store.add(tabId, [cur]);
    toPanels(tabId, { type: "record", record: cur });
    updateBadge(tabId);
  }
}

// ---------------------------------------------------------- module host

// The offscreen document (host/offscreen.js) hosts the module in the
// extension: every page runtime's first calls are judged there while the
// page compiles its own module, and pages whose Content-Security-Policy
// forbids WebAssembly use it for good (page/runtime.js). It is opened when
// this worker starts, and compiles the module at once, so that it is ready
// before the first preview page asks.
let creatingHost = null;
async function ensureEngineHost() {
  const url = chrome.runtime.getURL("offscreen.html");
  const have = await chrome.runtime.getContexts({ contextTypes: ["OFFSCREEN_DOCUMENT"], documentUrls: [url] });
  if (have.length) return;
  if (!creatingHost) {
    creatingHost = chrome.offscreen.createDocument({
      url: "offscreen.html", reasons: ["WORKERS"],
      justification: "runs the mpnet policy module in a worker for preview pages whose Content-Security-Policy forbids WebAssembly",
    }).finally(() => { creatingHost = null; });
  }
  await creatingHost;
}

// hostConfigure answers the module's ConfigureResult for a configuration
// (files), from the module host, which keeps an instance configured with it
// for the next page that asks (engine-worker.js); null when the host cannot
// answer. Answers are kept by the configure message's text (the module is
// deterministic), 16 at most. hostAnswer answers the same as the module's
// answer text ({res, text}), which hello hands the page runtime.
const HOST_WAIT_MS = 10000;
const ANSWER_MAX = 4 << 20; // a configure answer hello carries (characters)
const hostAnswers = new Map();
function hostAnswer(files) {
  const text = JSON.stringify({ files });
  let p = hostAnswers.get(text);
  if (!p) {
    const asked = ensureEngineHost().then(() => chrome.runtime.sendMessage({ type: "hostPrepare", text }))
      .then((v) => (v && v.ok && typeof v.answer === "string" ? { res: JSON.parse(v.answer), text: v.answer } : null));
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), HOST_WAIT_MS));
    p = Promise.race([asked, timeout]).catch(() => null);
    hostAnswers.set(text, p);
    p.then((r) => { if (!r) hostAnswers.delete(text); });
    while (hostAnswers.size > 16) hostAnswers.delete(hostAnswers.keys().next().value);
  }
  return p;
}
function hostConfigure(files) {
  return hostAnswer(files).then((a) => (a ? a.res : null));
}

// prepareHost opens the module host and has it configure the known
// configurations (each saved origin's files, the team's or the baked
// defaults), so that the first page finds its configuration answered.
async function prepareHost() {
  await ensureEngineHost();
  const { origins } = await settings();
  const lists = [await filesFor("")];
  for (const o of Object.keys(origins)) lists.push(await filesFor(o));
  for (const files of lists) if (files.length) hostConfigure(files);
}
prepareHost().catch((e) => console.warn("[mpnet] the module host could not start: " + (e && e.message || e)));
// Open panels connect again: their ports also reach the module host, so a
// stopped worker does not close them (ui/panel.js).
chrome.runtime.sendMessage({ type: "workerStarted" }).catch(() => {});

// ---------------------------------------------------------------- badge

// panelStatus is the tab's status as the panel shows it: a runtime that
// failed ("checks are OFF") stays failed for the rest of the document,
// whatever later status messages say; refused page messages are counted.
function panelStatus(t) {
  const st = t.meta.status;
  const extra = t.meta.rejected ? { rejected: t.meta.rejected, rejectedLast: t.meta.rejectedLast || "" } : {};
  if (t.meta.off) return { ...(st || {}), state: "failed", error: t.meta.off, ...extra };
  return st ? { ...st, ...extra } : (t.meta.rejected ? extra : null);
}

// updateBadge shows the tab's count of violations (red) or warnings
// (amber), or OFF when checks cannot run; it touches the badge only when
// what it shows changes.
function updateBadge(tabId) {
  const t = store.tabs.get(tabId);
  if (!t) return;
  let text, color;
  if (t.meta.off) {
    text = "OFF";
    color = "#d93025";
  } else {
    const c = store.counts(tabId);
    text = c.fail ? String(c.fail) : c.warn ? String(c.warn) : "";
    color = c.fail ? "#d93025" : "#f29900";
  }
  if (t.badge === text + color) return;
  t.badge = text + color;
  chrome.action.setBadgeBackgroundColor({ tabId, color }).catch(() => {});
  chrome.action.setBadgeText({ tabId, text }).catch(() => {});
}

function toPanels(tabId, msg) {
  for (const p of panels.get(tabId) || []) {
    try { p.postMessage(msg); } catch (e) { /* closed */ }
  }
}

function clearTab(tabId) {
  store.clear(tabId);
  const t = store.tab(tabId);
  t.badge = null;
  updateBadge(tabId);
  toPanels(tabId, { type: "snapshot", records: [], status: panelStatus(t), tls: [...(t.tls || [])] });
}

let validator = null;
async function validate(files) {
  if (!validator) {
    const bytes = await (await fetch(chrome.runtime.getURL("mpnet.wasm"))).arrayBuffer();
    validator = await MpnetModule.load(bytes);
  }
  return validator.configure({ files, dryRun: true });
}

// ------------------------------------------------------------- messages

/** fromPage handles a message a content script sent about its own tab. */
async function fromPage(msg, id) {
  const { tabId } = id;
  const t = store.tab(tabId);
  // The top frame's last messages from a page the tab has left (its unload
  // flush) belong to no list any more.
  if (msg.type !== "hello" && id.frameId === 0 && id.documentId && t.meta.doc && id.documentId !== t.meta.doc) {
    return { ok: false, error: "the tab has navigated away from this document" };
  }
  switch (msg.type) {
    case "hello": {
      if (id.frameId === 0) {
        newDocument(tabId, id.documentId, id.origin);
        if (t.meta.origin !== id.origin) store.setMeta(tabId, { origin: id.origin });
      }
      const [state, files, rule, agent, host] = await Promise.all([tabState(tabId), filesFor(id.origin), installedRule(tabId), agentURL(),
        ensureEngineHost().then(() => true, () => false)]);
      // The module host's answer to this configuration: the Referer rule
      // comes from it, and the runtime (handed an instance configured with
      // it) is ready with it at once instead of a round trip later.
      const known = host && files.length ? await hostAnswer(files) : null;
      const referer = id.frameId === 0 && known ? await refererAtHello(tabId, id.origin, state, known.res, rule) : ruleReferer(rule);
      const answer = known && known.text.length <= ANSWER_MAX ? known.text : "";
      return { files, tab: { ...state, mode: state.mode || "" }, referer, r12: !!agent, host, answer };
    }
    case "referer": {
      // Only the top frame's runtime speaks for the tab's rule, for its own
      // origin; the rule's hosts are those of that origin's configuration
      // as the background reads it, whatever the page would name.
      if (id.frameId !== 0) return { ok: false, error: "only the top frame sets the Referer rule" };
      const [state, res] = await Promise.all([tabState(tabId), originConfig(id.origin)]);
      if (!res) return { ok: false, error: "the background could not read this origin's configuration" };
      const mode = state.mode || msg.mode;
      await setReferer(tabId, state.enabled && mode === "enforce" ? msg.referer : "", apiHosts(res.config), id.origin);
      return { ok: true };
    }
    case "records": {
      for (const record of msg.records) enrichHops(tabId, record); // R14: every hop the browser saw (hops.js)
      const dropped = store.add(tabId, msg.records);
      agentURL().then((agent) => { if (agent) for (const record of msg.records) checkTLS(tabId, id.origin, record); });
      teamRecords(tabId, msg.records); // queued for the team service (team.js)
      toPanels(tabId, { type: "records", records: msg.records });
      if (dropped.length) toPanels(tabId, { type: "drop", ids: dropped });
      for (const other of store.tabs.values()) {
        if (other.evicted) {
          toPanels(other.id, { type: "drop", ids: other.evicted });
          other.evicted = null;
          updateBadge(other.id);
        }
      }
      updateBadge(tabId);
      return;
    }
    case "status": {
      const patch = {};
      if (id.frameId === 0 || !t.meta.status) patch.status = msg.status;
      // "Checks are OFF" in any frame stays for the document: a later
      // status cannot clear the badge.
      if (msg.status.state === "failed" && !t.meta.off) patch.off = msg.status.error || "the page runtime failed";
      store.setMeta(tabId, patch);
      toPanels(tabId, { type: "status", status: panelStatus(t) });
      updateBadge(tabId);
      return;
    }
    case "tlsVerdict": {
      // The engine holds the first call to a server until its R12 verdict
      // is known (policy, tlsSource); answer it or say none can be had.
      const i = msg.server.lastIndexOf(":");
      const host = msg.server.slice(0, i).replace(/^\[|\]$/g, "");
      const port = msg.server.slice(i + 1);
      if (!(await agentURL())) return { unavailable: "no hostsim agent is configured" };
      if (!(await mayAsk(id.origin, host))) return { unavailable: `${host} is not in the configuration's domain lists, so hostsim agent is not asked about it` };
      const v = await tlsVerdict({ host, port });
      if (!v) return { unavailable: "hostsim agent did not answer" };
      sentTLS.add(`${tabId}|${v.host}:${v.port}`);
      return { verdict: v };
    }
    case "engineHost":
      await ensureEngineHost();
      return { ok: true };
    case "refused":
      refused(tabId, `${msg.count} refused by the bridge, last: ${msg.last}`, msg.count);
      return;
    case "resource":
      return;
  }
  return undefined;
}

/** fromExtension handles a message from the extension's own pages. */
async function fromExtension(msg) {
  const tabId = msg.tabId;
  switch (msg.type) {
    case "getTab": {
      const t = store.tab(tabId);
      const state = await tabState(tabId);
      const st = panelStatus(t) || {};
      return { ...state, mode: state.mode || st.mode || "enforce", counts: store.counts(tabId), status: panelStatus(t), appid: st.appid || "", version: st.version || "", origin: t.meta.origin };
    }
    case "setTab": {
      const patch = {};
      for (const k of ["enabled", "mode", "background"]) if (msg[k] !== undefined) patch[k] = msg[k];
      const next = await setTabState(tabId, patch);
      chrome.tabs.sendMessage(tabId, { type: "control", enabled: next.enabled, mode: next.mode || undefined, background: next.background }).catch(() => {});
      // The runtime asks for the Referer rule again (it knows the value).
      if (!next.enabled || next.mode === "report" || next.mode === "off") await setReferer(tabId, "", [], "");
      return next;
    }
    case "getRecords":
      return [...store.tab(tabId).records.values()];
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
      configuredHosts.delete(origin);
      await registerScripts();
      return { ok: true, origin };
    }
    case "removeOrigin": {
      const s = await settings();
      delete s.origins[msg.origin];
      await chrome.storage.local.set({ origins: s.origins });
      configuredHosts.delete(msg.origin);
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
  const id = who(sender);
  if (!id) return false;
  const c = check(id.extension ? FROM_EXTENSION : FROM_CONTENT, msg);
  if (!c.ok) {
    refused(id.tabId, c.error);
    reply({ ok: false, error: c.error });
    return false;
  }
  store.ready.then(() => (id.extension ? fromExtension(c.value) : fromPage(c.value, id)))
    .then(reply, (e) => reply({ ok: false, error: String(e && e.message || e) }));
  return true;
});

chrome.runtime.onConnect.addListener((port) => {
  const m = /^panel:(\d+)$/.exec(port.name);
  // A bridge's port to the module host (offscreen document) reaches this
  // worker too; it is left alone (disconnecting it would close it for the
  // host as well). The bridge's runtime notices a host that went away by
  // its silence (page/engine.js).
  if (!m) return;
  // Only the extension's own pages may watch a tab: a content script asking
  // for another tab's records is disconnected.
  const id = who(port.sender);
  if (!id || !id.extension) {
    port.disconnect();
    return;
  }
  const tabId = Number(m[1]);
  if (!panels.has(tabId)) panels.set(tabId, new Set());
  panels.get(tabId).add(port);
  port.onDisconnect.addListener(() => panels.get(tabId).delete(port));
  store.ready.then(() => {
    const t = store.tab(tabId);
    port.postMessage({ type: "snapshot", records: [...t.records.values()], status: panelStatus(t), tls: [...(t.tls || [])] });
    updateBadge(tabId); // a restarted worker sets the badge again from the kept records
  });
  port.onMessage.addListener((msg) => {
    const c = check(FROM_PANEL, msg);
    if (!c.ok) return;
    store.ready.then(() => {
      if (c.value.type === "clear") clearTab(tabId);
      if (c.value.type === "preserve") store.setMeta(tabId, { preserve: c.value.on });
    });
  });
});

// A navigation starts a new page: its records start afresh unless the panel
// preserves the log; a new document's runtime reports its own status; the
// Referer rule goes when the tab leaves the preview origin. The browser's
// commit event and the new document's first messages race (they come by
// different ways), so this runs once per top-level document, for whichever
// comes first: the commit, or the new document's hello.
function newDocument(tabId, documentId, origin) {
  const t = store.tab(tabId);
  if (documentId && t.meta.doc === documentId) return;
  for (const k of [...sentTLS]) if (k.startsWith(tabId + "|")) sentTLS.delete(k);
  if (t.meta.origin && origin !== t.meta.origin) {
    chrome.declarativeNetRequest.updateSessionRules({ removeRuleIds: ruleIds(tabId) }).catch(() => {});
  }
  store.setMeta(tabId, { doc: documentId || "", status: null, off: "", rejected: 0, rejectedLast: "" });
  if (!t.meta.preserve) clearTab(tabId);
  else {
    t.badge = null; // the browser resets a tab's badge on navigation
    updateBadge(tabId);
    toPanels(tabId, { type: "status", status: panelStatus(t) });
  }
}

chrome.webNavigation && chrome.webNavigation.onCommitted.addListener((d) => {
  if (d.frameId !== 0) return;
  let origin = "";
  try { origin = new URL(d.url).origin; } catch (e) { origin = ""; }
  // A commit event can arrive after the next document already spoke (a new
  // tab's initial about:blank, a worker that was starting): only the tab's
  // current document counts.
  // A tab mpnet never heard from has nothing to reset: a covered page's
  // hello starts its list itself, and every other navigation in the
  // browser costs the worker no storage write and no browser round trip
  // (the tab's load shares the machine with them).
  store.ready.then(() => {
    if (!store.tabs.has(d.tabId)) return;
    chrome.webNavigation.getFrame({ tabId: d.tabId, frameId: 0 }).catch(() => null).then((now) => {
      if (now && now.documentId && d.documentId && now.documentId !== d.documentId) return;
      newDocument(d.tabId, d.documentId, origin);
    });
  });
});

// R14: the redirect hops the page cannot see, for the panel (hops.js).
initHops({
  records: (tabId) => (store.tabs.get(tabId) || { records: new Map() }).records,
  updated: (tabId, record) => {
    store.add(tabId, [record]);
    toPanels(tabId, { type: "record", record });
  },
});

chrome.tabs.onRemoved.addListener((tabId) => {
  forgetHops(tabId);
  store.ready.then(() => store.remove(tabId));
  chrome.storage.session.remove("tab:" + tabId);
  chrome.declarativeNetRequest.updateSessionRules({ removeRuleIds: ruleIds(tabId) }).catch(() => {});
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
    { id: "mpnet-page", matches: granted, js: ["page.js"], runAt: "document_start", world: "MAIN", allFrames: true, matchOriginAsFallback: true },
  ]);
}

chrome.runtime.onInstalled.addListener(() => { registerScripts().catch((e) => console.error("[mpnet] ", e)); });
chrome.permissions.onAdded.addListener(() => { registerScripts().catch((e) => console.error("[mpnet] ", e)); });
