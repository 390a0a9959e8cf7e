// Shared helpers of mpnet's pages (popup, options, DevTools panel).
//
// Two halves: the pure functions (time formatting, filters, "hosts to add",
// the concurrency series, the HAR export, the advanced-options file) touch no
// browser API and are unit-tested in Node (lib.test.mjs); the page helpers
// (t, applyI18n, send, el, copyText, download) reach chrome.* and the DOM only
// when called, never at import time.

/** The APIs that share the pool of 10 (R7). */
export const POOL_APIS = ["request", "uploadFile", "downloadFile"];
/** At most this many pool calls run together (R7). */
export const POOL_LIMIT = 10;
/** At most this many sockets are open together (R7). */
export const SOCKET_LIMIT = 5;
/** Every API a record may name, in display order. */
export const APIS = ["request", "uploadFile", "downloadFile", "connectSocket", "tcp", "udp", "resource"];
/** The domain lists in the order of mpnet.json. */
export const LISTS = ["domains.request", "domains.uploadFile", "domains.downloadFile", "domains.socket", "domains.tcp", "domains.udp"];
/** The modes of the product (RULES.md "Modes"). */
export const MODES = ["enforce", "report", "off"];
/** The rule IDs with an explanation in the locale files (rule_<ID>). */
export const RULES = ["C1", "C2", "C3", "C4", "C5", "C6",
  "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"];
/** The extra file the options page appends to an origin's files. */
export const OPTIONS_FILE = "mpnet-options.json";
/** The file names the import offers for pasted text. */
export const PASTE_NAMES = ["mpnet.json", "project.config.json", "project.private.config.json", "app.json", "manifest.json", "domains.json"];

// ---------------------------------------------------------------------------
// Small value helpers.

