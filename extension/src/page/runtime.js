// The page runtime: runs in the preview page's MAIN world at document start,
// loads the mpnet module once for the frame, intercepts fetch, XHR and
// WebSocket (and those of the workers the page starts), and carries out the
// module's actions (start, queue, block, fail). It owns timers and the call
// records; every decision is the module's. The module runs in this realm
// when the page's CSP allows WebAssembly, otherwise in the extension
// (engine.js); both answer the same messages.
//
// Page scripts share this world and are untrusted: nothing of the runtime
// is reachable from them but the frozen `window.mpnet` API; the private
// port to the bridge is used through natives taken before any page script
// ran (a page that patches MessagePort, MessageEvent or Event later cannot
// see or steer it).

import { MpnetModule } from "../../../wasm/loader.js";
import { installFetch } from "./fetch.js";
import { installXHR } from "./xhr.js";
import { installWebSocket } from "./websocket.js";
import { installFrameworks } from "./frameworks.js";
import { installResources } from "./resources.js";
import { RemoteEngine, when } from "./engine.js";
import { installWorkers } from "./workers.js";
import { CallError } from "./errors.js";
import {
  nullProto, list, parse, unproto, stringify, safe, SafeMap, SafeSet, SafePromise, SafePromiseReject, PromisePrototypeThen,
  ArrayPrototypePush, ArrayIsArray, ObjectAssign, JSONParse, MathRound, MathMax, MathFloor, MathRandom, DateNow, SafeString,
  SafeNumber, SafeError, NumberPrototypeToString, StringPrototypeSlice, StringPrototypeIndexOf, StringPrototypeLastIndexOf,
  FunctionPrototypeToString, WebAssemblyCompile, WebAssemblyMemoryGetBuffer, ArrayBufferPrototypeGetByteLength,
  uncurryThis, ObjectGetOwnPropertyDescriptor, SafeWebAssemblyModule, SafeUint8Array, SafeArrayBuffer,
} from "./intrinsics.js";

export { CallError };

const native = {
  __proto__: null,
  origin: window.origin, // the page's origin at document start (srcdoc and about:blank frames inherit theirs)
  fetch: window.fetch,
  XMLHttpRequest: window.XMLHttpRequest,
  WebSocket: window.WebSocket,
  setTimeout: window.setTimeout.bind(window),
  clearTimeout: window.clearTimeout.bind(window),
  now: performance.now.bind(performance),
  idle: window.requestIdleCallback ? window.requestIdleCallback.bind(window) : null,
  baseURI: () => document.baseURI,
};

// Natives the private channel depends on, taken before any page script runs.
const invoke = Function.prototype.call.bind(Function.prototype.call);
const listen = EventTarget.prototype.addEventListener;
const unlisten = EventTarget.prototype.removeEventListener;
const stopImmediate = Event.prototype.stopImmediatePropagation;
const portPost = MessagePort.prototype.postMessage;
const portStart = MessagePort.prototype.start;
const getter = (proto, name) => ObjectGetOwnPropertyDescriptor(proto, name).get;
const eventData = getter(MessageEvent.prototype, "data");
const eventSource = getter(MessageEvent.prototype, "source");
const eventPorts = getter(MessageEvent.prototype, "ports");
const freeze = Object.freeze;
const SafeCustomEvent = CustomEvent;
const dispatch = uncurryThis(EventTarget.prototype.dispatchEvent);
// The page's visibility is read as the page sees it (document.visibilityState,
// at event time): a test plays the browser's part by defining it (headless
// Chromium never hides a page), and a page can only hide or show itself.
const visibilityState = (d) => d.visibilityState;
const defineProperty = Object.defineProperty;

// Test builds (the browser tests bundle with MPNET_TEST_HOOKS true) add
// `mpnet.test`; the shipped extension has no such code.
// How long after DOMContentLoaded the runtime asks for the module's bytes
// when the page's load event has not come (askLocal).
const LOAD_WAIT_MS = 5000;

const TEST_HOOKS = typeof MPNET_TEST_HOOKS !== "undefined" && MPNET_TEST_HOOKS;

// mayCompile: whether this page may compile WebAssembly at all (a
// Content-Security-Policy without 'wasm-unsafe-eval' forbids it), by
// compiling the smallest module there is, synchronously. The runtime asks
// when it first needs to know (after the page's load, or when a script
// asks for its status), not at document start: the first WebAssembly
// compile in a page costs 1-4 ms of its main thread (docs/RATIONALE.md).
function mayCompile() {
  try {
    new SafeWebAssemblyModule(new SafeUint8Array(list(0, 97, 115, 109, 1, 0, 0, 0)));
    return true;
  } catch (e) {
    return false;
  }
}

