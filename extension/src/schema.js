// Schemas of the messages that cross the extension's trust boundary, and
// the one validator both sides of it use: the bridge (what the page runtime
// posts on its port, and what the background sends the page) and the
// background (what content scripts and the extension's own pages send).
// A message is rebuilt from its schema: fields the schema does not name are
// dropped, every string and array is bounded, a wrong type refuses the
// whole message with an error naming the field. Identity (tab, frame,
// origin) is never a field: it comes from the browser (`sender`).
//
// extension/PROTOCOL.md lists every message with its schema.

const APIS = ["request", "uploadFile", "downloadFile", "connectSocket", "tcp", "udp", "resource"];
const MODES = ["enforce", "report", "off"];
const STATES = ["waiting", "queued", "running", "done", "blocked", "failed"];
const VERDICTS = ["ok", "warn", "fail"];
const SEVERITIES = ["error", "warning", "info"];

/** The bounds (characters, elements) the schemas use. */
export const LIMITS = { url: 8192, text: 4096, short: 64, findings: 64, records: 500, problems: 200, batchBytes: 4 << 20 };

// Field kinds. Each is a function (value, path) -> cleaned value, throwing
// SchemaError; `optional` wraps one so that undefined (or null) is left out.
class SchemaError extends Error {}

const fail = (path, what) => { throw new SchemaError(`${path || "message"}: ${what}`); };

export const str = (max) => (v, p) => {
  if (typeof v !== "string") fail(p, `want a string, got ${typeOf(v)}`);
  if (v.length > max) fail(p, `${v.length} characters, at most ${max}`);
  return v;
};
export const oneOf = (values) => (v, p) => {
  if (!values.includes(v)) fail(p, `want one of ${values.join(", ")}, got ${JSON.stringify(v)}`.slice(0, 300));
  return v;
};
export const num = (v, p) => {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(p, `want a number, got ${typeOf(v)}`);
  return v;
};
export const int = (min, max) => (v, p) => {
  if (!Number.isInteger(v) || v < min || v > max) fail(p, `want an integer from ${min} to ${max}, got ${JSON.stringify(v)}`.slice(0, 300));
  return v;
};
export const bool = (v, p) => {
  if (typeof v !== "boolean") fail(p, `want true or false, got ${typeOf(v)}`);
  return v;
};
export const list = (item, max) => (v, p) => {
  if (!Array.isArray(v)) fail(p, `want a list, got ${typeOf(v)}`);
  if (v.length > max) fail(p, `${v.length} elements, at most ${max}`);
  return v.map((x, i) => item(x, `${p}[${i}]`));
};
export const bytes = (max) => (v, p) => {
  if (!(v instanceof Uint8Array)) fail(p, `want bytes, got ${typeOf(v)}`);
  if (v.length > max) fail(p, `${v.length} bytes, at most ${max}`);
  return v;
};
export const optional = (kind) => Object.assign((v, p) => kind(v, p), { optional: true });
export const obj = (fields) => (v, p) => {
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(p, `want an object, got ${typeOf(v)}`);
  const out = {};
  for (const [k, kind] of Object.entries(fields)) {
    const x = v[k];
    if (x === undefined || x === null) {
      if (kind.optional) continue;
      fail(p ? `${p}.${k}` : k, "missing");
    }
    out[k] = kind(x, p ? `${p}.${k}` : k);
  }
  return out;
};

function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v;
}

const text = str(LIMITS.text);
const short = str(LIMITS.short);
const url = str(LIMITS.url);
const ms = num;

const FINDING = obj({
  rule: short, severity: oneOf(SEVERITIES), message: text,
  fix: optional(text), console: optional(text), list: optional(short), entry: optional(str(300)),
});

/** A call record (PROTOCOL.md, "Records"). */
export const RECORD = obj({
  id: short, api: oneOf(APIS), method: short, url, frame: url, startedAt: ms,
  state: oneOf(STATES), verdict: oneOf(VERDICTS), rule: short, errMsg: text, proceeded: bool,
  findings: list(FINDING, LIMITS.findings), queuedMs: ms, durationMs: ms, status: int(0, 999),
  mode: str(16), unchecked: optional(bool),
  // R15: how the page made the call ("fetch", "xhr", "websocket"; for R13
  // resources the initiator), and whether it was the dev server's tooling.
  transport: optional(str(16)), tooling: optional(bool),
  // R14: the URLs a redirected call went through (the page knows where it
  // ended; the background's webRequest observer fills in the chain).
  hops: optional(list(url, 32)), hopsComplete: optional(bool),
  // R13: a resource's initiator type ("img", "audio", "video", ...).
  kind: optional(str(32)),
});

const PROBLEM = obj({
  rule: optional(short), severity: short, file: optional(str(300)), line: optional(int(0, 1e9)), col: optional(int(0, 1e9)),
  entry: optional(str(300)), list: optional(short), message: text, fix: optional(text),
});

