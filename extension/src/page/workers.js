// Workers the page starts join the page's engine: one pool of 10 and one
// socket cap per mini program (DESIGN.md). Content scripts do not run inside
// workers, so the runtime wraps the Worker and SharedWorker constructors: a
// worker starts from a blob: bootstrap that installs the same interceptors
// (fetch.js, xhr.js, websocket.js) over a small client (worker/client.js),
// then loads the original script (importScripts for classic workers, a
// static import after the client's module for module workers). The client
// speaks to this runtime over a BroadcastChannel whose name is a secret of
// this frame, carried in the bootstrap; every call is opened, judged and
// recorded here, and its actions go back to the worker.
//
// Kept as the platform does: `instanceof Worker`, subclassing, the options
// (type, name, credentials), the worker's own message channel (untouched),
// relative URLs and `self.location` inside the worker (they name the
// original script, not the blob). A SharedWorker is one instance per frame
// and (URL, name): repeated constructions reach the same one. When the
// page's CSP forbids blob: workers, the worker runs as written and a record
// says its calls are not checked. docs/RATIONALE.md, "Workers".

import {
  list, unproto, stringify, SafeMap, ArrayPrototypePush, ArrayIsArray, ObjectDefineProperty, ObjectSetPrototypeOf,
  SafeString, SafeNumber, NumberIsInteger, DateNow, MathRandom, NumberPrototypeToString, StringPrototypeSlice, RegExpTest,
  ReflectConstruct, FunctionPrototypeCall, PromisePrototypeThen, uncurryThis, ObjectGetOwnPropertyDescriptor, SafeUint8Array,
  u8,
} from "./intrinsics.js";
import { when } from "./engine.js";

const CLIENT = typeof MPNET_WORKER_CLIENT === "string" ? MPNET_WORKER_CLIENT : "";