// warm runs the configuration and a call on a scratch instance of a
// freshly compiled module, one module call per idle moment of the page. V8
// compiles a module's functions on their first call (about 25 ms of the
// main thread for a configure and a call's steps), and the compiled code
// belongs to the module: the instance that takes the engine over, and the
// first calls it judges, find it compiled.
// url: an allowed URL (the configuration's first request domain), so that
// the common path is the one compiled; the check warms a refusal.
async function warm(module, configText, url, native) {
  if (!configText) return;
  const s = await safe(MpnetModule.load(module, { __proto__: null, spare: false }));
  const idle = () => new SafePromise((r) => (native.idle ? native.idle(r, { __proto__: null, timeout: 100 }) : native.setTimeout(r, 0)));
  const calls = list(
    () => s.raw("mpnet_configure", configText),
    () => s.step({ __proto__: null, type: "open", at: 1, id: 1, api: "request", url, method: "GET", timeout: 0, headers: list(), transport: "fetch", origin: native.origin }),
    () => s.step({ __proto__: null, type: "response", at: 2, id: 1, status: 200 }),
    () => s.step({ __proto__: null, type: "finish", at: 3, id: 1 }),
    () => s.check({ __proto__: null, api: "request", url: "https://mpnet.invalid/" }),
  );
  for (let i = 0; i < calls.length; i++) {
    await idle();
    calls[i]();
  }
}

const MAX_RESTARTS = 5;
// Records are sent in batches: FLUSH_MS after the first change, then at
// most one batch per FLUSH_GAP_MS while changes keep coming.
const FLUSH_MS = 50;
const FLUSH_GAP_MS = 250;
const INIT_TIMEOUT_MS = 10000;
// The Referer rule (R8) must be in place before calls go out; the round trip
// takes milliseconds, but a busy or starting service worker can take seconds.
const REFERER_WAIT_MS = 15000;


// Bounds of what a record carries (the bridge refuses longer ones).
const clip = (s, n) => (typeof s === "string" && s.length > n ? StringPrototypeSlice(s, 0, n - 1) + "…" : s);

class Runtime {
  constructor() {
    this.state = "loading"; // loading | ready | failed | off
    this.error = "";
    this.mode = "enforce";
    this.tabMode = ""; // the popup's override of the configured mode
    this.enabled = true;
    this.docHidden = visibilityState(document) === "hidden";
    this.manualBackground = false;
    this.nextId = 0;
    this.frame = location.href;
    this.frameTag = frameTag;
    this.calls = new SafeMap(); // id -> {onAction, record}
    this.wake = null;
    this.wakeAt = 0;
    this.port = null;
    this.pendingOut = list();
    this.replies = new SafeMap();
    this.outbox = new SafeMap(); // record id -> latest record, sent by flush()
    // "verdict" events go through a bare EventTarget: a listener's
    // event.target must not be the runtime.
    this.events = new EventTarget();
    this.verdictListeners = new SafeMap(); // "verdict" listener -> its capture flags, as EventTarget keys them
    this.settled = false; // the ready promise has resolved: open() steps the engine synchronously
    this.hint = ""; // the API a framework's own surface named for the transport it opens now (frameworks.js)
    this.failing = null; // the refused call whose failure events are being dispatched now (frameworks.js)
    this.flushTimer = null;
    this.lastFlush = -FLUSH_GAP_MS; // when flush() last sent records (native.now())
    this.config = null;
    this.engine = null;
    this.restarts = 0;
    this.counters = { __proto__: null, inFlight: 0, queued: 0, sockets: 0 }; // from the last step result
    this.r12 = false; // the background can get R12 verdicts (hostsim agent)
    this.tlsAsked = new SafeSet(); // servers whose verdict was asked for
    this.trapNext = ""; // test builds: the event type whose module call traps
    this.onState = null; // workers.js: tells the workers' clients the mode
    // Start-up milestones, ms since navigation start (status().timings).
    this.timings = { __proto__: null, documentStart: MathRound(native.now()) };
    this.ready = new SafePromise((resolve) => { this._resolveReady = resolve; });
    // The bridge's port normally arrives within milliseconds; if a script
    // that ran before mpnet took it, calls must not wait forever.
    native.setTimeout(() => {
      if (this.port) return;
      this.fail(new SafeError("mpnet's channel from the extension never arrived (did a script that ran before mpnet take it?)"));
      this.settled = true;
      this._resolveReady();
    }, INIT_TIMEOUT_MS);
    // The engine: the module hosted by the extension first (remote), the
    // module compiled in this page once it is here (local, the default
    // placement: synchronous and cheapest per call); see loadRemote().
    this.remote = null;
    this.local = null; // {state: "asked" | "compiling" | "warming" | "ready" | "done" | "refused", inst}
    this.compileAllowed = null; // canCompile()'s answer, once asked
  }

  now() { return MathRound(native.now()); }

  /** canCompile answers (and remembers) whether this page may compile WebAssembly (mayCompile). */
  canCompile() {
    if (this.compileAllowed === null) {
      this.compileAllowed = mayCompile();
      if (!this.compileAllowed) this.mark("compileRefused");
    }
    return this.compileAllowed;
  }

