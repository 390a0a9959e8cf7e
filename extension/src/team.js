// The team service in the background service worker (service/API.md).
//
// - The user connects in the options page (service URL and a project
//   token); the token stays in this extension's storage.
// - The project's configuration is pulled when the service worker starts,
//   every minute after (a conditional GET: 304 while the ETag holds) and
//   on demand; while connected it is every preview origin's configuration
//   (filesFor in background.js asks teamFiles first), from the next page
//   load on. The last copy is kept, so the preview keeps working offline.
// - Finished calls the preview found wrong are queued in
//   chrome.storage.local (bounded: QUEUE_MAX, oldest dropped and counted),
//   formed into batches whose Idempotency-Key is stored with them, and
//   sent; failures are retried with backoff, across service-worker
//   restarts (the queue and the alarm outlive the worker) and offline
//   periods. The service judges every URL again; a retried batch counts
//   once.
// - Messages from extension pages (teamGet, teamConnect, teamDisconnect,
//   teamSync) are checked against their schema and accepted only from the
//   extension's own pages, never from a content script.

import {
  serviceURL, validToken, isTeamMessage, checkMessage, fromExtensionPage, reportable, recordKey,
  emptyQueue, queued, enqueue, formBatch, backoff, outcome, CONFIG_MAX,
} from "./teamcore.js";

export { isTeamMessage };

const ALARM = "mpnet-team";

/** settings: {url, token, appid, role, name, tokenId} or null. */
async function settings() {
  const s = await chrome.storage.local.get("team");
  return s.team && typeof s.team === "object" ? s.team : null;
}

async function config() {
  const s = await chrome.storage.local.get("teamConfig");
  return s.teamConfig && typeof s.teamConfig === "object" ? s.teamConfig : null;
}

async function loadQueue() {
  const s = await chrome.storage.local.get("teamQueue");
  return s.teamQueue && typeof s.teamQueue === "object" ? { ...emptyQueue(), ...s.teamQueue } : emptyQueue();
}

// One change to the stored queue at a time.
let chain = Promise.resolve();
function locked(fn) {
  const p = chain.then(fn);
  chain = p.catch(() => {});
  return p;
}

/** call sends one request to the service with the token. */
async function call(s, method, path, { body, headers } = {}) {
  return fetch(s.url + path, {
    method,
    headers: { Authorization: "Bearer " + s.token, ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    body,
    cache: "no-store",
    credentials: "omit",
    redirect: "error",
  });
}

/** errorOf reads an error answer's message. */
async function errorOf(res) {
  try {
    const e = await res.json();
    if (e && e.error && typeof e.error.message === "string") return `${res.status} ${e.error.code}: ${e.error.message}`;
  } catch {
    // not JSON
  }
  return `status ${res.status}`;
}

// ------------------------------------------------------------ configuration

/**
 * teamFiles is the configuration preview pages get while connected: the
 * team's mpnet.json, or null (not connected, or the team has none yet:
 * the origin's own files apply).
 */
export function teamFiles() {
  if (!filesCache) {
    filesCache = Promise.all([settings(), config()]).then(([s, c]) =>
      !s || !c || c.appid !== s.appid || !c.body ? null : [{ name: "mpnet.json", content: c.body }]);
  }
  return filesCache;
}

// teamFiles answers from memory until the stored settings change: a
// page's hello waits for no storage read.
let filesCache = null;
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && (changes.team || changes.teamConfig)) filesCache = null;
});

/** pull fetches the team's configuration unless the stored ETag still holds. */
async function pull() {
  const s = await settings();
  if (!s) return;
  const old = await config();
  const same = old && old.appid === s.appid;
  const now = Date.now();
  let next;
  try {
    const res = await call(s, "GET", `/v1/projects/${s.appid}/config`, { headers: same && old.etag ? { "If-None-Match": old.etag } : {} });
    if (res.status === 304) {
      next = { ...old, checkedAt: now, error: "" };
    } else if (res.status === 200) {
      const len = Number(res.headers.get("Content-Length") || 0);
      const body = len > CONFIG_MAX ? "" : await res.text();
      if (!body || body.length > CONFIG_MAX) throw new Error(`the configuration is over ${CONFIG_MAX} bytes`);
      next = { appid: s.appid, body, etag: res.headers.get("ETag") || "", version: Number(res.headers.get("X-Mpnet-Config-Version")) || 0,
        fetchedAt: now, checkedAt: now, error: "" };
    } else if (res.status === 404) {
      next = { appid: s.appid, body: "", etag: "", version: 0, fetchedAt: 0, checkedAt: now, error: "no_config" };
    } else {
      next = { ...(same ? old : { appid: s.appid }), error: await errorOf(res) };
    }
  } catch (e) {
    next = { ...(same ? old : { appid: s.appid }), error: "offline: " + (e && e.message || e) };
  }
  await chrome.storage.local.set({ teamConfig: next });
}

// ------------------------------------------------------------------ reports

const seen = new Set();
let buffer = [];
let bufferTimer = 0;
let flushTimer = 0;

/**
 * teamRecords takes the call records a tab sent the background and
 * queues, once each, those to report. Cheap: it only buffers; the queue
 * is written a moment later.
 */
export function teamRecords(tabId, records) {
  if (!Array.isArray(records)) return;
  for (const r of records) {
    const rec = reportable(r);
    if (!rec) continue;
    const key = recordKey(tabId, r);
    if (seen.has(key)) continue;
    if (seen.size > 20000) seen.clear();
    seen.add(key);
    buffer.push(rec);
  }
  if (buffer.length && !bufferTimer) bufferTimer = setTimeout(saveBuffer, 300);
}

