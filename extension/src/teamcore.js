// The team service's client logic that needs no browser: message schemas,
// the service URL and token checks, which records are reported, the
// bounded report queue and its batches, the retry backoff and the
// freshness of the team's configuration. team.js (the background) and
// the options page and panel (ui/team.js, ui/teampanel.js) use it;
// extension/test/teamcore.test.mjs tests it in Node.
//
// No rule logic here: the service judges every reported URL again with
// the same Go code the module runs (service/API.md).

/** At most this many records wait to be sent; older ones are dropped (and counted). */
export const QUEUE_MAX = 5000;
/** At most this many records go in one batch. */
export const BATCH_MAX = 200;
/** Retry delays grow from BACKOFF_MIN to BACKOFF_MAX (ms). */
export const BACKOFF_MIN = 5000;
export const BACKOFF_MAX = 10 * 60 * 1000;
/** A configuration answer larger than this is refused (bytes). */
export const CONFIG_MAX = 256 * 1024;
/** A reported URL longer than this is left out (the service refuses it too). */
export const URL_MAX = 8192;
/** The APIs a record may name (the service's list, abi.APIs). */
export const REPORT_APIS = ["request", "uploadFile", "downloadFile", "connectSocket", "tcp", "udp", "resource"];

/**
 * serviceURL reads what the user typed as the service's address: its base
 * URL or a project's URL (https://HOST[/PREFIX]/v1/projects/APPID). It
 * answers {url, appid} (url without a trailing slash, appid "" when not
 * given) or {error}. Plain http is accepted on loopback only (a
 * self-hosted service on this computer), never with credentials in it.
 */
export function serviceURL(raw) {
  let u;
  try {
    u = new URL(String(raw || "").trim());
  } catch {
    return { error: "not a URL" };
  }
  if (u.username || u.password) return { error: "credentials in the URL" };
  const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]";
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) return { error: "https only (http on 127.0.0.1 or localhost)" };
  if (u.search || u.hash) return { error: "no query or fragment" };
  let path = u.pathname.replace(/\/+$/, "");
  let appid = "";
  const m = /^(.*?)\/v1\/projects\/([A-Za-z0-9_-]{1,64})(\/.*)?$/.exec(path);
  if (m) {
    path = m[1];
    appid = m[2];
  } else {
    path = path.replace(/\/v1$/, "");
  }
  return { url: u.origin + path, appid };
}

/** validToken reports whether s looks like a service token (mpnet_<id>_<secret>). */
export function validToken(s) {
  return typeof s === "string" && /^mpnet_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/.test(s);
}

// The messages extension pages send the background for the team service,
// each with its fields' types: anything else is refused.
const SCHEMAS = {
  teamGet: {},
  teamConnect: { url: "string", token: "string" },
  teamDisconnect: {},
  teamSync: {},
};

/** isTeamMessage reports whether a message is meant for the team service. */
export function isTeamMessage(msg) {
  return !!msg && typeof msg === "object" && typeof msg.type === "string" && msg.type.startsWith("team");
}

/**
 * checkMessage validates a team message against its schema: "" when it is
 * valid, else what is wrong.
 */
export function checkMessage(msg) {
  if (!isTeamMessage(msg)) return "not a team message";
  const schema = Object.hasOwn(SCHEMAS, msg.type) ? SCHEMAS[msg.type] : null;
  if (!schema) return `unknown message type ${JSON.stringify(msg.type)}`;
  for (const k of Object.keys(msg)) {
    if (k === "type") continue;
    if (!Object.hasOwn(schema, k)) return `unexpected field ${JSON.stringify(k)}`;
    if (typeof msg[k] !== schema[k]) return `${k}: want a ${schema[k]}`;
    if (typeof msg[k] === "string" && msg[k].length > 2048) return `${k}: too long`;
  }
  for (const k of Object.keys(schema)) if (!Object.hasOwn(msg, k)) return `missing field ${JSON.stringify(k)}`;
  return "";
}

/**
 * fromExtensionPage reports whether a message's sender is one of the
 * extension's own pages (options, panel, popup): its URL is the
 * extension's. Content scripts (and through them, pages) are refused:
 * their sender URL is the web page's.
 */
export function fromExtensionPage(sender, extensionOrigin) {
  if (!sender || typeof sender.url !== "string") return false;
  if (sender.origin !== undefined && sender.origin !== extensionOrigin) return false;
  return sender.url.startsWith(extensionOrigin + "/");
}

