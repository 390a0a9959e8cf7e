// The worker client: runs first inside every worker the preview starts (the
// blob: bootstrap of page/workers.js), installs the page runtime's own
// interceptors for fetch, XHR and WebSocket, and hands every call to the
// page's engine over a BroadcastChannel named by a secret of that page:
// the page opens, judges and records the call and sends its actions back.
// The worker keeps its original script's URL as its base (relative URLs,
// importScripts, self.location), as if it had been started from it.
//
// The worker's own scripts run after this one in the same global scope and
// may patch any built-in, as a page's scripts may in the page: the client
// keeps to the page runtime's rules (page/intrinsics.js; checked by
// extension/test/intrinsics-lint.test.mjs). Its call handles (onAction
// starts a call the engine queued), the channel (whose name is the secret:
// who knows it speaks as any of the page's workers' clients and reads their
// traffic) and the messages on it meet no replaceable prototype: the
// channel's postMessage, its onmessage setter and MessageEvent's `data`
// getter are taken when the client is evaluated, before the worker's
// scripts are loaded.

import { installFetch } from "../page/fetch.js";
import { installXHR } from "../page/xhr.js";
import { installWebSocket } from "../page/websocket.js";
import { CallError } from "../page/errors.js";
import {
  list, unproto, SafeMap, SafePromise, SafeString, SafeUint8Array, MathRound, ReflectApply, FunctionPrototypeCall, ObjectCreate,
  ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, uncurryThis, ArrayPrototypePush,
} from "../page/intrinsics.js";

const Channel = BroadcastChannel;
const ChannelPost = uncurryThis(Channel.prototype.postMessage);
const ChannelSetOnMessage = uncurryThis(ObjectGetOwnPropertyDescriptor(Channel.prototype, "onmessage").set);
const EventData = uncurryThis(ObjectGetOwnPropertyDescriptor(MessageEvent.prototype, "data").get);
const SafeURL = URL;
const URLHref = uncurryThis(ObjectGetOwnPropertyDescriptor(URL.prototype, "href").get);
const perf = performance;
const PerformanceNow = uncurryThis(Performance.prototype.now);
const ObjectPrototype = Object.prototype;
const LOCATION_KEYS = list("href", "origin", "protocol", "host", "hostname", "port", "pathname", "search", "hash");

