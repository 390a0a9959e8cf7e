// The one JavaScript loader of the mpnet module (dist/mpnet.wasm), used by
// the extension's page runtime, its options page and the browser tests.
// It speaks the ABI of wasm/ABI.md: one input buffer, answers as packed
// pointer+length, JSON messages, framed bodies.
//
// A trap (a panic the module could not recover, running out of memory) kills
// an instance; MpnetModule then starts a fresh one from the compiled module,
// restores the configuration and replays the events since the engine was last
// idle, exactly as hostsim does, and reports the trap through onTrap.

import { WASI, File, OpenFile, ConsoleStdout } from "@bjorn3/browser_wasi_shim";

/** The ABI version this loader speaks. */
export const ABI_VERSION = 3;

/** MAX_REPLAY bounds the events kept for replay after a trap (as hostsim.MaxReplay). */
export const MAX_REPLAY = 50000;

const EXPORTS = ["mpnet_abi_version", "mpnet_buffer", "mpnet_configure", "mpnet_check", "mpnet_step",
  "mpnet_body", "mpnet_judge_tls", "mpnet_status", "mpnet_debug"];

const enc = new TextEncoder();
const dec = new TextDecoder();
// Taken when the loader runs (at document start in the page runtime), so a
// page script that replaces TextDecoder later cannot change R10's conversion.
const Decoder = TextDecoder;

/** An error answer of the module ({"error":{"code","message"}}). */
export class ModuleError extends Error {
  constructor(info) {
    super(info.message);
    this.code = info.code;
  }
}

/** A trap: the instance died and was replaced. */
export class TrapError extends Error {
  constructor(exportName, cause, stderr) {
    super(`the mpnet module trapped in ${exportName}: ${cause && cause.message ? cause.message : cause}; the instance was replaced`);
    this.exportName = exportName;
    this.cause = cause;
    this.stderr = stderr;
  }
}

// withWASI makes a WASI environment (stdin empty, stdout dropped, stderr
// kept, 200 lines at most) and has make instantiate the module with it.
function withWASI(make) {
  const stderr = [];
  const wasi = new WASI([], [], [
    new OpenFile(new File([])),
    ConsoleStdout.lineBuffered(() => {}),
    ConsoleStdout.lineBuffered((line) => { if (stderr.length < 200) stderr.push(line); }),
  ], { debug: false });
  const done = (instance) => ({ instance, stderr, wasi });
  const instance = make({ wasi_snapshot_preview1: wasi.wasiImport });
  return instance instanceof Promise ? instance.then(done) : done(instance);
}

// instantiate starts an instance asynchronously.
function instantiate(module) {
  return withWASI((imports) => WebAssembly.instantiate(module, imports));
}

// instantiateSync starts an instance at once, for trap recovery inside the
// interceptor that saw the trap. Chromium refuses it on the main thread for
// modules over 8 MB (the module is under 6 MB); then it throws, and
// MpnetModule falls back to a spare instance made asynchronously.
function instantiateSync(module) {
  return withWASI((imports) => new WebAssembly.Instance(module, imports));
}

function initialize({ instance, stderr, wasi }) {
  for (const name of EXPORTS) {
    if (typeof instance.exports[name] !== "function") {
      throw new Error(`not an mpnet module: export ${name} is missing`);
    }
  }
  wasi.initialize(instance);
  const version = instance.exports.mpnet_abi_version();
  if (version !== ABI_VERSION) {
    throw new Error(`the module speaks ABI version ${version}, this loader understands version ${ABI_VERSION}: rebuild the extension`);
  }
  return { instance, stderr };
}

/**
 * Journal keeps what a fresh instance needs to be put back in the state of
 * one that died: the last configuration, what the engine knows about R12
 * ("tls" verdicts, servers none can be had for, "tlsSource"), which outlives
 * idleness, and the step events since the engine was last idle (no call in
 * flight, queued or open, foreground). The policy is deterministic, so
 * replaying them restores the engine exactly. MpnetModule uses it after a
 * trap; the page runtime's remote engine after it lost its host.
 */