/** FINAL are the states in which a call's record no longer changes its verdict. */
const FINAL = ["done", "blocked", "failed"];

/**
 * reportable turns a call record into what is reported ({api, url, at}),
 * or null: only finished calls the preview found wrong (fail or warn) go
 * to the service, which judges each again.
 */
export function reportable(r) {
  if (!r || typeof r !== "object") return null;
  if (r.verdict !== "fail" && r.verdict !== "warn") return null;
  if (!FINAL.includes(r.state)) return null;
  if (!REPORT_APIS.includes(r.api) || typeof r.url !== "string" || !r.url || r.url.length > URL_MAX) return null;
  const at = typeof r.startedAt === "number" && Number.isFinite(r.startedAt) ? Math.round(r.startedAt) : 0;
  return at > 0 ? { api: r.api, url: r.url, at } : { api: r.api, url: r.url };
}

/** recordKey identifies a call across the record's repeated updates. */
export function recordKey(tabId, r) {
  return `${tabId}|${r.id}|${r.startedAt}|${r.url}`;
}

/** emptyQueue is a new report queue. */
export function emptyQueue() {
  return { pending: [], batches: [], dropped: 0, rejected: 0, sent: 0, lastSent: 0, lastError: "" };
}

/** queued counts the records waiting in a queue. */
export function queued(q) {
  return q.pending.length + q.batches.reduce((n, b) => n + b.records.length, 0);
}

/**
 * enqueue adds records to the queue, keeping at most QUEUE_MAX: beyond it
 * the oldest pending records are dropped and counted in `dropped` (shown
 * to the user; batches already formed keep their key and are never cut).
 */
export function enqueue(q, recs) {
  const next = { ...q, pending: [...q.pending, ...recs] };
  const over = queued(next) - QUEUE_MAX;
  if (over > 0) {
    const cut = Math.min(over, next.pending.length);
    next.pending = next.pending.slice(cut);
    next.dropped += cut;
  }
  return next;
}

/**
 * formBatch moves up to BATCH_MAX pending records into a new batch named
 * key (its Idempotency-Key, kept with it through every retry and restart).
 */
export function formBatch(q, key) {
  if (!q.pending.length) return q;
  const records = q.pending.slice(0, BATCH_MAX);
  return { ...q, pending: q.pending.slice(records.length), batches: [...q.batches, { key, records, tries: 0, next: 0 }] };
}

/** backoff is the delay before retry number tries (1, 2, ...), with jitter from rand in [0, 1). */
export function backoff(tries, rand = Math.random()) {
  const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** Math.max(0, tries - 1));
  return Math.round(base * (0.5 + rand / 2));
}

/**
 * outcome classifies a service answer to a batch: "sent", "retry" (network,
 * 408, 429, 5xx: the same batch is sent again later), "auth" (401, 403:
 * kept until the user reconnects) or "rejected" (another 4xx: the batch
 * can never succeed; it is dropped and counted).
 */
export function outcome(status) {
  if (status === 200) return "sent";
  if (!status || status === 408 || status === 429 || status >= 500) return "retry";
  if (status === 401 || status === 403) return "auth";
  return "rejected";
}

/**
 * freshness says how old the team's configuration is: {state, ageMs}
 * where state is "none" (never fetched), "fresh" (checked within 5 min),
 * "stale" (older: the service was not reachable) or "error".
 */
export function freshness(cfg, now) {
  if (!cfg || !cfg.checkedAt) return { state: "none", ageMs: 0 };
  const ageMs = Math.max(0, now - cfg.checkedAt);
  if (cfg.error && !cfg.body) return { state: "error", ageMs };
  return { state: ageMs <= 5 * 60 * 1000 && !cfg.error ? "fresh" : "stale", ageMs };
}

/** ago renders a duration in ms as "12 s", "3 min", "2 h" or "4 d" (zh: "12 秒" ...). */
export function ago(ms, lang = "en") {
  const u = String(lang).startsWith("zh") ? [" 秒", " 分钟", " 小时", " 天"] : [" s", " min", " h", " d"];
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + u[0];
  if (s < 3600) return Math.round(s / 60) + u[1];
  if (s < 86400) return Math.round(s / 3600) + u[2];
  return Math.round(s / 86400) + u[3];
}