  /**
   * init is called with the bridge's first message: the port. The bridge
   * has asked the background for the configuration (its "hello" on the
   * port) and opened a port to the module host.
   */
  async init(port) {
    this.mark("init");
    this.port = port;
    let helloArrived;
    const hello = new SafePromise((resolve) => { helloArrived = resolve; });
    invoke(listen, port, "message", (e) => {
      // A structured clone made in this realm: its objects' prototypes are
      // the page's, so they get null ones before anything reads them.
      const m = unproto(invoke(eventData, e));
      if (!m || typeof m.type !== "string") return;
      switch (m.type) {
        case "reply": {
          const f = this.replies.get(m.id);
          if (f) {
            this.replies.delete(m.id);
            f(m.value);
          }
          return;
        }
        case "hello":
          this.mark("hello");
          if (typeof m.asked === "number") this.timings.asked = MathRound(m.asked * 10) / 10;
          helloArrived(m);
          return;
        case "engineAnswer":
          if (this.remote && ArrayIsArray(m.batch)) for (let i = 0; i < m.batch.length; i++) this.remote.answer(m.batch[i]);
          return;
        case "engineLost":
          if (this.remote && this.engine === this.remote) this.remote.lost(SafeString(m.error || "the extension-hosted module went away"));
          return;
        case "module":
          this.compileLocal(m.bytes, m.error);
          return;
      }
      this.control(m);
    });
    invoke(portStart, port);
    for (let i = 0; i < this.pendingOut.length; i++) invoke(portPost, port, this.pendingOut[i]);
    this.pendingOut = list();
    try {
      const h = await hello;
      this.applyTab(h.tab || { __proto__: null });
      this.r12 = !!h.r12;
      this.engine = this.remote = this.loadRemote();
      await safe(this.configure(h.files || list(), h.answer));
      this.mark("configured");
      // The Referer rule (R8) must be in place before the first call goes
      // out; the background said which one the tab has (it sets the rule
      // itself while answering hello when it knows the configuration).
      const want = this.enabled && this.mode === "enforce" ? this.referer : "";
      if (want !== h.referer) {
        const v = await this.request(this.refererMessage(), REFERER_WAIT_MS);
        // No confirmation: calls would go out without the client's Referer.
        if (!v || !v.ok) console.warn("[mpnet] the background did not confirm the Referer rule (R8); calls may go out without it" + (v && v.error ? ": " + v.error : ""));
      }
    } catch (e) {
      this.fail(e);
    }
    this.mark("ready");
    this.settled = true;
    this._resolveReady();
    if (this.state === "ready") this.askLocal();
  }

  /**
   * loadRemote: the engine in the extension (the offscreen module host,
   * where the module is compiled and configured before the page asks), by
   * messages through the bridge. Every page starts on it: it answers within
   * milliseconds of document start, while compiling the module here takes
   * tens of milliseconds of the page's two cores. A page whose CSP forbids
   * WebAssembly keeps it.
   */
  loadRemote() {
    const host = () => PromisePrototypeThen(this.request({ __proto__: null, type: "engineHost" }), (v) => {
      if (!v || !v.ok) throw new SafeError("the extension could not start its module host" + (v && v.error ? ": " + v.error : ""));
    });
    const engine = new RemoteEngine((batch) => this.post({ __proto__: null, type: "engine", batch }), host, native);
    engine.onTrap = (trap) => this.trapped(trap);
    engine.onQuiet = () => this.switchLocal();
    return engine;
  }

  /**
   * askLocal asks the bridge for the module's bytes once the page has
   * loaded (its load event, then an idle moment), so that reading 4.7 MB
   * from the extension and compiling them take nothing from the page's own
   * load and from the calls it makes meanwhile (asking at the end of
   * parsing, before a bundle's deferred scripts ran, put DOMContentLoaded
   * of the Taro app page 1.72x behind the page without mpnet;
   * docs/BENCHMARKS.md).
   */
  askLocal() {
    if (this.local || !this.canCompile()) return;
    this.local = { __proto__: null, state: "asked", inst: null };
    let asked = false;
    const ask = () => {
      if (asked) return;
      asked = true;
      this.mark("localAsked");
      this.post({ __proto__: null, type: "moduleBytes" });
    };
    const idle = () => (native.idle ? native.idle(ask, { __proto__: null, timeout: 200 }) : native.setTimeout(ask, 0));
    if (document.readyState !== "complete") {
      invoke(listen, window, "load", idle, { __proto__: null, once: true });
      // A load event held up by a resource that never finishes: ask anyway,
      // LOAD_WAIT_MS after DOMContentLoaded.
      const late = () => native.setTimeout(idle, LOAD_WAIT_MS);
      if (document.readyState === "loading") invoke(listen, document, "DOMContentLoaded", late, { __proto__: null, once: true });
      else late();
    } else {
      idle();
    }
  }