export class Journal {
  constructor() {
    this.config = null; // last successful configure message (text)
    this.replay = []; // step messages since the engine was last idle; null once MAX_REPLAY was passed
    this.sticky = new Map(); // R12 knowledge by server
  }

  /** remember records one call: its name, the message text (msg the parsed message when the caller has it) and the parsed answer. */
  remember(name, text, msg, answer) {
    if (!answer || answer.error) return;
    if (name === "mpnet_configure") {
      if (!msg) msg = JSON.parse(text);
      if (!msg.dryRun && answer.ok) this.config = text;
    } else if (name === "mpnet_step") {
      if (!msg) msg = JSON.parse(text);
      const sticky = msg.type === "tlsSource" ? "source" : msg.type !== "tls" ? "" : msg.tls ? `${msg.tls.host}:${msg.tls.port}` : `none ${msg.server}`;
      if (sticky) {
        if (this.sticky.has(sticky) || this.sticky.size < 2 * MAX_REPLAY) this.sticky.set(sticky, text);
        return;
      }
      if (answer.inFlight === 0 && answer.queued === 0 && answer.sockets === 0 && !answer.hidden) this.replay = [];
      else if (this.replay && this.replay.length < MAX_REPLAY) this.replay.push(text);
      // Past MAX_REPLAY events without an idle moment the log is dropped: a
      // restart then restores the configuration but not the calls in flight.
      else this.replay = null;
    }
  }

  /** messages lists what to send a fresh instance, in order: [export name, message text]. */
  messages() {
    const out = [];
    if (this.config) out.push(["mpnet_configure", this.config]);
    for (const ev of this.sticky.values()) out.push(["mpnet_step", ev]);
    for (const ev of this.replay || []) out.push(["mpnet_step", ev]);
    return out;
  }

  /** restored says the messages were sent: calls lost with a dropped log start afresh. */
  restored() { if (!this.replay) this.replay = []; }
}

/** One simulated mini program running in its own instance of the module. */
export class MpnetModule {
  /**
   * Compiles and instantiates the module.
   * @param {BufferSource|WebAssembly.Module} source the .wasm bytes or a compiled module
   */
  static async load(source, { spare = true } = {}) {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    const m = new MpnetModule(module, await instantiate(module));
    if (spare) m._prepareSpare();
    return m;
  }

  constructor(module, first) {
    this.module = module;
    this.restarts = 0;
    this.onTrap = null;
    this.journal = new Journal();
    this._spare = null;
    this._use(first);
  }

  _use(raw) {
    const { instance, stderr } = initialize(raw);
    this.instance = instance;
    this.exports = instance.exports;
    this.stderr = stderr;
    this._ptr = 0; // the instance's input buffer (mpnet_buffer) and its size
    this._cap = 0;
    this._view = null; // a view of memory, re-made when memory grows
  }

  // _prepareSpare instantiates the next instance in the background, so that
  // recovering from a trap stays synchronous.
  _prepareSpare() {
    this._sparePromise = instantiate(this.module).then((s) => { this._spare = s; }, () => { this._spare = null; });
    return this._sparePromise;
  }

  /** spareReady makes a spare instance for trap recovery and resolves once it exists. */
  spareReady() {
    if (!this._sparePromise) this._prepareSpare();
    return this._sparePromise;
  }

  // _start replaces the instance: with the spare when there is one (and
  // then prepares the next), else synchronously.
  _start() {
    const spare = this._spare;
    this._spare = null;
    if (spare) {
      this._use(spare);
      this._prepareSpare();
      return;
    }
    let fresh;
    try {
      fresh = instantiateSync(this.module);
    } catch (e) {
      throw new Error("no spare instance of the module is ready yet, and it cannot be instantiated synchronously: " + (e && e.message || e));
    }
    this._use(fresh);
  }

  // _memory returns a view of the whole memory; growing memory detaches the
  // old one (its length drops to 0), so it is checked on every use.
  _memory() {
    if (!this._view || this._view.byteLength === 0) this._view = new Uint8Array(this.exports.memory.buffer);
    return this._view;
  }