/** n as a finite number, else null. */
export function num(n) {
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** v when it is an array, else []. */
export function arr(v) {
  return Array.isArray(v) ? v : [];
}

/** v when it is a string, else "". */
export function str(v) {
  return typeof v === "string" ? v : v == null ? "" : String(v);
}

function pad(n, w = 2) {
  return String(n).padStart(w, "0");
}

/**
 * formatTime formats an epoch-ms time as local HH:MM:SS.mmm ("" for a
 * missing or invalid time).
 */
export function formatTime(ms) {
  if (num(ms) === null) return "";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** formatMs formats a duration in ms as a whole number ("" when missing). */
export function formatMs(ms) {
  const n = num(ms);
  return n === null || n < 0 ? "" : String(Math.round(n));
}

/** fileStamp is a local time for file names: YYYYMMDD-HHMMSS. */
export function fileStamp(ms = Date.now()) {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** hasRuleText reports whether rule names a rule explained in the locale files. */
export function hasRuleText(rule) {
  return RULES.includes(rule);
}

// ---------------------------------------------------------------------------
// Records.

/** The verdict of a record: "ok", "warn", "fail", or "" when not decided yet. */
export function verdictOf(r) {
  const v = r && r.verdict;
  return v === "ok" || v === "warn" || v === "fail" ? v : "";
}

/**
 * matchesFilter reports whether record r passes the panel's filters: text
 * (every whitespace-separated word must occur, case-insensitively, in the
 * URL, API, method, rule, errMsg or state; a word starting with "-" must not),
 * api ("" = any) and verdict ("all"/"" = any, else that verdict).
 */
export function matchesFilter(r, f = {}) {
  if (!r || typeof r !== "object") return false;
  if (f.api && r.api !== f.api) return false;
  if (f.verdict && f.verdict !== "all" && verdictOf(r) !== f.verdict) return false;
  const text = str(f.text).trim().toLowerCase();
  if (!text) return true;
  const hay = [r.url, r.api, r.method, r.rule, r.errMsg, r.state, r.status]
    .concat(arr(r.findings).map((x) => x && x.rule))
    .map(str).join("\n").toLowerCase();
  for (const word of text.split(/\s+/)) {
    if (word.length > 1 && word[0] === "-") {
      if (hay.includes(word.slice(1))) return false;
    } else if (!hay.includes(word)) {
      return false;
    }
  }
  return true;
}

/** countRecords counts calls, would-fail and warnings. */
export function countRecords(records) {
  const c = { calls: 0, fail: 0, warn: 0 };
  for (const r of arr(records)) {
    if (!r || typeof r !== "object") continue;
    c.calls++;
    const v = verdictOf(r);
    if (v === "fail") c.fail++;
    else if (v === "warn") c.warn++;
  }
  return c;
}

/**
 * hostsToAdd gathers, from the findings' list and entry fields, the entries
 * each domain list needs: [{list: "domains.request", entries: [...]}], lists
 * in mpnet.json order (unknown lists after, by name), entries sorted and
 * unique. Findings without both a list and an entry (an http: URL, a
 * localhost call) name nothing that could be added and are skipped.
 */
export function hostsToAdd(records) {
  const sets = new Map();
  for (const r of arr(records)) {
    if (!r || typeof r !== "object") continue;
    for (const f of arr(r.findings)) {
      if (!f || typeof f !== "object") continue;
      const list = typeof f.list === "string" ? f.list.trim() : "";
      const entry = typeof f.entry === "string" ? f.entry.trim() : "";
      if (!list || !entry) continue;
      if (!sets.has(list)) sets.set(list, new Set());
      sets.get(list).add(entry);
    }
  }
  const rank = (l) => {
    const i = LISTS.indexOf(l);
    return i < 0 ? LISTS.length : i;
  };
  return [...sets.keys()]
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((list) => ({ list, entries: [...sets.get(list)].sort() }));
}

/**
 * hostsAsMpnetJSON writes the groups of hostsToAdd as an mpnet.json
 * fragment, {"domains": {"request": [...]}}; lists outside "domains." are
 * left out.
 */
export function hostsAsMpnetJSON(groups) {
  const domains = {};
  for (const g of arr(groups)) {
    const list = str(g && g.list);
    if (!list.startsWith("domains.")) continue;
    const key = list.slice("domains.".length);
    if (!key) continue;
    domains[key] = [...new Set([...(domains[key] || []), ...arr(g.entries).map(str)])];
  }
  return JSON.stringify({ domains }, null, 2);
}

/**
 * recordSpans is when a record waited in the queue and when it ran, in epoch
 * ms: the call was made at startedAt, waited queuedMs, then ran durationMs.
 * A record still queued or running is extended to now. Blocked records
 * never ran. Returns null for a record without a start time.
 */
export function recordSpans(r, now = Date.now()) {
  if (!r || typeof r !== "object") return null;
  const s = num(r.startedAt);
  if (s === null) return null;
  const q = Math.max(0, num(r.queuedMs) ?? 0);
  const d = num(r.durationMs);
  if (r.state === "blocked") return { queue: null, run: null };
  if (r.state === "queued" || r.state === "waiting") {
    const end = Math.max(s, now);
    return { queue: end > s ? [s, end] : null, run: null };
  }
  const runStart = s + q;
  let end = runStart;
  if (d !== null && d >= 0) end = runStart + d;
  else if (r.state === "running") end = Math.max(runStart, now);
  return { queue: q > 0 ? [s, runStart] : null, run: end > runStart ? [runStart, end] : null };
}

/**
 * concurrencySeries computes, over time, how many pool calls
 * (request/uploadFile/downloadFile) ran and waited, and how many sockets
 * were open. Returns {points: [{t, running, queued, sockets}], start, end,
 * max: {running, queued, sockets}}; each point holds the counts from t until
 * the next point (a step function). Ends and starts at the same moment net
 * out, so a slot handed over at once never shows as 11.
 */
export function concurrencySeries(records, now = Date.now()) {
  const deltas = new Map();
  const add = (t, k, v) => {
    let d = deltas.get(t);
    if (!d) deltas.set(t, (d = [0, 0, 0]));
    d[k] += v;
  };
  for (const r of arr(records)) {
    if (!r || typeof r !== "object") continue;
    const pool = POOL_APIS.includes(r.api);
    if (!pool && r.api !== "connectSocket") continue;
    const sp = recordSpans(r, now);
    if (!sp) continue;
    if (pool && sp.queue) {
      add(sp.queue[0], 1, 1);
      add(sp.queue[1], 1, -1);
    }
    if (sp.run) {
      add(sp.run[0], pool ? 0 : 2, 1);
      add(sp.run[1], pool ? 0 : 2, -1);
    }
  }
  const times = [...deltas.keys()].sort((a, b) => a - b);
  const points = [];
  const cur = [0, 0, 0];
  const max = { running: 0, queued: 0, sockets: 0 };
  for (const t of times) {
    const d = deltas.get(t);
    cur[0] += d[0];
    cur[1] += d[1];
    cur[2] += d[2];
    const p = { t, running: cur[0], queued: cur[1], sockets: cur[2] };
    const last = points[points.length - 1];
    if (last && last.running === p.running && last.queued === p.queued && last.sockets === p.sockets) continue;
    points.push(p);
    max.running = Math.max(max.running, p.running);
    max.queued = Math.max(max.queued, p.queued);
    max.sockets = Math.max(max.sockets, p.sockets);
  }
  return { points, start: times.length ? times[0] : null, end: times.length ? times[times.length - 1] : null, max };
}

/**
 * clipSeries restricts a concurrencySeries to the window [from, to]: the
 * counts in force at from become its first point. start and end are the
 * window's bounds.
 */
export function clipSeries(series, from, to) {
  const src = series && Array.isArray(series.points) ? series.points : [];
  const points = [];
  let before = null;
  for (const p of src) {
    if (p.t <= from) before = p;
    else if (p.t <= to) points.push(p);
  }
  if (before && (before.running || before.queued || before.sockets)) points.unshift({ ...before, t: from });
  const max = { running: 0, queued: 0, sockets: 0 };
  for (const p of points) {
    max.running = Math.max(max.running, p.running);
    max.queued = Math.max(max.queued, p.queued);
    max.sockets = Math.max(max.sockets, p.sockets);
  }
  return { points, start: from, end: to, max };
}

// ---------------------------------------------------------------------------
// HAR export.

/**
 * toHAR writes records as a HAR 1.2 log, one entry per record in start
 * order. startedDateTime is when the app made the call; time is the whole
 * life of the call, queue wait (timings.blocked) plus running time
 * (timings.wait), so that `hostsim audit` replaying the file sees the call
 * made and finished when it was. Each entry carries _resourceType
 * ("websocket" for connectSocket, else "fetch") and the _mpnet annotation
 * {api, verdict, rule, errMsg, findings, ...}; hostsim audit takes the API
 * from _mpnet.api, so uploadFile and downloadFile keep theirs. The dev
 * server's own traffic (records marked tooling, R15) is not a mini-program
 * call and is left out, so that an audit does not judge it.
 */
export function toHAR(records, meta = {}) {
  const list = arr(records).filter((r) => r && typeof r === "object" && !r.tooling);
  const order = list.map((r, i) => ({ r, i, s: num(r.startedAt) }));
  // Records without a start time keep their place after the one before them.
  let lastS = 0;
  for (const o of order) {
    if (o.s === null) o.s = lastS;
    else lastS = o.s;
  }
  order.sort((a, b) => a.s - b.s || a.i - b.i);
  const entries = order.map(({ r, s }) => harEntry(r, s));
  return {
    log: {
      version: "1.2",
      creator: { name: "mpnet", version: str(meta.version) || "0" },
      pages: [],
      entries,
      comment: str(meta.comment),
    },
  };
}

function harEntry(r, s) {
  const q = Math.max(0, num(r.queuedMs) ?? 0);
  const d = Math.max(0, num(r.durationMs) ?? 0);
  const method = str(r.method) || "GET";
  const url = str(r.url);
  const status = num(r.status) ?? 0;
  const findings = arr(r.findings).filter((f) => f && typeof f === "object");
  const mpnet = {
    api: str(r.api),
    verdict: verdictOf(r),
    rule: str(r.rule),
    errMsg: str(r.errMsg),
    findings,
    id: str(r.id),
    state: str(r.state),
    mode: str(r.mode),
    proceeded: !!r.proceeded,
    queuedMs: q,
    durationMs: d,
  };
  return {
    startedDateTime: new Date(s).toISOString(),
    time: q + d,
    request: {
      method,
      url,
      httpVersion: "",
      cookies: [],
      headers: [],
      queryString: queryString(url),
      headersSize: -1,
      bodySize: -1,
    },
    response: {
      status,
      statusText: "",
      httpVersion: "",
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: "" },
      redirectURL: "",
      headersSize: -1,
      bodySize: -1,
      _error: str(r.errMsg) || undefined,
    },
    cache: {},
    timings: { blocked: q, dns: -1, connect: -1, send: 0, wait: d, receive: 0, ssl: -1 },
    _resourceType: r.api === "connectSocket" ? "websocket" : "fetch",
    _mpnet: mpnet,
  };
}

function queryString(url) {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// Configuration problems and the options page.

/** problemLocation is "file:line:col" (shorter when parts are missing). */
export function problemLocation(p) {
  if (!p || typeof p !== "object") return "";
  let s = str(p.file);
  if (num(p.line) && p.line > 0) {
    s += `${s ? ":" : ""}${p.line}`;
    if (num(p.col) && p.col > 0) s += `:${p.col}`;
  }
  return s;
}

/** problemLine is a problem as one line: "file:line:col RULE severity message — fix". */
export function problemLine(p) {
  if (!p || typeof p !== "object") return "";
  const parts = [problemLocation(p), str(p.rule), str(p.severity), str(p.message)].filter(Boolean);
  let s = parts.join(" ");
  if (str(p.fix)) s += ` — ${p.fix}`;
  return s;
}

/**
 * normalizeOrigin turns what the user typed ("localhost:10086",
 * "http://127.0.0.1:5173/#/pages/index") into an origin, or null when it is
 * not an http(s) URL.
 */
export function normalizeOrigin(input) {
  let s = str(input).trim();
  if (!s) return null;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = "http://" + s;
  let u;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return null;
  if (!u.hostname) return null;
  return u.origin;
}

/**
 * originMatches reports whether an origin is covered by a match pattern
 * such as "http://localhost/*", "https://*.example.com/*" or
 * "http://127.0.0.1:5173/*" (a pattern without a port covers every port).
 */
export function originMatches(origin, pattern) {
  const o = normalizeOrigin(origin);
  const m = /^(\*|https?):\/\/(\*|\[[^\]]+\](?::(?:\d+|\*))?|[^/*:]+(?::(?:\d+|\*))?|\*\.[^/*:]+(?::(?:\d+|\*))?)\//i.exec(str(pattern));
  if (!o || !m) return false;
  const u = new URL(o);
  const scheme = u.protocol.slice(0, -1);
  if (m[1] !== "*" && m[1].toLowerCase() !== scheme) return false;
  if (m[2] === "*") return true;
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+|\*))?$/.exec(m[2]);
  if (!hp) return false;
  const host = hp[1].toLowerCase();
  const port = hp[2];
  if (port && port !== "*" && port !== (u.port || (scheme === "https" ? "443" : "80"))) return false;
  if (host.startsWith("*.")) {
    const rest = host.slice(2);
    return u.hostname === rest || u.hostname.endsWith("." + rest);
  }
  return u.hostname === host;
}

/** parseLan splits a LAN field ("10.0.0.0/8, 192.168.0.0/16") into ranges. */
export function parseLan(text) {
  return str(text).split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);
}

/**
 * buildOptionsFile writes the advanced settings as the extra mpnet.json-style
 * file appended last to an origin's files, or returns null when every
 * setting is left to the project's files. adv: {mode: ""|"enforce"|"report"|"off",
 * legacy: bool, lan: "ranges, ...", lanOff: bool, timeoutFrom: ""|"call"|"start"}.
 */
export function buildOptionsFile(adv = {}) {
  const o = { domains: {} };
  let any = false;
  if (MODES.includes(adv.mode)) {
    o.mode = adv.mode;
    any = true;
  }
  if (adv.legacy) {
    o.concurrency = "legacy";
    any = true;
  }
  if (adv.lanOff) {
    o.lan = false;
    any = true;
  } else {
    const lan = parseLan(adv.lan);
    if (lan.length) {
      o.lan = lan;
      any = true;
    }
  }
  if (adv.timeoutFrom === "call" || adv.timeoutFrom === "start") {
    o.timeoutFrom = adv.timeoutFrom;
    any = true;
  }
  return any ? { name: OPTIONS_FILE, content: JSON.stringify(o, null, 2) + "\n" } : null;
}

/**
 * splitOptionsFile separates an origin's stored files into the project's
 * files and the advanced settings read back from mpnet-options.json.
 */
export function splitOptionsFile(files) {
  const rest = [];
  const adv = { mode: "", legacy: false, lan: "", lanOff: false, timeoutFrom: "" };
  for (const f of arr(files)) {
    if (!f || typeof f !== "object") continue;
    if (str(f.name) !== OPTIONS_FILE) {
      rest.push({ name: str(f.name), content: str(f.content) });
      continue;
    }
    let o = null;
    try {
      o = JSON.parse(str(f.content));
    } catch {
      o = null;
    }
    if (!o || typeof o !== "object") continue;
    if (MODES.includes(o.mode)) adv.mode = o.mode;
    adv.legacy = o.concurrency === "legacy";
    if (o.lan === false) adv.lanOff = true;
    else if (Array.isArray(o.lan)) adv.lan = o.lan.map(str).join(", ");
    if (o.timeoutFrom === "call" || o.timeoutFrom === "start") adv.timeoutFrom = o.timeoutFrom;
  }
  return { files: rest, adv };
}

/** sameFiles reports whether two file lists hold the same names and contents in order. */
export function sameFiles(a, b) {
  const x = arr(a);
  const y = arr(b);
  if (x.length !== y.length) return false;
  return x.every((f, i) => f && y[i] && str(f.name) === str(y[i].name) && str(f.content) === str(y[i].content));
}

/**
 * upsertFile adds a file to a list, replacing the file of the same name
 * (where it was) or appending it. Returns a new list.
 */
export function upsertFile(files, file) {
  const out = arr(files).slice();
  const i = out.findIndex((f) => f && f.name === file.name);
  if (i >= 0) out[i] = file;
  else out.push(file);
  return out;
}

// ---------------------------------------------------------------------------
// Page helpers (chrome.* and the DOM, only when called).

/**
 * t returns the localised message key with substitutions ($1..$9), or the
 * key itself when no message exists (or outside an extension page).
 */
export function t(key, ...subs) {
  const c = globalThis.chrome;
  let s = "";
  try {
    if (c && c.i18n && c.i18n.getMessage) {
      s = subs.length ? c.i18n.getMessage(key, subs.map((x) => str(x))) : c.i18n.getMessage(key);
    }
  } catch {
    s = "";
  }
  return s || key;
}

/** tOr returns the localised message key, or fallback when there is none. */
export function tOr(key, fallback, ...subs) {
  const s = t(key, ...subs);
  return s === key ? fallback : s;
}

/**
 * applyI18n fills elements marked data-i18n (textContent), data-i18n-title,
 * data-i18n-placeholder and data-i18n-aria-label from the locale files, and
 * sets the document's lang.
 */
export function applyI18n(root = document) {
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll("[data-i18n-title]")) e.title = t(e.dataset.i18nTitle);
  for (const e of root.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of root.querySelectorAll("[data-i18n-aria-label]")) e.setAttribute("aria-label", t(e.dataset.i18nAriaLabel));
  const c = globalThis.chrome;
  try {
    const lang = c && c.i18n && c.i18n.getUILanguage && c.i18n.getUILanguage();
    if (lang && root === document) document.documentElement.lang = lang;
  } catch {
    // keep the page's lang
  }
}

/** send sends a message to the background and resolves with its answer. */
export function send(msg) {
  return new Promise((resolve, reject) => {
    try {
      chrome.runtime.sendMessage(msg, (answer) => {
        const err = chrome.runtime.lastError;
        if (err) reject(new Error(err.message || String(err)));
        else resolve(answer);
      });
    } catch (e) {
      reject(e);
    }
  });
}

/**
 * el creates an element: el("span", {class: "x", title: "y", onclick: fn}, child, ...).
 * Children are nodes or strings (text); null and false are skipped.
 */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** copyText copies text to the clipboard (falling back to execCommand where the Clipboard API is refused). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

/** download saves text as a file through a Blob URL and an <a download>. */
export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

/** flash shows a short confirmation on a button, then restores its label. */
export function flash(button, text, ms = 1200) {
  if (!button) return;
  const old = button.textContent;
  button.textContent = text;
  button.disabled = true;
  setTimeout(() => {
    button.textContent = old;
    button.disabled = false;
  }, ms);
}
