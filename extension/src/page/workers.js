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

const CLIENT = typeof MPNET_WORKER_CLIENT === "string" ? MPNET_WORKER_CLIENT : "";

export function installWorkers(rt, native) {
  const NativeWorker = globalThis.Worker;
  const NativeShared = globalThis.SharedWorker;
  if (!CLIENT || !NativeWorker) return;
  const Channel = globalThis.BroadcastChannel;
  const NativeBlob = Blob;
  const createURL = URL.createObjectURL;
  const revokeURL = URL.revokeObjectURL;
  const stringify = JSON.stringify;
  const secret = "mpnet-" + crypto.randomUUID();
  const workers = new Map(); // tag -> {label, calls: Map<worker call id, call>, urls}
  const shared = new Map(); // "url|name|type" -> {entry, tag}
  let channel = null;

  const post = (to, m) => channel.postMessage({ to, ...m });

  function listen() {
    if (channel) return;
    channel = new Channel(secret);
    channel.onmessage = (e) => onClient(e.data);
  }

  // bootstrap makes the blob: URLs that start a worker: [entry, ...others].
  function bootstrap(url, type, tag) {
    const boot = stringify({ url, type, tag, secret });
    const client = `(function () {\n${CLIENT}\nmpnetWorkerClient.start(${boot});\n})();\n`;
    const blob = (text) => createURL(new NativeBlob([text], { type: "text/javascript" }));
    if (type === "module") {
      const c = blob(client);
      return [blob(`import ${stringify(c)};\nimport ${stringify(url)};\n`), c];
    }
    return [blob(client + `importScripts(${stringify(url)});\n`)];
  }

  function register(tag, url, urls, kind) {
    listen();
    workers.set(tag, { label: `${url} (${kind})`, calls: new Map(), urls });
  }

  function unchecked(url, kind, e) {
    // The page's CSP forbids blob: workers: the worker runs unwrapped, and says so.
    const id = `worker-${Math.random().toString(36).slice(2, 8)}`;
    rt.emit({
      id, api: "request", method: "", url, frame: rt.frame, startedAt: Date.now(), state: "done", verdict: "warn", rule: "",
      errMsg: "", proceeded: true, findings: [{ rule: "", severity: "warning", message: `[workers] the ${kind} ${url} runs without mpnet: its fetch, XHR and WebSocket calls are not checked (${e && e.message || e})`, fix: "allow blob: in the page's worker-src (or script-src) Content-Security-Policy while previewing" }],
      queuedMs: 0, durationMs: 0, status: 0, mode: rt.mode, unchecked: true,
    });
  }

  // resolve answers the absolute URL of a worker script the bootstrap can
  // load, or "" to leave the worker alone (data: workers have an origin of
  // their own, which a blob: bootstrap would change).
  function resolve(scriptURL) {
    try {
      const u = new URL(String(scriptURL), native.baseURI());
      return /^(https?|blob):$/.test(u.protocol) ? u.href : "";
    } catch (e) {
      return "";
    }
  }

  function Worker(scriptURL, options) {
    if (!new.target) throw new TypeError("Failed to construct 'Worker': Please use the 'new' operator, this DOM object constructor cannot be called as a function.");
    const url = resolve(scriptURL);
    if (!url) return Reflect.construct(NativeWorker, [scriptURL, options], new.target);
    const type = options && options.type === "module" ? "module" : "classic";
    const tag = crypto.randomUUID();
    const urls = bootstrap(url, type, tag);
    let w;
    try {
      w = Reflect.construct(NativeWorker, [urls[0], options], new.target);
    } catch (e) {
      for (const u of urls) revokeURL(u);
      const plain = Reflect.construct(NativeWorker, [scriptURL, options], new.target);
      unchecked(url, "worker", e);
      return plain;
    }
    register(tag, url, urls, type === "module" ? "module worker" : "worker");
    // A terminated worker's calls end with it: their places in the pool go.
    const terminate = w.terminate;
    Object.defineProperty(w, "terminate", {
      value: function () { gone(tag); return terminate.call(this); }, writable: true, configurable: true,
    });
    return w;
  }

  function SharedWorker(scriptURL, options) {
    if (!new.target) throw new TypeError("Failed to construct 'SharedWorker': Please use the 'new' operator, this DOM object constructor cannot be called as a function.");
    const url = resolve(scriptURL);
    if (!url) return Reflect.construct(NativeShared, [scriptURL, options], new.target);
    const name = typeof options === "string" ? options : (options && options.name) || "";
    const type = options && typeof options === "object" && options.type === "module" ? "module" : "classic";
    const key = `${url}|${name}|${type}`;
    let s = shared.get(key);
    if (!s) {
      const tag = crypto.randomUUID();
      s = { tag, urls: bootstrap(url, type, tag) };
    }
    let w;
    try {
      w = Reflect.construct(NativeShared, [s.urls[0], options], new.target);
    } catch (e) {
      if (!shared.has(key)) for (const u of s.urls) revokeURL(u);
      const plain = Reflect.construct(NativeShared, [scriptURL, options], new.target);
      unchecked(url, "shared worker", e);
      return plain;
    }
    if (!shared.has(key)) {
      // The blob: URLs stay: the same frame reaches this instance through them.
      shared.set(key, s);
      register(s.tag, url, [], "shared worker");
    }
    return w;
  }

  // gone ends a worker's calls (terminated, or closed itself).
  function gone(tag) {
    const w = workers.get(tag);
    if (!w) return;
    workers.delete(tag);
    for (const c of w.calls.values()) {
      rt.abort(c);
      rt.finish(c, { status: c.record.status });
    }
  }

  // onClient carries out what a worker's client asks (worker/client.js).
  function onClient(m) {
    if (!m || typeof m.w !== "string") return;
    const w = workers.get(m.w);
    if (!w) return;
    const c = Number.isInteger(m.id) ? w.calls.get(m.id) : undefined;
    switch (m.t) {
      case "hello":
        for (const u of w.urls) revokeURL(u);
        w.urls = [];
        post(m.w, { t: "state", mode: rt.mode, enforce: rt.active() && rt.mode === "enforce" });
        break;
      case "open": {
        const f = m.facts;
        if (!f || typeof f !== "object" || typeof f.url !== "string" || !Number.isInteger(m.id)) return;
        const str = (v) => (typeof v === "string" ? v : "");
        const strs = (v) => (Array.isArray(v) ? v.map(String) : []);
        // The transport's facts, rebuilt field by field (R15: the module
        // names the API from them); the origin is this frame's own.
        rt.open({
          api: str(f.api), url: f.url, method: str(f.method) || "GET", timeout: Number(f.timeout) || 0, headers: strs(f.headers),
          transport: str(f.transport), protocols: strs(f.protocols), accept: str(f.accept), body: str(f.body),
          contentType: str(f.contentType), responseType: str(f.responseType), frame: w.label,
        }, (a) => post(m.w, { t: "act", id: m.id, a })).then((call) => {
          if (workers.get(m.w) === w) w.calls.set(m.id, call);
        }, (e) => post(m.w, { t: "act", id: m.id, a: { type: "fail", id: m.id, errMsg: String(e && e.message || e) } }));
        break;
      }
      case "redirect":
        if (c && typeof m.url === "string") rt.redirect(c, m.url);
        break;
      case "response":
        if (c) rt.response(c, Number(m.status) || 0);
        break;
      case "connected":
        if (c) rt.connected(c);
        break;
      case "finish":
        if (c) {
          w.calls.delete(m.id);
          rt.finish(c, { status: Number(m.status) || 0 });
        }
        break;
      case "abort":
        if (c) rt.abort(c);
        break;
      case "body": {
        const bytes = m.bytes instanceof Uint8Array ? m.bytes : new Uint8Array(0);
        const reply = (res) => post(m.w, { t: "body", seq: m.seq, bytes: res.bytes });
        if (!c) reply({ bytes });
        else Promise.resolve(rt.body(c, String(m.api), String(m.ct || ""), bytes)).then(reply, () => reply({ bytes }));
        break;
      }
      case "record":
        if (m.record && typeof m.record === "object" && typeof m.record.id === "string") rt.emit({ ...m.record, frame: w.label });
        break;
      case "gone":
        gone(m.w);
        break;
    }
  }

  // The mode may change (popup): clients judge synchronous XHR by it.
  rt.onState = () => {
    if (channel && workers.size) channel.postMessage({ to: "*", t: "state", mode: rt.mode, enforce: rt.active() && rt.mode === "enforce" });
  };

  for (const [name, fn, Native] of [["Worker", Worker, NativeWorker], ["SharedWorker", SharedWorker, NativeShared]]) {
    if (!Native) continue;
    fn.prototype = Native.prototype;
    Object.setPrototypeOf(fn, Native);
    Object.defineProperty(fn, "name", { value: name });
    Object.defineProperty(fn, "length", { value: 1 });
    fn.toString = () => `function ${name}() { [native code] }`;
    globalThis[name] = fn;
  }
}
