// The page runtime: runs in the preview page's MAIN world at document start,
// loads the mpnet module once for the frame, intercepts fetch, XHR and
// WebSocket, and carries out the module's actions (start, queue, block,
// fail). It owns timers and the call records; every decision is the
// module's.

import { MpnetModule } from "../../../wasm/loader.js";
import { installFetch } from "./fetch.js";
import { installXHR } from "./xhr.js";
import { installWebSocket } from "./websocket.js";
import { installFrameworks } from "./frameworks.js";
import { installResources } from "./resources.js";

const native = {
  origin: window.origin, // the page's origin at document start (srcdoc and about:blank frames inherit theirs)
  fetch: window.fetch,
  XMLHttpRequest: window.XMLHttpRequest,
  WebSocket: window.WebSocket,
  setTimeout: window.setTimeout.bind(window),
  clearTimeout: window.clearTimeout.bind(window),
  now: performance.now.bind(performance),
};

// The module's bytes, base64: wasm.js (written by build/bundle.mjs) runs
// just before this script in the same world and leaves them in a global, as
// the comment of an empty function (V8 skips a comment much faster than it
// scans a string literal), taken away here before any page script can run
// (so neither the global nor Function.prototype.toString can have been
// replaced by the page). A separate script, so that
// V8 can drop its source (megabytes) once the string is decoded (this script's
// own source stays alive with its functions); for the same reason the
// binding below is emptied as soon as the string is read, since it lives as
// long as the runtime's functions do.
let wasmBase64 = globalThis.__mpnetWasm;
delete globalThis.__mpnetWasm;

// compileEmbedded starts compiling the module: at document start, before the
// bridge's first message, with no fetch (so neither the page's CSP nor a
// fetch replaced by page code matters).
function compileEmbedded() {
  let b64 = wasmBase64;
  wasmBase64 = null;
  if (typeof b64 === "function") {
    // wasm.js: the base64 is the function's only comment.
    const src = Function.prototype.toString.call(b64);
    const start = src.indexOf("/*");
    const end = src.lastIndexOf("*/");
    b64 = start >= 0 && end > start ? src.slice(start + 2, end) : null;
  }
  if (typeof b64 !== "string") return Promise.reject(new Error("the module's bytes (wasm.js) did not run before the page runtime"));
  try {
    let bytes;
    if (Uint8Array.fromBase64) {
      bytes = Uint8Array.fromBase64(b64);
    } else {
      const s = atob(b64); // Chromium before 140
      bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    }
    return WebAssembly.compile(bytes);
  } catch (e) {
    return Promise.reject(e);
  }
}

const MAX_RESTARTS = 5;

/**
 * CallError is what a blocked or failed call rejects with (fetch) or throws
 * (a WebSocket refused at once): errMsg is the client's, and so is its
 * string (uni-app's connectSocket reports `String(error)` as the reason).
 */
export class CallError extends TypeError {
  constructor(errMsg, action) {
    super(errMsg);
    this.name = "TypeError";
    this.errMsg = errMsg;
    this.rule = action && action.rule;
    this.mpnet = action;
  }

  toString() { return this.errMsg; }
}

class Runtime extends EventTarget {
  constructor() {
    super();
    this.state = "loading"; // loading | ready | failed | off
    this.error = "";
    this.mode = "enforce";
    this.tabMode = ""; // the popup's override of the configured mode
    this.enabled = true;
    this.docHidden = document.visibilityState === "hidden";
    this.manualBackground = false;
    this.nextId = 0;
    this.frame = location.href;
    this.frameTag = frameTag;
    this.calls = new Map(); // id -> {onAction, record}
    this.wake = null;
    this.wakeAt = 0;
    this.port = null;
    this.pendingOut = [];
    this.replies = new Map();
    this.outbox = new Map(); // record id -> latest record, sent by flush()
    this.verdictListeners = new Map(); // "verdict" listener -> its capture flags, as EventTarget keys them
    this.settled = false; // the ready promise has resolved: open() steps the engine synchronously
    this.hint = ""; // the API a framework's own surface named for the transport it opens now (frameworks.js)
    this.failing = null; // the refused call whose failure events are being dispatched now (frameworks.js)
    this.flushTimer = null;
    this.config = null;
    // Start-up milestones, ms since navigation start (status().timings).
    this.timings = { documentStart: Math.round(native.now()) };
    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
    this.compiling = compileEmbedded();
    this.compiling.catch(() => {}); // awaited in load(); a failure must not go unhandled meanwhile
    this.mark("compileStarted");
  }

