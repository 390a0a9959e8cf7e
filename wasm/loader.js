// The one JavaScript loader of the mpnet module (dist/mpnet.wasm), used by
// the extension's page runtime, its options page and the browser tests.
// It speaks the ABI of wasm/ABI.md: one input buffer, answers as packed
// pointer+length, JSON messages, framed bodies.
//
// A trap (a panic the module could not recover, running out of memory) kills
// an instance; MpnetModule then starts a fresh one from the compiled module,
// restores the configuration and replays the events since the engine was last
// idle, exactly as hostsim does, and reports the trap through onTrap.

// The page runtime runs this file in the page's world, where page scripts
// may patch any built-in: everything here uses the built-ins captured at
// document start (intrinsics.js; ARCHITECTURE.md, "Invariants"), and every
// class and internal object has a null prototype.
import { makeWASI } from "./wasi.js";
import {
  nullProto, list, parse, stringify, safe, SafeMap, ArrayPrototypePush, ObjectKeys, PromisePrototypeThen, SafePromise,
  SafeWebAssemblyModule, SafeWebAssemblyInstance, WebAssemblyCompile, WebAssemblyInstantiate, WebAssemblyInstanceGetExports,
  WebAssemblyMemoryGetBuffer, ReflectConstruct, SafeTextEncoder, SafeTextDecoder, TextEncoderPrototypeEncode,
  TextEncoderPrototypeEncodeInto, TextDecoderPrototypeDecode, u8, u8Length, u8Sub, u8Copy, TypedArrayPrototypeSet,
  TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteOffset, SafeDataView,
  DataViewPrototypeGetUint32, DataViewPrototypeSetUint32, SafeBigInt, BigIntAsUintN, SafeNumber, SafeError, MathMax,
  StringPrototypeStartsWith, StringPrototypeIndexOf, ArrayPrototypeIncludes,
} from "../extension/src/page/intrinsics.js";

/** The ABI version this loader speaks. */
export const ABI_VERSION = 3;

/** MAX_REPLAY bounds the events kept for replay after a trap (as hostsim.MaxReplay). */
export const MAX_REPLAY = 50000;

const EXPORTS = list("mpnet_abi_version", "mpnet_buffer", "mpnet_configure", "mpnet_check", "mpnet_step",
  "mpnet_body", "mpnet_judge_tls", "mpnet_status", "mpnet_debug");

const enc = new SafeTextEncoder();
const dec = new SafeTextDecoder();
const encode = (s) => TextEncoderPrototypeEncode(enc, s);
const decode = (b) => TextDecoderPrototypeDecode(dec, b);
// Taken when the loader runs (at document start in the page runtime), so a
// page script that replaces TextDecoder later cannot change R10's conversion.
const Decoder = SafeTextDecoder;

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
  const wasi = makeWASI(200);
  const stderr = wasi.stderr;
  const done = (instance) => ({ __proto__: null, instance, stderr, wasi });
  const instance = make(wasi.imports);
  return instance instanceof SafeWebAssemblyInstance ? done(instance) : PromisePrototypeThen(safe(instance), done);
}

// instantiate starts an instance asynchronously.
function instantiate(module) {
  return withWASI((imports) => WebAssemblyInstantiate(module, imports));
}

// instantiateSync starts an instance at once, for trap recovery inside the
// interceptor that saw the trap. Chromium refuses it on the main thread for
// modules over 8 MB (the module is under 6 MB); then it throws, and
// MpnetModule falls back to a spare instance made asynchronously.
function instantiateSync(module) {
  return withWASI((imports) => new SafeWebAssemblyInstance(module, imports));
}