/** start installs the client; boot is {url, type, tag, secret} from the page. */
export function start(boot) {
  const scope = globalThis;
  // Read once, here: nothing of the worker's own has run yet.
  const base = boot.url;
  const tag = boot.tag;
  const native = {
    __proto__: null,
    fetch: scope.fetch,
    XMLHttpRequest: scope.XMLHttpRequest,
    WebSocket: scope.WebSocket,
    setTimeout: scope.setTimeout.bind(scope),
    clearTimeout: scope.clearTimeout.bind(scope),
    now: () => PerformanceNow(perf),
    baseURI: () => base,
    Request: null,
  };
  // (fetch.js takes this Request: it resolves relative URLs against the
  // worker's script rather than its blob: bootstrap.)
  native.Request = installBase(scope, base, boot.type);

  const channel = new Channel(boot.secret);
  const post = (m) => ChannelPost(channel, { __proto__: null, w: tag, ...m });
  const calls = new SafeMap(); // call id -> {id, record, onAction, done}
  const bodies = new SafeMap(); // seq -> resolve
  let nextId = 0;
  let nextBody = 0;
  let enforce = true;

  // Messages are structured clones made in this realm: null prototypes
  // before anything reads them (a field a message lacks reads as undefined,
  // not as a worker script's accessor on Object.prototype).
  ChannelSetOnMessage(channel, (e) => {
    const m = unproto(EventData(e));
    if (m === null || typeof m !== "object" || (m.to !== tag && m.to !== "*")) return;
    if (m.t === "act") {
      const c = calls.get(m.id);
      const a = m.a;
      if (!c || a === null || typeof a !== "object") return;
      if (a.type === "block" || a.type === "fail") calls.delete(m.id);
      c.onAction(a, c);
    } else if (m.t === "body") {
      const f = bodies.get(m.seq);
      bodies.delete(m.seq);
      if (f) f(m.bytes);
    } else if (m.t === "state") {
      enforce = !!m.enforce;
      rt.mode = SafeString(m.mode || "");
    }
  });

  // The runtime interface the interceptors use (page/runtime.js has the
  // same methods): everything goes to the page.
  const rt = {
    __proto__: null,
    state: "ready",
    mode: "",
    error: "",
    frame: base,
    failing: null, // frameworks.js's hook in the page; unused in workers
    timings: { __proto__: null, documentStart: 0 },
    now: () => MathRound(native.now()),
    active: () => true,
    // The engine runs in the page, never in this worker: a synchronous XHR
    // is answered by checkSync.
    localPending: () => false,
    // facts as the page runtime's open takes them (the transport's view of
    // the call, R15); the page opens and judges the call.
    open(facts, onAction) {
      const id = ++nextId;
      const api = facts.api || "";
      const c = {
        __proto__: null,
        id,
        record: { __proto__: null, status: 0, api: api || (facts.transport === "websocket" ? "connectSocket" : "request") },
        onAction: (a, call) => {
          if (a.api) c.record.api = a.api;
          onAction(a, call);
        },
        done: false,
      };
      calls.set(id, c);
      post({ __proto__: null, t: "open", id, facts: { __proto__: null, ...facts, api } });
      return new SafePromise((resolve) => resolve(c));
    },
    redirect(c, url) { post({ __proto__: null, t: "redirect", id: c.id, url }); },
    response(c, status) {
      c.record.status = status;
      post({ __proto__: null, t: "response", id: c.id, status });
    },
    connected(c) { post({ __proto__: null, t: "connected", id: c.id }); },
    finish(c, extra) {
      if (c.done) return;
      c.done = true;
      calls.delete(c.id);
      post({ __proto__: null, t: "finish", id: c.id, status: extra && extra.status !== undefined ? extra.status : c.record.status });
    },
    abort(c) { post({ __proto__: null, t: "abort", id: c.id }); },
    body(c, api, ct, bytes) {
      return new SafePromise((resolve) => {
        const seq = ++nextBody;
        bodies.set(seq, (out) => resolve({ __proto__: null, bytes: out instanceof SafeUint8Array ? out : bytes, result: null }));
        post({ __proto__: null, t: "body", id: c.id, seq, api, ct, bytes });
      });
    },
    // A worker cannot wait for the page's engine synchronously: a
    // synchronous XHR is refused in enforce mode and reported.
    checkSync(req) {
      const why = "mpnet cannot judge a synchronous XMLHttpRequest made in a worker (the engine runs in the page)";
      return {
        __proto__: null, allowed: false, proceed: !enforce, rule: "", errMsg: `${req.api}:fail ${why}`, message: `[sync] ${why}`, warnings: list(),
        api: req.api, url: req.url,
      };
    },
    emit(record) { post({ __proto__: null, t: "record", record }); },
  };

  installFetch(rt, native, CallError);
  installXHR(rt, native, CallError);
  installWebSocket(rt, native, CallError);

  const close = scope.close;
  if (typeof close === "function") {
    scope.close = function () {
      post({ __proto__: null, t: "gone" });
      return FunctionPrototypeCall(close, this);
    };
  }
  post({ __proto__: null, t: "hello" });
}

// installBase makes the worker behave as if started from its script's URL:
// relative URLs in Request, importScripts and self.location. It answers the
// Request constructor it installs.
function installBase(scope, base, type) {
  const NativeRequest = scope.Request;
  const Request = /* page-visible */ class Request extends NativeRequest {
    constructor(input, init) {
      super(typeof input === "string" || input instanceof SafeURL ? URLHref(new SafeURL(input, base)) : input, init);
    }
  };
  ObjectDefineProperty(Request, "name", { __proto__: null, value: "Request" });
  scope.Request = Request;
  if (type !== "module" && typeof scope.importScripts === "function") {
    const importScripts = scope.importScripts;
    scope.importScripts = function () {
      const urls = list();
      for (let i = 0; i < arguments.length; i++) ArrayPrototypePush(urls, URLHref(new SafeURL(SafeString(arguments[i]), base)));
      return ReflectApply(importScripts, this, urls);
    };
  }
  const u = new SafeURL(base);
  const href = URLHref(u);
  const Location = scope.WorkerLocation;
  const loc = ObjectCreate(Location ? Location.prototype : ObjectPrototype);
  for (let i = 0; i < LOCATION_KEYS.length; i++) {
    const k = LOCATION_KEYS[i];
    ObjectDefineProperty(loc, k, { __proto__: null, value: u[k], enumerable: true });
  }
  ObjectDefineProperty(loc, "toString", { __proto__: null, value: () => href });
  ObjectDefineProperty(scope, "location", { __proto__: null, get: () => loc, configurable: true });
  return Request;
}