  now() { return Math.round(native.now()); }

  /**
   * init is called with the bridge's first message: the port. The module
   * has been compiling since document start; the bridge has asked the
   * background for the configuration (its "hello" on the port).
   */
  async init(msg) {
    this.mark("init");
    this.port = msg.port;
    let helloArrived;
    const hello = new Promise((resolve) => { helloArrived = resolve; });
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m && m.type === "reply" && this.replies.has(m.id)) {
        const f = this.replies.get(m.id);
        this.replies.delete(m.id);
        f(m.value);
        return;
      }
      if (m && m.type === "hello") {
        this.mark("hello");
        if (typeof m.asked === "number") this.timings.asked = Math.round(m.asked * 10) / 10;
        helloArrived(m);
        return;
      }
      this.control(m);
    };
    for (const m of this.pendingOut) this.port.postMessage(m);
    this.pendingOut = [];
    const loading = this.load();
    loading.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    try {
      const h = await hello;
      this.applyTab(h.tab || {});
      this.module = await loading;
      this.module.onTrap = (trap) => this.trapped(trap);
      this.configure(h.files || []);
      this.mark("configured");
      // The Referer rule (R8) must be in place before the first call goes
      // out; the background said which one the tab has (a reload keeps it).
      const want = this.enabled && this.mode === "enforce" ? this.referer : "";
      if (want !== h.referer) await this.request({ type: "referer", referer: this.referer, mode: this.mode });
    } catch (e) {
      this.fail(e);
    }
    this.mark("ready");
    this.settled = true;
    this._resolveReady();
    // No spare instance: after a trap the loader instantiates the
    // pre-initialised module synchronously (about 4 ms), which saves a second
    // instance's memory in every frame.
  }

  /** load waits for the embedded module's compilation and starts an instance. */
  async load() {
    const module = await this.compiling;
    this.mark("compiled");
    const m = await MpnetModule.load(module, { spare: false });
    this.mark("instantiated");
    return m;
  }

  mark(name) { this.timings[name] = Math.round(native.now() * 10) / 10; }

  /** request sends a message to the background through the bridge and waits (at most 3 s) for its answer. */
  request(msg) {
    return new Promise((resolve) => {
      const id = Math.random().toString(36).slice(2);
      const t = native.setTimeout(() => { this.replies.delete(id); resolve(null); }, 3000);
      this.replies.set(id, (v) => { native.clearTimeout(t); resolve(v); });
      this.post({ ...msg, replyTo: id });
    });
  }

  configure(files) {
    if (!files.length) {
      throw new Error("no configuration for this origin: import the project's files in mpnet's options");
    }
    const res = this.module.configure({ files });
    if (!res.ok) {
      const first = res.errors[0];
      throw new Error(`configuration error: ${first.file || ""}${first.line ? ":" + first.line : ""} ${first.message}`);
    }
    this.config = res.config;
    if (this.tabMode && this.tabMode !== res.config.mode) {
      this.module.configure({ config: { ...res.config, mode: this.tabMode } });
    }
    this.mode = this.tabMode || res.config.mode;
    this.state = "ready";
    this.problems = res.problems || [];
    this.referer = res.referer;
    this.sendStatus();
    if (this.hidden()) this.event({ type: "hide" });
  }

  fail(e) {
    this.state = "failed";
    this.error = String(e && e.message || e);
    this.sendStatus();
    console.error("[mpnet] checks are OFF: " + this.error);
  }

  trapped(trap) {
    console.warn("[mpnet] " + trap.message);
    if (this.module.restarts > MAX_RESTARTS) this.fail(new Error("the module keeps trapping: " + trap.message));
    else this.sendStatus();
  }

  applyTab(tab) {
    if (typeof tab.enabled === "boolean") this.enabled = tab.enabled;
    if (tab.mode) { this.tabMode = tab.mode; this.mode = tab.mode; }
    if (typeof tab.background === "boolean" && tab.background !== this.manualBackground) {
      const was = this.hidden();
      this.manualBackground = tab.background;
      if (this.state === "ready" && was !== this.hidden()) this.event({ type: this.hidden() ? "hide" : "show" });
    }
  }

  control(msg) {
    if (msg && msg.type === "tls" && msg.verdict && this.state === "ready") {
      // R12 verdicts from hostsim agent (via the background): later calls to
      // a failing server fail as on device.
      try { this.event({ type: "tls", tls: msg.verdict }); } catch (e) { /* a bad verdict is ignored */ }
      return;
    }
    if (!msg || msg.type !== "control") return;
    const modeChanged = msg.mode && msg.mode !== this.mode;
    this.applyTab(msg);
    if (modeChanged && this.state === "ready" && this.config) {
      try {
        this.module.configure({ config: { ...this.config, mode: this.mode } });
      } catch (e) { this.fail(e); }
    }
    this.sendStatus();
    if (this.state === "ready") this.request({ type: "referer", referer: this.referer, mode: this.mode });
  }

  hidden() { return this.docHidden || this.manualBackground; }

  setVisibility(hidden) {
    const was = this.hidden();
    this.docHidden = hidden;
    if (this.state === "ready" && was !== this.hidden()) this.event({ type: this.hidden() ? "hide" : "show" });
  }

  setBackground(on) {
    this.applyTab({ background: !!on });
    this.sendStatus();
  }

  active() { return this.enabled && this.mode !== "off"; }

  status() {
    let engine = {};
    if (this.state === "ready") {
      try { engine = this.module.status(); } catch (e) { engine = {}; }
    }
    return {
      state: this.state, error: this.error, mode: this.mode, enabled: this.enabled,
      hidden: this.hidden(), background: this.manualBackground,
      appid: this.config && this.config.appid, version: this.config && this.config.version,
      referer: this.referer || "", restarts: this.module ? this.module.restarts : 0,
      inFlight: engine.inFlight || 0, queued: engine.queued || 0, sockets: engine.sockets || 0,
      problems: this.problems || [],
      timings: { ...this.timings },
    };
  }

  post(msg) {
    if (this.port) this.port.postMessage(msg);
    else if (this.pendingOut.length < 1000) this.pendingOut.push(msg);
  }

  sendStatus() { this.post({ type: "status", status: this.status() }); }

  /** flush sends the records changed since the last flush in one message. */
  flush() {
    this.flushTimer = null;
    if (!this.outbox.size) return;
    this.post({ type: "records", records: [...this.outbox.values()] });
    this.outbox.clear();
  }

  /** event sends an event to the engine and dispatches the resulting actions. */
  event(ev) {
    ev.at = this.now();
    let r;
    try {
      r = this.module.step(ev);
    } catch (e) {
      if (e && e.code === "bad_message") throw e;
      // A trap: the instance was replaced and its state restored.
      return;
    }
    for (const a of r.actions) {
      const c = this.calls.get(a.id);
      if (c) c.onAction(a);
    }
    this.schedule(r.nextWake);
    return r;
  }

  schedule(at) {
    if (this.wake && this.wakeAt === at) return;
    if (this.wake) native.clearTimeout(this.wake);
    this.wake = null;
    if (!at) return;
    this.wakeAt = at;
    this.wake = native.setTimeout(() => {
      this.wake = null;
      this.event({ type: "tick" });
    }, Math.max(0, at - this.now()));
  }

  /**
   * open reports a new call and resolves with its handle. onAction receives
   * the module's actions for the call, synchronously when the module is
   * ready (a WebSocket refused at once throws from its constructor), else
   * once it is: calls made before the module is ready wait for it.
   *
   * facts are what the transport sees (abi.Event): api ("" lets the module
   * tell it, R15), method, timeout, headers (the names the code set),
   * transport, protocols, accept, body, contentType, responseType.
   */
  open(facts, onAction) {
    if (this.settled) {
      try {
        return Promise.resolve(this.openNow(facts, onAction));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.ready.then(() => this.openNow(facts, onAction));
  }

  openNow(facts, onAction) {
    const id = ++this.nextId;
    const api = facts.api || this.takeHint();
    const record = {
      id: `${frameTag}-${id}`, api: api || "", method: facts.method || "GET", url: facts.url, frame: this.frame, startedAt: Date.now(), state: "waiting",
      verdict: "ok", rule: "", errMsg: "", proceeded: false, findings: [], queuedMs: 0, durationMs: 0, status: 0,
      mode: this.mode, transport: facts.transport || "", tooling: false,
    };
    const t0 = this.now();
    const call = { id, record, t0, startedAt: 0 };
    if (this.state !== "ready" || !this.active()) {
      record.state = "running";
      if (!record.api) record.api = facts.transport === "websocket" ? "connectSocket" : "request";
      if (this.state === "failed") record.findings.push({ rule: "", severity: "error", message: "checks are OFF: " + this.error });
      this.emit(record);
      call.unchecked = true;
      call.onAction = () => {};
      onAction({ type: "start", id, unchecked: true }, call);
      return call;
    }
    call.onAction = (a) => {
      if (a.type === "pass") {
        // R15: not a mini-program call. It runs untouched and the engine
        // keeps no state for it: no later events.
        call.unchecked = true;
        this.calls.delete(call.id);
        this.note(call, a);
        onAction({ ...a, type: "start", pass: true }, call);
        return;
      }
      this.note(call, a);
      onAction(a, call);
    };
    this.calls.set(id, call);
    try {
      this.event({
        type: "open", id, api: api || undefined, url: facts.url, method: record.method, timeout: facts.timeout > 0 ? Math.floor(facts.timeout) : 0,
        headers: facts.headers || [], transport: facts.transport, origin: native.origin, protocols: facts.protocols,
        accept: facts.accept || undefined, body: facts.body || undefined, contentType: facts.contentType || undefined,
        responseType: facts.responseType || undefined,
      });
    } catch (e) {
      this.calls.delete(id); // a message the module refused (e.g. an unknown mpnetApi): the call never opened
      throw e;
    }
    return call;
  }

  /** takeHint returns (once) the API a framework named for the call being opened now. */
  takeHint() {
    const h = this.hint;
    this.hint = "";
    return h;
  }

  /** note updates a call's record from an action. */
  note(call, a) {
    const r = call.record;
    const now = this.now();
    if (a.api && r.api !== a.api) r.api = a.api; // the API the module judged the call under (R15)
    switch (a.type) {
      case "pass":
        r.tooling = true;
        r.rule = "R15";
        r.state = "running";
        call.startedAt = now;
        r.findings.push(finding(a));
        break;
      case "report":
        r.findings.push(finding(a));
        if (a.severity === "error") {
          r.verdict = "fail";
          if (!r.rule) { r.rule = a.rule; r.errMsg = a.errMsg || ""; }
          r.proceeded = true;
        } else if (a.severity === "warning" && r.verdict === "ok") {
          r.verdict = "warn";
          if (!r.rule) r.rule = a.rule;
        }
        break;
      case "queue":
        r.state = "queued";
        r.findings.push(finding({ ...a, severity: "info" }));
        break;
      case "start":
        if (r.state === "queued") r.queuedMs = now - call.t0;
        r.state = "running";
        call.startedAt = now;
        break;
      case "block":
      case "fail":
        r.state = a.type === "block" ? "blocked" : "failed";
        r.verdict = "fail";
        r.rule = a.rule || r.rule;
        r.errMsg = a.errMsg;
        r.durationMs = now - call.t0;
        if (a.message) r.findings.push(finding({ ...a, severity: "error" }));
        this.calls.delete(call.id);
        break;
    }
    this.emit(r);
  }

  /** listening tracks "verdict" listeners (fn, capture) so that emit copies records only for someone. */
  listening(fn, opts, on) {
    const capture = typeof opts === "boolean" ? opts : !!(opts && opts.capture);
    const flags = this.verdictListeners.get(fn) || new Set();
    if (on) flags.add(capture);
    else flags.delete(capture);
    if (flags.size) this.verdictListeners.set(fn, flags);
    else this.verdictListeners.delete(fn);
  }

  emit(record) {
    // Records go to the background in batches: one message per call state
    // change cost more than the call itself (docs/BENCHMARKS.md). The outbox
    // holds the live record; postMessage copies its latest state at flush.
    this.outbox.set(record.id, record);
    if (!this.flushTimer) this.flushTimer = native.setTimeout(() => this.flush(), 50);
    // Listeners get a snapshot; with none, no copy is made.
    if (this.verdictListeners.size > 0) this.dispatchEvent(new CustomEvent("verdict", { detail: JSON.parse(JSON.stringify(record)) }));
  }

  /** response reports response headers (R11 reminders come back as reports). */
  response(call, status) {
    call.record.status = status;
    if (!call.unchecked && this.calls.has(call.id)) this.event({ type: "response", id: call.id, status });
  }

  /** connected reports a socket's handshake. */
  connected(call) {
    if (!call.unchecked && this.calls.has(call.id)) this.event({ type: "connected", id: call.id });
  }

  /**
   * redirect reports that a call ended up at another URL (R14): the browser
   * followed redirects the page cannot see one by one, so the host reports
   * the final URL before the app sees the response; a hop the device
   * refuses fails the call (its onAction gets "fail").
   */
  redirect(call, url) {
    const r = call.record;
    if (!r.hops) r.hops = [];
    r.hops.push(url);
    if (!call.unchecked && this.calls.has(call.id)) this.event({ type: "redirect", id: call.id, url });
    else this.emit(r);
  }

  /** finish reports the end of a call and frees its slot. */
  finish(call, extra = {}) {
    const r = call.record;
    if (r.state === "blocked" || r.state === "failed" || r.state === "done") return;
    Object.assign(r, extra);
    r.state = "done";
    // durationMs is the running time; time spent queued is queuedMs.
    r.durationMs = this.now() - (call.startedAt || call.t0);
    if (!call.unchecked && this.calls.has(call.id)) {
      this.calls.delete(call.id);
      this.event({ type: "finish", id: call.id });
    }
    this.emit(r);
  }

  /** abort reports that the app aborted the call. */
  abort(call) {
    if (!call.unchecked && this.calls.has(call.id)) {
      this.event({ type: "abort", id: call.id });
    }
  }

  /** body applies R10 to a response body; answers {bytes, result}. */
  body(call, api, contentType, bytes) {
    if (call.unchecked || this.state !== "ready") return { bytes, result: null };
    try {
      const { result, body } = this.module.body({ api, contentType: contentType || "" }, bytes);
      for (const w of result.warnings || []) {
        const f = { rule: w.rule, severity: result.error && w.message === result.error ? "error" : "warning", message: w.message, fix: w.fix };
        call.record.findings.push(f);
        if (f.severity === "error") call.record.verdict = "fail";
        else if (call.record.verdict === "ok") { call.record.verdict = "warn"; call.record.rule = call.record.rule || w.rule; }
      }
      return { bytes: body, result };
    } catch (e) {
      return { bytes, result: null };
    }
  }

  /** check is window.mpnet.check: the same decision object as `hostsim check`. */
  async check(req) {
    await this.ready;
    if (this.state !== "ready") throw new Error("mpnet checks are off: " + this.error);
    return this.module.check({ api: req.api || "request", url: String(req.url), timeout: req.timeout > 0 ? Math.floor(req.timeout) : 0, headers: req.headers || null });
  }
}

function finding(a) {
  return { rule: a.rule || "", severity: a.severity || "info", message: a.message || "", fix: a.fix || "", console: a.console || "", list: a.list || "", entry: a.entry || "" };
}

const frameTag = Math.random().toString(36).slice(2, 8);

function start() {
  if (window.__mpnetRuntime) {
    wasmBase64 = null; // this frame's runtime is already running
    return;
  }
  const rt = new Runtime();
  Object.defineProperty(window, "__mpnetRuntime", { value: rt });
  installFetch(rt, native, CallError);
  installXHR(rt, native, CallError);
  installWebSocket(rt, native, CallError);
  installFrameworks(rt);
  installResources(rt);
  document.addEventListener("visibilitychange", () => rt.setVisibility(document.visibilityState === "hidden"));

  // The in-page API.
  const api = Object.freeze({
    check: (req) => rt.check(req || {}),
    status: () => rt.status(),
    setBackground: (on) => rt.setBackground(on),
    addEventListener: (type, fn, opts) => {
      rt.addEventListener(type, fn, opts);
      if (type === "verdict" && fn) rt.listening(fn, opts, true);
    },
    removeEventListener: (type, fn, opts) => {
      rt.removeEventListener(type, fn, opts);
      if (type === "verdict" && fn) rt.listening(fn, opts, false);
    },
    ready: () => rt.ready.then(() => rt.status()),
  });
  Object.defineProperty(window, "mpnet", { value: api, configurable: false, enumerable: false });

  const onInit = (e) => {
    if (e.source !== window || !e.data || e.data.__mpnet !== "init") return;
    window.removeEventListener("message", onInit, true);
    e.stopImmediatePropagation();
    rt.init({ ...e.data, port: e.ports[0] });
  };
  window.addEventListener("message", onInit, true);
}

start();