  /**
   * compileLocal compiles the module in this page from the bytes the bridge
   * sent, warms it (V8 compiles a module's functions on their first call:
   * a scratch instance runs the configuration and a call in idle time, so
   * that neither the switch nor the first calls after it pay for that), and
   * switches the engine over as soon as the remote one is quiet.
   */
  async compileLocal(bytes, error) {
    const l = this.local;
    if (!l || l.state !== "asked") return;
    if (!(bytes instanceof SafeArrayBuffer)) {
      l.state = "refused";
      this.compileError = "the module's bytes did not arrive: " + SafeString(error || "no bytes");
      this.mark("compileRefused");
      this.sendStatus();
      return;
    }
    l.state = "compiling";
    this.mark("bytes");
    try {
      const module = await safe(WebAssemblyCompile(bytes));
      this.mark("compiled");
      l.state = "warming";
      const d = this.config && this.config.domains;
      const first = d && d.request && d.request[0];
      await safe(warm(module, this.remote.journal.config, first ? first + "/" : "https://mpnet.invalid/", native));
      this.mark("warmed");
      l.inst = await safe(MpnetModule.load(module, { __proto__: null, spare: false }));
      l.inst.placement = "page";
      this.mark("instantiated");
      l.state = "ready";
      this.switchLocal();
    } catch (e) {
      // The page's CSP (a <meta> one, parsed after the probe) or no memory:
      // the extension-hosted module stays.
      l.state = "refused";
      this.compileError = SafeString(e && e.message || e);
      this.mark("compileRefused");
      this.sendStatus();
    }
  }

  /**
   * switchLocal moves the engine into the page: the remote engine hands its
   * state over to the local instance (RemoteEngine.handOver: its journal
   * replayed, when no message is in flight), which then holds exactly the
   * same state, and the host's instance is let go. A remote engine that is
   * not quiet yet calls this again when it is (onQuiet).
   */
  switchLocal() {
    const l = this.local;
    const r = this.remote;
    if (!l || l.state !== "ready" || this.engine !== r || this.state !== "ready") return;
    if (TEST_HOOKS && this.holdSwitch) return;
    const inst = l.inst;
    try {
      if (!r.handOver((name, text) => inst.raw(name, text))) return;
    } catch (e) {
      l.state = "refused";
      this.compileError = "the in-page module could not take the engine's state over: " + SafeString(e && e.message || e);
      return;
    }
    inst.onTrap = (trap) => this.trapped(trap);
    l.state = "done";
    l.inst = null;
    this.engine = inst;
    this.post({ __proto__: null, type: "engineClose" });
    this.mark("switched");
    this.sendStatus();
  }

  mark(name) { this.timings[name] = MathRound(native.now() * 10) / 10; }

  /** request sends a message to the background through the bridge and waits (at most ms) for its answer. */
  request(msg, ms = 3000) {
    return new SafePromise((resolve) => {
      const id = StringPrototypeSlice(NumberPrototypeToString(MathRandom(), 36), 2);
      const t = native.setTimeout(() => { this.replies.delete(id); resolve(null); }, ms);
      this.replies.set(id, (v) => { native.clearTimeout(t); resolve(v); });
      this.post({ __proto__: null, ...msg, replyTo: id });
    });
  }

  /**
   * refererMessage asks the background for the tab's Referer rule (R8): the
   * value and the mode; the background scopes it to the API hosts of the
   * configuration it holds for this origin.
   */
  refererMessage() {
    return { __proto__: null, type: "referer", referer: this.referer || "", mode: this.mode };
  }

  async configure(files, answer) {
    if (!files.length) {
      throw new SafeError("no configuration for this origin: import the project's files in mpnet's options");
    }
    const req = { __proto__: null, files };
    // The background's hello carries the host's answer to this very
    // configuration (the host instance was configured with it): no need to
    // wait for the same answer again.
    const known = typeof answer === "string" && answer && this.engine === this.remote ? this.remote.configured(req, answer) : null;
    if (known) this.mark("answered"); // the timeline says ready came with hello's answer
    const res = known || await this.engine.configure(req);
    if (!res.ok) {
      const first = res.errors[0];
      throw new SafeError(`configuration error: ${first.file || ""}${first.line ? ":" + first.line : ""} ${first.message}`);
    }
    this.config = res.config;
    if (this.tabMode && this.tabMode !== res.config.mode) {
      await this.engine.configure({ __proto__: null, config: { __proto__: null, ...res.config, mode: this.tabMode } });
    }
    this.mode = this.tabMode || res.config.mode;
    this.state = "ready";
    this.problems = res.problems || list();
    this.referer = res.referer;
    this.sendStatus();
    // R12 in the browser: the first call to a server waits for its verdict.
    if (this.r12) this.event({ __proto__: null, type: "tlsSource" });
    if (this.hidden()) this.event({ __proto__: null, type: "hide" });
  }