function initialize({ instance, stderr, wasi }) {
  // The exports object has a null prototype and is frozen (JS API).
  const exports = WebAssemblyInstanceGetExports(instance);
  for (let i = 0; i < EXPORTS.length; i++) {
    if (typeof exports[EXPORTS[i]] !== "function") {
      throw new SafeError(`not an mpnet module: export ${EXPORTS[i]} is missing`);
    }
  }
  wasi.initialize(exports);
  const version = exports.mpnet_abi_version();
  if (version !== ABI_VERSION) {
    throw new SafeError(`the module speaks ABI version ${version}, this loader understands version ${ABI_VERSION}: rebuild the extension`);
  }
  return { __proto__: null, instance, exports, stderr };
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
    this.replay = list(); // step messages since the engine was last idle; null once MAX_REPLAY was passed
    this.sticky = new SafeMap(); // R12 knowledge by server
  }

  /** remember records one call: its name, the message text (msg the parsed message when the caller has it) and the parsed answer. */
  remember(name, text, msg, answer) {
    if (!answer || answer.error) return;
    if (name === "mpnet_configure") {
      if (!msg) msg = parse(text);
      if (!msg.dryRun && answer.ok) this.config = text;
    } else if (name === "mpnet_step") {
      if (!msg) msg = parse(text);
      const sticky = msg.type === "tlsSource" ? "source" : msg.type !== "tls" ? "" : msg.tls ? `${msg.tls.host}:${msg.tls.port}` : `none ${msg.server}`;
      if (sticky) {
        if (this.sticky.has(sticky) || this.sticky.size < 2 * MAX_REPLAY) this.sticky.set(sticky, text);
        return;
      }
      if (answer.inFlight === 0 && answer.queued === 0 && answer.sockets === 0 && !answer.hidden) this.replay = list();
      else if (this.replay && this.replay.length < MAX_REPLAY) ArrayPrototypePush(this.replay, text);
      // Past MAX_REPLAY events without an idle moment the log is dropped: a
      // restart then restores the configuration but not the calls in flight.
      else this.replay = null;
    }
  }

  /** messages lists what to send a fresh instance, in order: [export name, message text]. */
  messages() {
    const out = list();
    if (this.config) ArrayPrototypePush(out, list("mpnet_configure", this.config));
    this.sticky.forEach((ev) => { ArrayPrototypePush(out, list("mpnet_step", ev)); });
    const replay = this.replay;
    if (replay) for (let i = 0; i < replay.length; i++) ArrayPrototypePush(out, list("mpnet_step", replay[i]));
    return out;
  }

  /** restored says the messages were sent: calls lost with a dropped log start afresh. */
  restored() { if (!this.replay) this.replay = list(); }
}
nullProto(Journal);

/**
 * One simulated mini program running in its own instance of the module.
 * Its answers are parsed with null prototypes (objects and arrays alike:
 * read them by key and index, not with array methods or for..of), so that
 * a field the module left out reads as undefined even in a page that
 * defined it on Object.prototype.
 */
export class MpnetModule {
  /**
   * Compiles and instantiates the module.
   * @param {BufferSource|WebAssembly.Module} source the .wasm bytes or a compiled module
   */
  static async load(source, opts) {
    const spare = !opts || opts.spare !== false;
    const module = source instanceof SafeWebAssemblyModule ? source : await safe(WebAssemblyCompile(source));
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
    const { instance, exports, stderr } = initialize(raw);
    this.instance = instance;
    this.exports = exports;
    this.stderr = stderr;
    this._ptr = 0; // the instance's input buffer (mpnet_buffer) and its size
    this._cap = 0;
    this._view = null; // a view of memory, re-made when memory grows
  }