export function installWorkers(rt, native) {
  const NativeWorker = globalThis.Worker;
  const NativeShared = globalThis.SharedWorker;
  if (!CLIENT || !NativeWorker) return;
  const Channel = globalThis.BroadcastChannel;
  const NativeBlob = Blob;
  const createURL = URL.createObjectURL;
  const revokeURL = URL.revokeObjectURL;
  const uuid = crypto.randomUUID.bind(crypto);
  const channelPost = Channel ? uncurryThis(Channel.prototype.postMessage) : null;
  const listen = uncurryThis(EventTarget.prototype.addEventListener);
  const eventData = uncurryThis(ObjectGetOwnPropertyDescriptor(MessageEvent.prototype, "data").get);
  const SafeURL = URL;
  const URLHref = uncurryThis(ObjectGetOwnPropertyDescriptor(URL.prototype, "href").get);
  const URLProtocol = uncurryThis(ObjectGetOwnPropertyDescriptor(URL.prototype, "protocol").get);
  const secret = "mpnet-" + uuid();
  const workers = new SafeMap(); // tag -> {label, calls: Map<worker call id, call>, urls}
  const shared = new SafeMap(); // "url|name|type" -> {entry, tag}
  let channel = null;

  const post = (to, m) => channelPost(channel, { __proto__: null, to, ...m });

  function open() {
    if (channel) return;
    channel = new Channel(secret);
    // Clients' messages are structured clones made in this realm: null
    // prototypes before anything reads them.
    listen(channel, "message", (e) => onClient(unproto(eventData(e))));
  }

  // bootstrap makes the blob: URLs that start a worker: [entry, ...others].
  function bootstrap(url, type, tag) {
    const boot = stringify({ __proto__: null, url, type, tag, secret });
    const client = `(function () {\n${CLIENT}\nmpnetWorkerClient.start(${boot});\n})();\n`;
    // Blob parts are a WebIDL sequence: iterated (docs/RATIONALE.md, residual risks).
    const blob = (text) => createURL(new NativeBlob(/* page-visible */ [text], { __proto__: null, type: "text/javascript" }));
    if (type === "module") {
      const c = blob(client);
      return list(blob(`import ${stringify(c)};\nimport ${stringify(url)};\n`), c);
    }
    return list(blob(client + `importScripts(${stringify(url)});\n`));
  }

  function register(tag, url, urls, kind) {
    open();
    workers.set(tag, { __proto__: null, label: `${url} (${kind})`, calls: new SafeMap(), urls });
  }

  function unchecked(url, kind, e) {
    // The page's CSP forbids blob: workers: the worker runs unwrapped, and says so.
    const id = `worker-${StringPrototypeSlice(NumberPrototypeToString(MathRandom(), 36), 2, 8)}`;
    rt.emit({
      __proto__: null, id, api: "request", method: "", url, frame: rt.frame, startedAt: DateNow(), state: "done", verdict: "warn", rule: "",
      errMsg: "", proceeded: true, findings: list({ __proto__: null, rule: "", severity: "warning", message: `[workers] the ${kind} ${url} runs without mpnet: its fetch, XHR and WebSocket calls are not checked (${e && e.message || e})`, fix: "allow blob: in the page's worker-src (or script-src) Content-Security-Policy while previewing" }),
      queuedMs: 0, durationMs: 0, status: 0, mode: rt.mode, unchecked: true,
    });
  }

  // resolve answers the absolute URL of a worker script the bootstrap can
  // load, or "" to leave the worker alone (data: workers have an origin of
  // their own, which a blob: bootstrap would change).
  function resolve(scriptURL) {
    try {
      const u = new SafeURL(SafeString(scriptURL), native.baseURI());
      return RegExpTest(/^(https?|blob):$/, URLProtocol(u)) ? URLHref(u) : "";
    } catch (e) {
      return "";
    }
  }

  function Worker(scriptURL, options) {
    if (!new.target) throw new TypeError("Failed to construct 'Worker': Please use the 'new' operator, this DOM object constructor cannot be called as a function.");
    const url = resolve(scriptURL);
    if (!url) return ReflectConstruct(NativeWorker, list(scriptURL, options), new.target);
    const type = options && options.type === "module" ? "module" : "classic";
    const tag = uuid();
    const urls = bootstrap(url, type, tag);
    let w;
    try {
      w = ReflectConstruct(NativeWorker, list(urls[0], options), new.target);
    } catch (e) {
      for (let i = 0; i < urls.length; i++) revokeURL(urls[i]);
      const plain = ReflectConstruct(NativeWorker, list(scriptURL, options), new.target);
      unchecked(url, "worker", e);
      return plain;
    }
    register(tag, url, urls, type === "module" ? "module worker" : "worker");
    // A terminated worker's calls end with it: their places in the pool go.
    const terminate = w.terminate;
    ObjectDefineProperty(w, "terminate", {
      __proto__: null, value: function () { gone(tag); return FunctionPrototypeCall(terminate, this); }, writable: true, configurable: true,
    });
    return w;
  }

  function SharedWorker(scriptURL, options) {
    if (!new.target) throw new TypeError("Failed to construct 'SharedWorker': Please use the 'new' operator, this DOM object constructor cannot be called as a function.");
    const url = resolve(scriptURL);
    if (!url) return ReflectConstruct(NativeShared, list(scriptURL, options), new.target);
    const name = typeof options === "string" ? options : (options && options.name) || "";
    const type = options && typeof options === "object" && options.type === "module" ? "module" : "classic";
    const key = `${url}|${name}|${type}`;
    let s = shared.get(key);
    if (!s) {
      const tag = uuid();
      s = { __proto__: null, tag, urls: bootstrap(url, type, tag) };
    }
    let w;
    try {
      w = ReflectConstruct(NativeShared, list(s.urls[0], options), new.target);
    } catch (e) {
      if (!shared.has(key)) for (let i = 0; i < s.urls.length; i++) revokeURL(s.urls[i]);
      const plain = ReflectConstruct(NativeShared, list(scriptURL, options), new.target);
      unchecked(url, "shared worker", e);
      return plain;
    }
    if (!shared.has(key)) {
      // The blob: URLs stay: the same frame reaches this instance through them.
      shared.set(key, s);
      register(s.tag, url, list(), "shared worker");
    }
    return w;
  }

  // gone ends a worker's calls (terminated, or closed itself).
  function gone(tag) {
    const w = workers.get(tag);
    if (!w) return;
    workers.delete(tag);
    w.calls.forEach((c) => {
      rt.abort(c);
      rt.finish(c, { __proto__: null, status: c.record.status });
    });
  }

  // onClient carries out what a worker's client asks (worker/client.js).
  function onClient(m) {
    if (!m || typeof m.w !== "string") return;
    const w = workers.get(m.w);
    if (!w) return;
    const c = NumberIsInteger(m.id) ? w.calls.get(m.id) : undefined;
    switch (m.t) {
      case "hello":
        for (let i = 0; i < w.urls.length; i++) revokeURL(w.urls[i]);
        w.urls = list();
        post(m.w, { __proto__: null, t: "state", mode: rt.mode, enforce: rt.active() && rt.mode === "enforce" });
        break;
      case "open": {
        const f = m.facts;
        if (!f || typeof f !== "object" || typeof f.url !== "string" || !NumberIsInteger(m.id)) return;
        const str = (v) => (typeof v === "string" ? v : "");
        const strs = (v) => {
          const out = list();
          if (ArrayIsArray(v)) for (let i = 0; i < v.length; i++) ArrayPrototypePush(out, SafeString(v[i]));
          return out;
        };
        // The transport's facts, rebuilt field by field (R15: the module
        // names the API from them); the origin is this frame's own.
        PromisePrototypeThen(rt.open({
          __proto__: null, api: str(f.api), url: f.url, method: str(f.method) || "GET", timeout: SafeNumber(f.timeout) || 0, headers: strs(f.headers),
          transport: str(f.transport), protocols: strs(f.protocols), accept: str(f.accept), body: str(f.body),
          contentType: str(f.contentType), responseType: str(f.responseType), frame: w.label,
        }, (a) => post(m.w, { __proto__: null, t: "act", id: m.id, a })), (call) => {
          if (workers.get(m.w) === w) w.calls.set(m.id, call);
        }, (e) => post(m.w, { __proto__: null, t: "act", id: m.id, a: { __proto__: null, type: "fail", id: m.id, errMsg: SafeString(e && e.message || e) } }));
        break;
      }
      case "redirect":
        if (c && typeof m.url === "string") rt.redirect(c, m.url);
        break;
      case "response":
        if (c) rt.response(c, SafeNumber(m.status) || 0);
        break;
      case "connected":
        if (c) rt.connected(c);
        break;
      case "finish":
        if (c) {
          w.calls.delete(m.id);
          rt.finish(c, { __proto__: null, status: SafeNumber(m.status) || 0 });
        }
        break;
      case "abort":
        if (c) rt.abort(c);
        break;
      case "body": {
        const bytes = m.bytes instanceof SafeUint8Array ? m.bytes : u8(0);
        const reply = (res) => post(m.w, { __proto__: null, t: "body", seq: m.seq, bytes: res.bytes });
        if (!c) reply({ __proto__: null, bytes });
        else {
          try {
            when(rt.body(c, SafeString(m.api), SafeString(m.ct || ""), bytes), reply, () => reply({ __proto__: null, bytes }));
          } catch (e) {
            reply({ __proto__: null, bytes });
          }
        }
        break;
      }
      case "record":
        if (m.record && typeof m.record === "object" && typeof m.record.id === "string") rt.emit({ __proto__: null, ...m.record, frame: w.label });
        break;
      case "gone":
        gone(m.w);
        break;
    }
  }

  // The mode may change (popup): clients judge synchronous XHR by it.
  rt.onState = () => {
    if (channel && workers.size) channelPost(channel, { __proto__: null, to: "*", t: "state", mode: rt.mode, enforce: rt.active() && rt.mode === "enforce" });
  };

  const wrap = (name, fn, Native) => {
    if (!Native) return;
    fn.prototype = Native.prototype;
    ObjectSetPrototypeOf(fn, Native);
    ObjectDefineProperty(fn, "name", { __proto__: null, value: name });
    ObjectDefineProperty(fn, "length", { __proto__: null, value: 1 });
    fn.toString = () => `function ${name}() { [native code] }`;
    globalThis[name] = fn;
  };
  wrap("Worker", Worker, NativeWorker);
  wrap("SharedWorker", SharedWorker, NativeShared);
}
