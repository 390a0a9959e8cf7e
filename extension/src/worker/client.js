// The worker client: runs first inside every worker the preview starts (the
// blob: bootstrap of page/workers.js), installs the page runtime's own
// interceptors for fetch, XHR and WebSocket, and hands every call to the
// page's engine over a BroadcastChannel named by a secret of that page:
// the page opens, judges and records the call and sends its actions back.
// The worker keeps its original script's URL as its base (relative URLs,
// importScripts, self.location), as if it had been started from it.

import { installFetch } from "../page/fetch.js";
import { installXHR } from "../page/xhr.js";
import { installWebSocket } from "../page/websocket.js";
import { CallError } from "../page/errors.js";

/** start installs the client; boot is {url, type, tag, secret} from the page. */
export function start(boot) {
  const scope = globalThis;
  const base = boot.url;
  const native = {
    fetch: scope.fetch,
    XMLHttpRequest: scope.XMLHttpRequest,
    WebSocket: scope.WebSocket,
    setTimeout: scope.setTimeout.bind(scope),
    clearTimeout: scope.clearTimeout.bind(scope),
    now: performance.now.bind(performance),
    baseURI: () => base,
  };
  keepBase(scope, base, boot.type);
  native.Request = scope.Request; // taken by fetch.js for relative URLs

  const channel = new BroadcastChannel(boot.secret);
  const post = (m) => channel.postMessage({ w: boot.tag, ...m });
  const calls = new Map(); // call id -> {id, record, onAction}
  const bodies = new Map(); // seq -> resolve
  let nextId = 0;
  let nextBody = 0;
  let enforce = true;

  channel.onmessage = (e) => {
    const m = e.data;
    if (!m || (m.to !== boot.tag && m.to !== "*")) return;
    if (m.t === "act") {
      const c = calls.get(m.id);
      if (!c) return;
      if (m.a.type === "block" || m.a.type === "fail") calls.delete(m.id);
      c.onAction(m.a, c);
    } else if (m.t === "body") {
      const f = bodies.get(m.seq);
      bodies.delete(m.seq);
      if (f) f(m.bytes);
    } else if (m.t === "state") {
      enforce = !!m.enforce;
      rt.mode = String(m.mode || "");
    }
  };

  // The runtime interface the interceptors use (page/runtime.js has the
  // same methods): everything goes to the page.
  const rt = {
    state: "ready",
    mode: "",
    frame: base,
    failing: null, // frameworks.js's hook in the page; unused in workers
    timings: { documentStart: 0 },
    now: () => Math.round(native.now()),
    active: () => true,
    // facts as the page runtime's open takes them (the transport's view of
    // the call, R15); the page opens and judges the call.
    open(facts, onAction) {
      const id = ++nextId;
      const api = facts.api || "";
      const c = { id, record: { status: 0, api: api || (facts.transport === "websocket" ? "connectSocket" : "request") }, onAction: (a, call) => {
        if (a.api) c.record.api = a.api;
        onAction(a, call);
      } };
      calls.set(id, c);
      post({ t: "open", id, facts: { ...facts, api } });
      return Promise.resolve(c);
    },
    redirect(c, url) { post({ t: "redirect", id: c.id, url }); },
    response(c, status) {
      c.record.status = status;
      post({ t: "response", id: c.id, status });
    },
    connected(c) { post({ t: "connected", id: c.id }); },
    finish(c, extra = {}) {
      if (c.done) return;
      c.done = true;
      calls.delete(c.id);
      post({ t: "finish", id: c.id, status: extra.status !== undefined ? extra.status : c.record.status });
    },
    abort(c) { post({ t: "abort", id: c.id }); },
    body(c, api, ct, bytes) {
      return new Promise((resolve) => {
        const seq = ++nextBody;
        bodies.set(seq, (out) => resolve({ bytes: out instanceof Uint8Array ? out : bytes, result: null }));
        post({ t: "body", id: c.id, seq, api, ct, bytes });
      });
    },
    // A worker cannot wait for the page's engine synchronously: a
    // synchronous XHR is refused in enforce mode and reported.
    checkSync(req) {
      const why = "mpnet cannot judge a synchronous XMLHttpRequest made in a worker (the engine runs in the page)";
      return { allowed: false, proceed: !enforce, rule: "", errMsg: `${req.api}:fail ${why}`, message: `[sync] ${why}`, warnings: [], api: req.api, url: req.url };
    },
    emit(record) { post({ t: "record", record }); },
  };

  installFetch(rt, native, CallError);
  installXHR(rt, native, CallError);
  installWebSocket(rt, native, CallError);

  const close = scope.close;
  if (typeof close === "function") {
    scope.close = function () {
      post({ t: "gone" });
      return close.call(this);
    };
  }
  post({ t: "hello" });
}

// keepBase makes the worker behave as if started from its script's URL:
// relative URLs in Request, importScripts and self.location.
function keepBase(scope, base, type) {
  const NativeRequest = scope.Request;
  class Request extends NativeRequest {
    constructor(input, init) {
      super(typeof input === "string" || input instanceof URL ? new URL(input, base).href : input, init);
    }
  }
  Object.defineProperty(Request, "name", { value: "Request" });
  scope.Request = Request;
  if (type !== "module" && typeof scope.importScripts === "function") {
    const importScripts = scope.importScripts;
    scope.importScripts = function (...urls) {
      return importScripts.apply(this, urls.map((u) => new URL(String(u), base).href));
    };
  }
  const u = new URL(base);
  const Location = scope.WorkerLocation;
  const loc = Object.create(Location ? Location.prototype : Object.prototype);
  for (const k of ["href", "origin", "protocol", "host", "hostname", "port", "pathname", "search", "hash"]) {
    Object.defineProperty(loc, k, { value: u[k], enumerable: true });
  }
  Object.defineProperty(loc, "toString", { value: () => u.href });
  Object.defineProperty(scope, "location", { get: () => loc, configurable: true });
}