  // _prepareSpare instantiates the next instance in the background, so that
  // recovering from a trap stays synchronous.
  _prepareSpare() {
    this._sparePromise = PromisePrototypeThen(instantiate(this.module), (s) => { this._spare = s; }, () => { this._spare = null; });
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
      throw new SafeError("no spare instance of the module is ready yet, and it cannot be instantiated synchronously: " + (e && e.message || e));
    }
    this._use(fresh);
  }

  // _memory returns a view of the whole memory; growing memory detaches the
  // old one (its length drops to 0), so it is checked on every use.
  _memory() {
    if (!this._view || TypedArrayPrototypeGetByteLength(this._view) === 0) {
      this._buf = WebAssemblyMemoryGetBuffer(this.exports.memory);
      this._view = u8(this._buf);
    }
    return this._view;
  }

  // _input makes the input buffer at least n bytes. The buffer stays valid
  // until the next mpnet_buffer call (ABI.md), so it is asked for only when
  // it must grow: one export call per message instead of two.
  _input(n) {
    if (n > this._cap) {
      const size = MathMax(n, 4096);
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
      this._memory();
      const { written } = TextEncoderPrototypeEncodeInto(enc, msg, u8(this._buf, ptr, this._cap));
      packed = x[name](written);
    } else {
      const n = u8Length(msg);
      const ptr = this._input(n);
      TypedArrayPrototypeSet(this._memory(), msg, ptr);
      packed = x[name](n);
    }
    const p = BigIntAsUintN(64, SafeBigInt(packed));
    const ptr = SafeNumber(p >> 32n);
    this._memory();
    return u8(this._buf, ptr, SafeNumber(p & 0xffffffffn));
  }

  // _guard runs one call; a trap replaces the instance (restoring the
  // configuration and replaying events) and is rethrown as a TrapError.
  _guard(name, fn) {
    if (this.dead) throw new TrapError(name, this.dead, "");
    try {
      return fn();
    } catch (e) {
      let stderr = "";
      for (let i = 0; i < this.stderr.length; i++) stderr += (i ? "\n" : "") + this.stderr[i];
      this.restarts++;
      try {
        this._restore();
      } catch (err) {
        // No spare instance yet: come back to life as soon as one is ready.
        this.dead = err;
        this._prepareSpare();
        PromisePrototypeThen(this._sparePromise, () => {
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
    if (!StringPrototypeStartsWith(name, "mpnet_")) name = "mpnet_" + name;
    const out = this._guard(name, () => { const v = this._call(name, bytes); return u8Copy(v, 0, u8Length(v)); });
    if (name === "mpnet_configure" || name === "mpnet_step") {
      const text = typeof bytes === "string" ? bytes : decode(bytes);
      let answer;
      try { answer = parse(decode(out)); } catch (e) { return out; }
      this._remember(name, text, null, answer);
    }
    return out;
  }

  _restore() {
    this._start();
    const ms = this.journal.messages();
    for (let i = 0; i < ms.length; i++) this._call(ms[i][0], ms[i][1]);
    this.journal.restored();
  }

  // _remember keeps what a restart needs (see Journal).
  _remember(name, text, msg, answer) { this.journal.remember(name, text, msg, answer); }

  _json(name, msg) {
    const text = typeof msg === "string" ? msg : stringify(msg);
    const v = parse(this._guard(name, () => decode(this._call(name, text))));
    if (v && v.error && typeof v.error.code === "string" && ObjectKeys(v).length === 1) throw new ModuleError(v.error);
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
  status() { return parse(this._guard("mpnet_status", () => decode(this._call("mpnet_status")))); }

  /**
   * mpnet_body: R10 on a response body.
   * @returns {{result: object, body: Uint8Array}}
   */
  body(header, bytes) {
    const { out, result } = this._body(frame(encode(stringify(header)), bytes), header);
    if (!result) throw new SafeError("mpnet_body answered without a JSON header");
    if (result.error && result.error.code) throw new ModuleError(result.error);
    return { __proto__: null, result, body: unframe(out).payload };
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
    if (!result || typeof result.decode !== "string" || !result.decode) return { __proto__: null, out, result };
    const { head, payload: raw } = unframe(framed);
    const req = header || parse(decode(head));
    const { bytes, invalid } = decodeBody(result.decode, raw);
    const second = { __proto__: null, ...req, decoded: result.decode, source: result.source, invalid };
    const out2 = this.raw("mpnet_body", frame(encode(stringify(second)), bytes));
    return { __proto__: null, out: out2, result: answerHead(out2) };
  }

  /** mpnet_debug: 1 GC, 2 trap (test hook), 3 memory statistics. */
  debug(op) { return decode(this.raw("mpnet_debug", op)); }
}
nullProto(MpnetModule);

/** answerHead parses a framed answer's header, or answers null. */
function answerHead(out) {
  try {
    return parse(decode(unframe(out).head));
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
    text = TextDecoderPrototypeDecode(new Decoder(charset, { __proto__: null, fatal: false, ignoreBOM: true }), raw);
  } catch (e) {
    return { __proto__: null, bytes: raw, invalid: -1 };
  }
  if (StringPrototypeIndexOf(text, "\uFFFD") >= 0) {
    try {
      TextDecoderPrototypeDecode(new Decoder(charset, { __proto__: null, fatal: true, ignoreBOM: true }), raw);
    } catch (e) {
      let n = 0;
      for (let i = StringPrototypeIndexOf(text, "\uFFFD"); i >= 0; i = StringPrototypeIndexOf(text, "\uFFFD", i + 1)) n++;
      return { __proto__: null, bytes: raw, invalid: MathMax(n, 1) };
    }
  }
  return { __proto__: null, bytes: encode(text), invalid: 0 };
}

/** frame joins a header and a payload: uint32le(len(header)) | header | payload. */
export function frame(header, payload) {
  const h = u8Length(header);
  const out = u8(4 + h + u8Length(payload));
  DataViewPrototypeSetUint32(new SafeDataView(TypedArrayPrototypeGetBuffer(out)), 0, h, true);
  TypedArrayPrototypeSet(out, header, 4);
  TypedArrayPrototypeSet(out, payload, 4 + h);
  return out;
}

/** unframe splits a framed message. */
export function unframe(msg) {
  const len = u8Length(msg);
  if (len < 4) throw new SafeError(`framed message is ${len} bytes`);
  const n = DataViewPrototypeGetUint32(new SafeDataView(TypedArrayPrototypeGetBuffer(msg), TypedArrayPrototypeGetByteOffset(msg), len), 0, true);
  if (n > len - 4) throw new SafeError("bad framing");
  return { __proto__: null, head: u8Sub(msg, 4, 4 + n), payload: u8Sub(msg, 4 + n, len) };
}