function saveBuffer() {
  bufferTimer = 0;
  const recs = buffer;
  buffer = [];
  return locked(async () => {
    if (!(await settings())) return; // not connected: nothing is reported
    await chrome.storage.local.set({ teamQueue: enqueue(await loadQueue(), recs) });
  }).then(() => scheduleFlush(1000));
}

function scheduleFlush(ms) {
  clearTimeout(flushTimer);
  flushTimer = setTimeout(() => { flush(false).catch(() => {}); }, Math.max(0, ms));
}

/**
 * flush sends the queue's batches in order; a batch that fails for a
 * passing reason waits for its backoff (force: send now anyway).
 */
function flush(force) {
  return locked(async () => {
    const s = await settings();
    if (!s) return;
    let q = await loadQueue();
    for (;;) {
      if (!q.batches.length) {
        if (!q.pending.length) break;
        q = formBatch(q, crypto.randomUUID());
        await chrome.storage.local.set({ teamQueue: q }); // the key is stored before the batch is sent
      }
      const b = q.batches[0];
      if (!force && b.next > Date.now()) {
        scheduleFlush(b.next - Date.now());
        break;
      }
      let status = 0;
      let error = "";
      try {
        const res = await call(s, "POST", `/v1/projects/${s.appid}/reports`, {
          body: JSON.stringify({ source: "extension", records: b.records }),
          headers: { "Idempotency-Key": b.key },
        });
        status = res.status;
        if (status !== 200) error = await errorOf(res);
      } catch (e) {
        error = "offline: " + (e && e.message || e);
      }
      const kind = outcome(status);
      q = { ...q, batches: q.batches.slice() };
      if (kind === "sent") {
        q.batches.shift();
        q.sent += b.records.length;
        q.lastSent = Date.now();
        q.lastError = "";
      } else if (kind === "rejected") {
        q.batches.shift();
        q.rejected += b.records.length;
        q.lastError = error;
      } else {
        const tries = b.tries + 1;
        q.batches[0] = { ...b, tries, next: Date.now() + backoff(tries) };
        q.lastError = error;
        await chrome.storage.local.set({ teamQueue: q });
        if (kind === "retry") scheduleFlush(q.batches[0].next - Date.now());
        break;
      }
      await chrome.storage.local.set({ teamQueue: q });
    }
  });
}

// ------------------------------------------------------------------ status

async function status() {
  const [s, c, q] = await Promise.all([settings(), config(), loadQueue()]);
  const next = q.batches.length ? q.batches[0].next : 0;
  return {
    connected: !!s,
    url: s ? s.url : "",
    appid: s ? s.appid : "",
    role: s ? s.role : "",
    name: s ? s.name : "",
    tokenId: s ? s.tokenId : "",
    config: c && s && c.appid === s.appid
      ? { version: c.version || 0, etag: c.etag || "", fetchedAt: c.fetchedAt || 0, checkedAt: c.checkedAt || 0, error: c.error || "", has: !!c.body }
      : null,
    queue: { waiting: queued(q), dropped: q.dropped, rejected: q.rejected, sent: q.sent, lastSent: q.lastSent, lastError: q.lastError, nextRetry: next },
  };
}

async function connect(msg) {
  const u = serviceURL(msg.url);
  if (u.error) return { ok: false, error: `service URL: ${u.error}` };
  const token = msg.token.trim();
  if (!validToken(token)) return { ok: false, error: "the token is not an mpnet token (mpnet_…)" };
  let who;
  try {
    const res = await call({ url: u.url, token }, "GET", "/v1/whoami");
    if (res.status !== 200) return { ok: false, error: await errorOf(res) };
    who = await res.json();
  } catch (e) {
    return { ok: false, error: `cannot reach ${u.url}: ${e && e.message || e}` };
  }
  if (!who || typeof who.project !== "string" || !who.project) return { ok: false, error: "this token belongs to no project" };
  if (u.appid && u.appid !== who.project) return { ok: false, error: `the token is for ${who.project}, the URL names ${u.appid}` };
  await chrome.storage.local.set({ team: { url: u.url, token, appid: who.project, role: String(who.role), name: String(who.name), tokenId: String(who.tokenId) } });
  await chrome.alarms.create(ALARM, { periodInMinutes: 1 });
  await pull();
  await flush(true);
  return { ok: true, status: await status() };
}

async function disconnect() {
  await chrome.alarms.clear(ALARM);
  await locked(() => chrome.storage.local.remove(["team", "teamConfig", "teamQueue"]));
  return { ok: true, status: await status() };
}

/**
 * teamMessage answers a team message from an extension page (reply is
 * the listener's sendResponse); it returns true: the answer is async.
 */
export function teamMessage(msg, sender, reply) {
  const bad = checkMessage(msg);
  if (bad || !fromExtensionPage(sender, chrome.runtime.getURL("").replace(/\/$/, ""))) {
    reply({ ok: false, error: bad || "team messages are accepted from the extension's own pages only" });
    return false;
  }
  const work = {
    teamGet: status,
    teamConnect: () => connect(msg),
    teamDisconnect: disconnect,
    teamSync: async () => { await pull(); await flush(true); return { ok: true, status: await status() }; },
  }[msg.type];
  Promise.resolve().then(work).then(reply, (e) => reply({ ok: false, error: String(e && e.message || e) }));
  return true;
}

// The worker (re)starts: pull, and send what an earlier life left queued.
chrome.alarms.onAlarm.addListener((a) => {
  if (a.name !== ALARM) return;
  pull().catch(() => {});
  flush(false).catch(() => {});
});
settings().then((s) => {
  if (!s) return;
  chrome.alarms.create(ALARM, { periodInMinutes: 1 });
  pull().catch(() => {});
  flush(false).catch(() => {});
});