  fail(e) {
    this.state = "failed";
    this.error = SafeString(e && e.message || e);
    this.sendStatus();
    console.error("[mpnet] checks are OFF: " + this.error);
    // Calls the engine was holding go ahead, unchecked and recorded as such:
    // with no module there is nothing to wait for.
    const calls = list();
    this.calls.forEach((c) => { ArrayPrototypePush(calls, c); });
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i];
      this.calls.delete(c.id);
      if (c.record.state === "running") continue;
      c.unchecked = true;
      ArrayPrototypePush(c.record.findings, { __proto__: null, rule: "", severity: "error", message: "checks are OFF: " + this.error });
      c.onAction({ __proto__: null, type: "start", id: c.id, unchecked: true });
    }
  }

  trapped(trap) {
    console.warn("[mpnet] " + trap.message);
    this.restarts++;
    if (this.restarts > MAX_RESTARTS) this.fail(new SafeError("the module keeps trapping: " + trap.message));
    else this.sendStatus();
  }

  applyTab(tab) {
    if (typeof tab.enabled === "boolean") this.enabled = tab.enabled;
    if (tab.mode) { this.tabMode = tab.mode; this.mode = tab.mode; }
    if (typeof tab.background === "boolean" && tab.background !== this.manualBackground) {
      const was = this.hidden();
      this.manualBackground = tab.background;
      if (this.state === "ready" && was !== this.hidden()) this.event({ __proto__: null, type: this.hidden() ? "hide" : "show" });
    }
  }

  control(msg) {
    if (msg && msg.type === "tls" && msg.verdict && this.state === "ready") {
      // R12 verdicts from hostsim agent (via the background): later calls to
      // a failing server fail as on device.
      this.event({ __proto__: null, type: "tls", tls: msg.verdict });
      return;
    }
    if (!msg || msg.type !== "control") return;
    const modeChanged = msg.mode && msg.mode !== this.mode;
    this.applyTab(msg);
    if (modeChanged && this.state === "ready" && this.config) {
      when(this.engine.configure({ __proto__: null, config: { __proto__: null, ...this.config, mode: this.mode } }), () => {}, (e) => this.fail(e));
    }
    this.sendStatus();
    if (this.state === "ready") this.request(this.refererMessage());
  }

  hidden() { return this.docHidden || this.manualBackground; }

  setVisibility(hidden) {
    const was = this.hidden();
    this.docHidden = hidden;
    if (this.state === "ready" && was !== this.hidden()) this.event({ __proto__: null, type: this.hidden() ? "hide" : "show" });
  }

  setBackground(on) {
    this.applyTab({ __proto__: null, background: !!on });
    this.sendStatus();
  }

  active() { return this.enabled && this.mode !== "off"; }

  status() {
    const engine = this.state === "ready" ? this.counters : { __proto__: null };
    const memory = this.engine && this.engine.exports ? WebAssemblyMemoryGetBuffer(this.engine.exports.memory) : null;
    return {
      __proto__: null,
      state: this.state, error: this.error, mode: this.mode, enabled: this.enabled,
      hidden: this.hidden(), background: this.manualBackground,
      appid: this.config && this.config.appid, version: this.config && this.config.version,
      referer: this.referer || "", restarts: this.restarts,
      inFlight: engine.inFlight || 0, queued: engine.queued || 0, sockets: engine.sockets || 0,
      placement: this.engine ? this.engine.placement : "", switching: this.switching(), calls: this.nextId,
      memory: memory ? ArrayBufferPrototypeGetByteLength(memory) : 0,
      problems: this.problems || list(),
      timings: { __proto__: null, ...this.timings },
    };
  }

  post(msg) {
    if (this.port) invoke(portPost, this.port, msg);
    else if (this.pendingOut.length < 1000) ArrayPrototypePush(this.pendingOut, msg);
  }

  sendStatus() {
    this.post({ __proto__: null, type: "status", status: this.status() });
    if (this.onState) this.onState(); // the workers' clients follow the mode
  }

  /** flush sends the records changed since the last flush in one message. */
  flush() {
    this.flushTimer = null;
    if (!this.outbox.size) return;
    this.lastFlush = native.now();
    const records = list();
    this.outbox.forEach((rec) => { ArrayPrototypePush(records, rec); });
    this.post({ __proto__: null, type: "records", records });
    this.outbox.clear();
  }

  /**
   * event sends an event to the engine and carries out the resulting
   * actions: at once with the in-page module, when the answer comes with
   * the extension-hosted one. A module call that fails (a trap, a refused
   * event) fails the call the event is about, with an errMsg and a record.
   */
  event(ev, retried) {
    ev.at = this.now();
    let r;
    try {
      if (TEST_HOOKS && this.trapNext === ev.type) {
        this.trapNext = "";
        r = when(this.engine.debug(2), () => ({ __proto__: null, actions: list() }));
      } else {
        r = this.engine.step(ev);
      }
    } catch (e) {
      this.stepFailed(ev, e, retried);
      return;
    }
    when(r, (x) => this.apply(x), (e) => this.stepFailed(ev, e, retried));
  }

  /** apply carries out a step's actions. */
  apply(r) {
    this.counters = r;
    for (let i = 0; i < r.actions.length; i++) {
      const a = r.actions[i];
      const c = this.calls.get(a.id);
      if (c) c.onAction(a);
      if (a.type === "queue" && a.reason === "tls" && a.server) this.askTLS(a.server);
    }
    this.schedule(r.nextWake);
  }

  // stepFailed handles a module call that failed for one event. A trap has
  // already replaced the instance and restored its state (without this
  // event). An event about a call fails that call (the engine is told to
  // forget it); any other event is sent once more.
  stepFailed(ev, e, retried) {
    const c = ev.id ? this.calls.get(ev.id) : null;
    const why = e && e.code === "bad_message" ? "mpnet refused the call's event: " + e.message : "mpnet's policy module failed on this call (" + (e && e.message || e) + ")";
    if (c) {
      const api = c.record.api || (c.record.transport === "websocket" ? "connectSocket" : "request");
      const action = { __proto__: null, type: "fail", id: c.id, api, rule: "", errMsg: `${api}:fail ${why}`, message: `[mpnet] ${why}; the call was not judged, so it was failed`, fix: "reload the page; if it happens again, report it with the page's console output" };
      c.onAction(action);
      if (ev.type !== "open" && this.state === "ready") this.event({ __proto__: null, type: "abort", id: ev.id }, true);
    } else if (!retried && !ev.id && this.state === "ready") {
      this.event(ev, true);
    }
  }

  // askTLS asks the background for a server's R12 verdict the engine waits
  // for (once per server) and tells the engine what came back.
  askTLS(server) {
    if (this.tlsAsked.has(server)) return;
    this.tlsAsked.add(server);
    const i = StringPrototypeLastIndexOf(server, ":");
    const host = StringPrototypeSlice(server, 0, i);
    const port = SafeNumber(StringPrototypeSlice(server, i + 1));
    // The call's own timeout bounds the wait; this bound only ends the request.
    PromisePrototypeThen(this.request({ __proto__: null, type: "tlsVerdict", server }, 60000), (v) => {
      if (this.state !== "ready") return;
      if (v && v.verdict && typeof v.verdict === "object") this.event({ __proto__: null, type: "tls", tls: { __proto__: null, ...v.verdict, host, port } });
      else {
        if (v && v.unavailable) console.warn(`[mpnet] no R12 verdict for ${server}: ${v.unavailable}`);
        this.event({ __proto__: null, type: "tls", server });
      }
    });
  }

  schedule(at) {
    if (this.wake && this.wakeAt === at) return;
    if (this.wake) native.clearTimeout(this.wake);
    this.wake = null;
    if (!at) return;
    this.wakeAt = at;
    this.wake = native.setTimeout(() => {
      this.wake = null;
      this.event({ __proto__: null, type: "tick" });
    }, MathMax(0, at - this.now()));
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
      let call;
      try {
        call = this.openNow(facts, onAction);
      } catch (e) {
        return new SafePromise((resolve, reject) => reject(e));
      }
      return new SafePromise((resolve) => resolve(call));
    }
    return PromisePrototypeThen(this.ready, () => this.openNow(facts, onAction));
  }

  openNow(facts, onAction) {
    const id = ++this.nextId;
    const api = facts.api || this.takeHint();
    const record = {
      __proto__: null,
      id: `${frameTag}-${id}`, api: api || "", method: facts.method || "GET", url: facts.url, frame: facts.frame || this.frame, startedAt: DateNow(), state: "waiting",
      verdict: "ok", rule: "", errMsg: "", proceeded: false, findings: list(), queuedMs: 0, durationMs: 0, status: 0,
      mode: this.mode, transport: facts.transport || "", tooling: false,
    };
    const t0 = this.now();
    const call = { __proto__: null, id, record, t0, startedAt: 0 };
    if (this.state !== "ready" || !this.active()) {
      record.state = "running";
      if (!record.api) record.api = facts.transport === "websocket" ? "connectSocket" : "request";
      record.unchecked = true;
      if (this.state === "failed") ArrayPrototypePush(record.findings, { __proto__: null, rule: "", severity: "error", message: "checks are OFF: " + this.error });
      else if (!this.enabled) ArrayPrototypePush(record.findings, { __proto__: null, rule: "", severity: "warning", message: "not checked: mpnet is switched off for this tab (toolbar popup)" });
      else if (this.mode === "off") ArrayPrototypePush(record.findings, { __proto__: null, rule: "", severity: "warning", message: "not checked: the mode is off" });
      this.emit(record);
      call.unchecked = true;
      call.onAction = () => {};
      onAction({ __proto__: null, type: "start", id, unchecked: true }, call);
      return call;
    }
    call.onAction = (a) => {
      if (a.type === "pass") {
        // R15: not a mini-program call. It runs untouched and the engine
        // keeps no state for it: no later events.
        call.unchecked = true;
        this.calls.delete(call.id);
        this.note(call, a);
        onAction({ __proto__: null, ...a, type: "start", pass: true }, call);
        return;
      }
      this.note(call, a);
      onAction(a, call);
    };
    this.calls.set(id, call);
    try {
      this.event({
        __proto__: null, type: "open", id, api: api || undefined, url: facts.url, method: record.method, timeout: facts.timeout > 0 ? MathFloor(facts.timeout) : 0,
        headers: facts.headers || list(), transport: facts.transport, origin: native.origin, protocols: facts.protocols,
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
        ArrayPrototypePush(r.findings, finding(a));
        break;
      case "report":
        ArrayPrototypePush(r.findings, finding(a));
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
        ArrayPrototypePush(r.findings, finding({ __proto__: null, ...a, severity: "info" }));
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
        if (a.message) ArrayPrototypePush(r.findings, finding({ __proto__: null, ...a, severity: "error" }));
        this.calls.delete(call.id);
        break;
    }
    this.emit(r);
  }

  /** listening tracks "verdict" listeners (fn, capture) so that emit copies records only for someone. */
  listening(fn, opts, on) {
    const capture = typeof opts === "boolean" ? opts : !!(opts && opts.capture);
    const flags = this.verdictListeners.get(fn) || new SafeSet();
    if (on) flags.add(capture);
    else flags.delete(capture);
    if (flags.size) this.verdictListeners.set(fn, flags);
    else this.verdictListeners.delete(fn);
  }

  emit(record) {
    // Records go to the background in batches: one message per call state
    // change cost more than the call itself (docs/BENCHMARKS.md). The outbox
    // holds the live record; postMessage copies its latest state at flush.
    // The module names a call's API in its first action (R15); a record
    // sent before that (a failed module call) names the transport's default.
    if (!record.api) record.api = record.transport === "websocket" ? "connectSocket" : "request";
    record.url = clip(record.url, 8192);
    record.frame = clip(record.frame, 8192);
    this.outbox.set(record.id, record);
    // A lone call's record leaves FLUSH_MS after its change; while calls
    // keep coming, batches leave at most every FLUSH_GAP_MS (each batch
    // costs the page, the bridge, the background and session storage a
    // message and a write whatever its size: docs/BENCHMARKS.md).
    if (!this.flushTimer) {
      const wait = MathMax(FLUSH_MS, this.lastFlush + FLUSH_GAP_MS - native.now());
      this.flushTimer = native.setTimeout(() => this.flush(), wait);
    }
    // Listeners get a snapshot; with none, no copy is made.
    // (JSONParse: the page's copy has ordinary objects.)
    if (this.verdictListeners.size > 0) dispatch(this.events, new SafeCustomEvent("verdict", { __proto__: null, detail: JSONParse(stringify(record)) }));
  }

  /** response reports response headers (R11 reminders come back as reports). */
  response(call, status) {
    call.record.status = status;
    if (!call.unchecked && this.calls.has(call.id)) this.event({ __proto__: null, type: "response", id: call.id, status });
  }

  /** connected reports a socket's handshake. */
  connected(call) {
    if (!call.unchecked && this.calls.has(call.id)) this.event({ __proto__: null, type: "connected", id: call.id });
  }

  /**
   * redirect reports that a call ended up at another URL (R14): the browser
   * followed redirects the page cannot see one by one, so the host reports
   * the final URL before the app sees the response; a hop the device
   * refuses fails the call (its onAction gets "fail").
   */
  redirect(call, url) {
    const r = call.record;
    if (!r.hops) r.hops = list();
    ArrayPrototypePush(r.hops, url);
    if (!call.unchecked && this.calls.has(call.id)) this.event({ __proto__: null, type: "redirect", id: call.id, url });
    else this.emit(r);
  }

  /** finish reports the end of a call and frees its slot. */
  finish(call, extra) {
    const r = call.record;
    if (r.state === "blocked" || r.state === "failed" || r.state === "done") return;
    if (extra) ObjectAssign(r, extra);
    r.state = "done";
    // durationMs is the running time; time spent queued is queuedMs.
    r.durationMs = this.now() - (call.startedAt || call.t0);
    if (!call.unchecked && this.calls.has(call.id)) {
      this.calls.delete(call.id);
      this.event({ __proto__: null, type: "finish", id: call.id });
    }
    this.emit(r);
  }

  /** abort reports that the app aborted the call. */
  abort(call) {
    if (!call.unchecked && this.calls.has(call.id)) {
      this.event({ __proto__: null, type: "abort", id: call.id });
    }
  }

  /**
   * body applies R10 to a response body; answers {bytes, result}, or a
   * promise of it when the module runs in the extension.
   */
  body(call, api, contentType, bytes) {
    if (call.unchecked || this.state !== "ready") return { __proto__: null, bytes, result: null };
    const done = ({ result, body }) => {
      const warnings = result.warnings || list();
      for (let i = 0; i < warnings.length; i++) {
        const w = warnings[i];
        const f = { __proto__: null, rule: w.rule, severity: result.error && w.message === result.error ? "error" : "warning", message: w.message, fix: w.fix };
        ArrayPrototypePush(call.record.findings, f);
        if (f.severity === "error") call.record.verdict = "fail";
        else if (call.record.verdict === "ok") { call.record.verdict = "warn"; call.record.rule = call.record.rule || w.rule; }
      }
      return { __proto__: null, bytes: body, result };
    };
    const failed = (e) => {
      // The body goes to the app as it came; the record says R10 was not applied.
      ArrayPrototypePush(call.record.findings, { __proto__: null, rule: "R10", severity: "warning", message: `[R10] the body was not checked: ${e && e.message || e}`, fix: "" });
      if (call.record.verdict === "ok") call.record.verdict = "warn";
      return { __proto__: null, bytes, result: null };
    };
    try {
      return when(this.engine.body({ __proto__: null, api, contentType: contentType || "" }, bytes), done, failed);
    } catch (e) {
      return failed(e);
    }
  }

  /**
   * checkSync judges a call at once (synchronous XHR): the decision, or,
   * when the module runs in the extension and cannot answer synchronously,
   * one that says so and fails the call in enforce mode.
   */
  checkSync(req) {
    if (this.engine && this.engine.placement === "page") return this.engine.check(req);
    // The module runs in the extension for good (the page's CSP).
    const why = "mpnet cannot judge a synchronous XMLHttpRequest while its module runs in the extension (the page's Content-Security-Policy forbids WebAssembly)";
    return {
      __proto__: null, allowed: false, proceed: this.mode !== "enforce", rule: "", errMsg: `${req.api}:fail ${why}`,
      message: `[sync] ${why}`, warnings: list(), api: req.api, url: req.url,
    };
  }

  /** switching says the engine runs in the extension for now and the in-page module is on its way. */
  switching() {
    return this.state !== "failed" && !(this.engine && this.engine.placement === "page") && !(this.local && this.local.state === "refused") && this.canCompile();
  }

  /**
   * localPending answers whether the in-page module is still on its way
   * (switching over first if it can): a synchronous XHR cannot be judged by
   * the extension-hosted module, so until then it fails as while loading.
   */
  localPending() {
    this.switchLocal();
    return this.switching();
  }

  /** check is window.mpnet.check: the same decision object as `hostsim check`. */
  async check(req) {
    await this.ready;
    if (this.state !== "ready") throw new SafeError("mpnet checks are off: " + this.error);
    return this.engine.check({ __proto__: null, api: req.api || "request", url: SafeString(req.url), timeout: req.timeout > 0 ? MathFloor(req.timeout) : 0, headers: req.headers || null });
  }
}

nullProto(Runtime);

function finding(a) {
  return { __proto__: null, rule: a.rule || "", severity: a.severity || "info", message: a.message || "", fix: a.fix || "", console: a.console || "", list: a.list || "", entry: a.entry || "" };
}

const frameTag = StringPrototypeSlice(NumberPrototypeToString(MathRandom(), 36), 2, 8);

const NativePromise = Promise;

function start() {
  // One runtime per frame: a second injection (the manifest's and a
  // registered content script both matching) finds the API in place. The
  // guard is the frozen API itself, which exposes nothing of the runtime.
  if (ObjectGetOwnPropertyDescriptor(window, "mpnet")) return;
  const rt = new Runtime();
  installFetch(rt, native, CallError);
  installXHR(rt, native, CallError);
  installWebSocket(rt, native, CallError);
  installWorkers(rt, native);
  installFrameworks(rt);
  installResources(rt);
  invoke(listen, document, "visibilitychange", () => rt.setVisibility(visibilityState(document) === "hidden"));

  // The in-page API: the only way in from page scripts. What it answers
  // are copies with ordinary prototypes, never the runtime's own objects.
  const copy = (v) => JSONParse(stringify(v));
  const api = /* page-visible */ {
    check: (req) => new NativePromise((resolve, reject) => PromisePrototypeThen(safe(rt.check(req || { __proto__: null })), (v) => resolve(copy(v)), reject)),
    status: () => copy(rt.status()),
    setBackground: (on) => rt.setBackground(on),
    addEventListener: (type, fn, opts) => {
      rt.events.addEventListener(type, fn, opts);
      if (type === "verdict" && fn) rt.listening(fn, opts, true);
    },
    removeEventListener: (type, fn, opts) => {
      rt.events.removeEventListener(type, fn, opts);
      if (type === "verdict" && fn) rt.listening(fn, opts, false);
    },
    ready: () => new NativePromise((resolve) => PromisePrototypeThen(rt.ready, () => resolve(copy(rt.status())))),
  };
  if (TEST_HOOKS) {
    // Browser tests only: make the module call for the next event of a type
    // trap (a real trap, mpnet_debug(2), where that step would run).
    // holdSwitch(true) keeps the engine in the extension once the in-page
    // module is ready; holdSwitch(false) lets it switch (at once when the
    // remote engine is quiet).
    api.test = freeze(/* page-visible */ {
      trapNext: (type) => { rt.trapNext = SafeString(type); },
      holdSwitch: (on) => {
        rt.holdSwitch = !!on;
        if (!on) rt.switchLocal();
      },
      localState: () => (rt.local ? rt.local.state : ""),
    });
  }
  defineProperty(window, "mpnet", { __proto__: null, value: freeze(api), configurable: false, enumerable: false, writable: false });

  const onInit = (e) => {
    const data = invoke(eventData, e);
    if (invoke(eventSource, e) !== window || !data || data.__mpnet !== "init") return;
    const ports = invoke(eventPorts, e);
    invoke(unlisten, window, "message", onInit, true);
    invoke(stopImmediate, e);
    if (ports && ports[0]) rt.init(ports[0]);
  };
  invoke(listen, window, "message", onInit, true);
}

start();