/** The page runtime's state (mpnet.status()). */
export const STATUS = obj({
  state: oneOf(["loading", "ready", "failed", "off"]), error: text, mode: oneOf([...MODES, ""]), enabled: bool,
  hidden: bool, background: bool, appid: optional(short), version: optional(short), referer: str(300),
  restarts: int(0, 1e9), inFlight: int(0, 1e9), queued: int(0, 1e9), sockets: int(0, 1e9),
  placement: optional(oneOf(["page", "extension", ""])), switching: optional(bool), calls: optional(int(0, 1e12)), memory: optional(int(0, 2 ** 33)),
  problems: list(PROBLEM, LIMITS.problems), timings: optional(obj({})),
});

/**
 * What the page runtime may post on its port. The bridge relays "records",
 * "status", "resource", "referer" and "tlsVerdict" to the background (its
 * answer goes back with replyTo), and "engine" to the extension-hosted module.
 */
export const FROM_PAGE = {
  records: { records: list(RECORD, LIMITS.records) },
  status: { status: STATUS },
  resource: { url, kind: short },
  // The Referer rule (R8) for this tab: the value (the client's fixed
  // format) and the mode. The hosts it is scoped to are the background's
  // reading of the origin's configuration: a page does not name them.
  referer: {
    referer: (v, p) => {
      str(300)(v, p);
      if (v !== "" && !/^https:\/\/appservice\.wx\.com\/[^/\s]{1,64}\/[^/\s]{1,64}\/page-frame\.html$/.test(v)) fail(p, "not the client's Referer (https://appservice.wx.com/{appid}/{version}/page-frame.html)");
      return v;
    },
    mode: oneOf([...MODES, ""]),
  },
  // The R12 verdict on one server ("host:port"), which the engine waits for.
  tlsVerdict: {
    server: (v, p) => {
      str(300)(v, p);
      if (!/^[^\s/@]+:\d{1,5}$/.test(v)) fail(p, "want host:port");
      return v;
    },
  },
  // The runtime needs a (new) module host in the extension.
  engineHost: {},
  // The runtime asks the bridge for the module's bytes (to compile it in
  // the page), and says when the page's module took the engine over (the
  // bridge lets the host's instance go). Not relayed.
  moduleBytes: {},
  engineClose: {},
  // The module's messages for the extension-hosted module, in batches.
  engine: {
    batch: list(obj({
      seq: int(0, Number.MAX_SAFE_INTEGER), op: oneOf(["configure", "check", "step", "body", "debug"]),
      data: (v, p) => (typeof v === "number" ? int(0, 9)(v, p) : typeof v === "string" ? str(8 << 20)(v, p) : bytes(32 << 20)(v, p)),
    }), 1000),
  },
};

/** What the background sends a tab's bridge, relayed to the runtime. */
export const TO_PAGE = {
  control: { enabled: bool, mode: optional(oneOf(MODES)), background: bool },
  // An R12 verdict (abi.TLSVerdict; Go writes empty lists as null).
  tls: {
    verdict: obj({
      host: str(300), port: int(1, 65535), ok: bool, errMsg: text,
      findings: optional(list(obj({ rule: short, check: short, severity: short, platforms: optional(list(short, 4)), message: text, fix: optional(text) }), 32)),
      ios: obj({ ok: bool, fails: optional(list(short, 16)) }), android: obj({ ok: bool, fails: optional(list(short, 16)) }),
    }),
  },
};

const tabId = int(0, 2 ** 31);

/** What the extension's own pages (popup, options, panel) may send the background. */
export const FROM_EXTENSION = {
  getTab: { tabId },
  setTab: { tabId, enabled: optional(bool), mode: optional(oneOf([...MODES, ""])), background: optional(bool) },
  getRecords: { tabId },
  getSettings: {},
  saveOrigin: { origin: str(300), files: list(obj({ name: str(300), content: str(4 << 20) }), 32) },
  removeOrigin: { origin: str(300) },
  validate: { files: list(obj({ name: str(300), content: str(4 << 20) }), 32) },
};

/** What a DevTools panel may post on its port. */
export const FROM_PANEL = {
  clear: {},
  preserve: { on: bool },
};

/**
 * check validates msg against one of the schema sets above: {ok: true,
 * value} with a clean copy (type, replyTo and the schema's fields), or
 * {ok: false, error} naming the type or field. Unknown types are refused.
 */
export function check(schemas, msg) {
  if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return { ok: false, error: "not a message (no type)" };
  if (!Object.hasOwn(schemas, msg.type)) return { ok: false, error: `unknown message type ${JSON.stringify(msg.type).slice(0, 80)}` };
  try {
    const value = obj(schemas[msg.type])(msg, "");
    value.type = msg.type;
    if (msg.replyTo !== undefined) value.replyTo = str(64)(msg.replyTo, "replyTo");
    return { ok: true, value };
  } catch (e) {
    if (e instanceof SchemaError) return { ok: false, error: `${msg.type}: ${e.message}` };
    throw e;
  }
}