  // _input makes the input buffer at least n bytes. The buffer stays valid
  // until the next mpnet_buffer call (ABI.md), so it is asked for only when
  // it must grow: one export call per message instead of two.
  _input(n) {
    if (n > this._cap) {
      const size = Math.max(n, 4096);
      this._ptr = this.exports.mpnet_buffer(size) >>> 0;
      this._cap = size;
      this._view = null;
    }
    return this._ptr;
  }

  // _call sends a message (bytes, or a string written straight into the
  // module's memory) and answers a view of the answer, valid until the next
  // call into the module.
  _call(name, msg) {
    const x = this.exports;
    let packed;
    if (name === "mpnet_status") {
      packed = x.mpnet_status();
    } else if (name === "mpnet_debug") {
      packed = x.mpnet_debug(msg);
    } else if (typeof msg === "string") {
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      const ptr = this._input(msg.length * 3);
      const { written } = enc.encodeInto(msg, this._memory().subarray(ptr, ptr + this._cap));
      packed = x[name](written);
    } else {
      const ptr = this._input(msg.length);
      this._memory().set(msg, ptr);
      packed = x[name](msg.length);
    }
    const p = BigInt.asUintN(64, BigInt(packed));
    const ptr = Number(p >> 32n);
    return this._memory().subarray(ptr, ptr + Number(p & 0xffffffffn));
  }

  // _guard runs one call; a trap replaces the instance (restoring the
  // configuration and replaying events) and is rethrown as a TrapError.
  _guard(name, fn) {
    if (this.dead) throw new TrapError(name, this.dead, "");
    try {
      return fn();
    } catch (e) {
      const stderr = this.stderr.join("\n");
      this.restarts++;
      try {
        this._restore();
      } catch (err) {
        // No spare instance yet: come back to life as soon as one is ready.
        this.dead = err;
        this._prepareSpare();
        this._sparePromise.then(() => {
          try { this._restore(); this.dead = null; } catch (e2) { this.dead = e2; }
        });
      }
      const trap = new TrapError(name, e, stderr);
      if (this.onTrap) this.onTrap(trap);
      throw trap;
    }
  }

  /** Sends raw bytes (or a string) to an export; answers a copy of the answer's bytes. Traps are recovered. */
  raw(name, bytes) {
    if (!name.startsWith("mpnet_")) name = "mpnet_" + name;
    const out = this._guard(name, () => this._call(name, bytes).slice());
    if (name === "mpnet_configure" || name === "mpnet_step") {
      const text = typeof bytes === "string" ? bytes : dec.decode(bytes);
      let answer;
      try { answer = JSON.parse(dec.decode(out)); } catch (e) { return out; }
      this._remember(name, text, null, answer);
    }
    return out;
  }

  _restore() {
    this._start();
    for (const [name, msg] of this.journal.messages()) this._call(name, msg);
    this.journal.restored();
  }

  // _remember keeps what a restart needs (see Journal).
  _remember(name, text, msg, answer) { this.journal.remember(name, text, msg, answer); }

  _json(name, msg) {
    const text = typeof msg === "string" ? msg : JSON.stringify(msg);
    const v = JSON.parse(this._guard(name, () => dec.decode(this._call(name, text))));
    if (v && v.error && typeof v.error.code === "string" && Object.keys(v).length === 1) throw new ModuleError(v.error);
    if (name === "mpnet_configure" || name === "mpnet_step") this._remember(name, text, typeof msg === "string" ? null : msg, v);
    return v;
  }

  /** mpnet_configure: {files:[{name,content}]} or {config}; answers the ConfigureResult. */
  configure(req) { return this._json("mpnet_configure", req); }
  /** mpnet_check: {api, url, timeout?, headers?}; answers the Decision. */
  check(req) { return this._json("mpnet_check", req); }
  /** mpnet_step: an Event; answers {actions, nextWake, inFlight, queued, sockets, hidden}. */
  step(ev) { return this._json("mpnet_step", ev); }
  /** mpnet_judge_tls: TLSFacts; answers the TLSVerdict. */
  judgeTLS(facts) { return this._json("mpnet_judge_tls", facts); }
  /** mpnet_status. */
  status() { return JSON.parse(this._guard("mpnet_status", () => dec.decode(this._call("mpnet_status")))); }

  /**
   * mpnet_body: R10 on a response body.
   * @returns {{result: object, body: Uint8Array}}
   */
  body(header, bytes) {
    const { out, result } = this._body(frame(enc.encode(JSON.stringify(header)), bytes), header);
    if (!result) throw new Error("mpnet_body answered without a JSON header");
    if (result.error && result.error.code) throw new ModuleError(result.error);
    return { result, body: unframe(out).payload };
  }

  /**
   * bodyRaw is body on a framed message, answering the framed answer. When
   * the module asks for a conversion (a body in a legacy charset, whose
   * tables it does not carry), the browser's TextDecoder converts and the
   * second message goes back with `decoded` set (wasm/ABI.md).
   */
  bodyRaw(framed) { return this._body(framed, null).out; }

  // _body runs the exchange of bodyRaw; answers the final framed answer and
  // its header parsed (null when it is not JSON). header is the request's
  // header when the caller has it as an object.
  _body(framed, header) {
    const out = this.raw("mpnet_body", framed);
    const result = answerHead(out);
    if (!result || typeof result.decode !== "string" || !result.decode) return { out, result };
    const { head, payload: raw } = unframe(framed);
    const req = header || JSON.parse(dec.decode(head));
    const { bytes, invalid } = decodeBody(result.decode, raw);
    const second = { ...req, decoded: result.decode, source: result.source, invalid };
    const out2 = this.raw("mpnet_body", frame(enc.encode(JSON.stringify(second)), bytes));
    return { out: out2, result: answerHead(out2) };
  }

  /** mpnet_debug: 1 GC, 2 trap (test hook), 3 memory statistics. */
  debug(op) { return dec.decode(this.raw("mpnet_debug", op)); }
}

/** answerHead parses a framed answer's header, or answers null. */
function answerHead(out) {
  try {
    return JSON.parse(dec.decode(unframe(out).head));
  } catch (e) {
    return null;
  }
}

/**
 * decodeBody converts a body from a WHATWG-named charset with TextDecoder:
 * {bytes: the UTF-8, invalid: 0} when it converts exactly; otherwise the raw
 * bytes and the number of byte sequences not valid in that charset, or -1
 * when this engine has no decoder for it. The BOM is kept (the module
 * removes one, as the client does); a U+FFFD the body itself encodes is no
 * failure (a fatal decoder accepts it).
 */
export function decodeBody(charset, raw) {
  // The standard's gbk decoder is its gb18030 decoder; Node's ICU decodes
  // "gbk" otherwise (0xFF as a private-use character, not an error).
  if (charset === "gbk") charset = "gb18030";
  let text;
  try {
    text = new Decoder(charset, { ignoreBOM: true }).decode(raw);
  } catch (e) {
    return { bytes: raw, invalid: -1 };
  }
  if (text.includes("\uFFFD")) {
    try {
      new Decoder(charset, { fatal: true, ignoreBOM: true }).decode(raw);
    } catch (e) {
      let n = 0;
      for (let i = text.indexOf("\uFFFD"); i >= 0; i = text.indexOf("\uFFFD", i + 1)) n++;
      return { bytes: raw, invalid: Math.max(n, 1) };
    }
  }
  return { bytes: enc.encode(text), invalid: 0 };
}

/** frame joins a header and a payload: uint32le(len(header)) | header | payload. */
export function frame(header, payload) {
  const out = new Uint8Array(4 + header.length + payload.length);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(payload, 4 + header.length);
  return out;
}

/** unframe splits a framed message. */
export function unframe(msg) {
  if (msg.length < 4) throw new Error(`framed message is ${msg.length} bytes`);
  const n = new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getUint32(0, true);
  if (n > msg.length - 4) throw new Error("bad framing");
  return { head: msg.subarray(4, 4 + n), payload: msg.subarray(4 + n) };
}
