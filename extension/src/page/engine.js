// The page runtime's engine: one interface, two placements.
//
// - In the page (default): the module compiled in this realm, MpnetModule
//   itself; every call answers at once.
// - In the extension (the page's CSP forbids WebAssembly): RemoteEngine
//   sends the same ABI messages, through the bridge, to the module hosted
//   in the extension's offscreen document (host/), and answers promises.
//
// The runtime (and the worker clients it serves) use both through `when`,
// which carries on synchronously when an answer is a value and after it
// when it is a promise, so the in-page path keeps its synchronous,
// per-call cost. RemoteEngine keeps the same Journal as the loader: when
// the host goes away (its document closed, the extension reloaded), a new
// host gets the configuration, the R12 knowledge and the events since the
// engine was last idle, exactly as after a trap.

import { Journal, ModuleError, TrapError, frame, unframe } from "../../../wasm/loader.js";
import {
  nullProto, list, parse, stringify, safe, SafeMap, SafePromise, ArrayPrototypePush, ObjectKeys, PromisePrototypeThen,
  SafeTextEncoder, SafeTextDecoder, TextEncoderPrototypeEncode, TextDecoderPrototypeDecode, u8Length, SafeQueueMicrotask,
  StringPrototypeSlice, StringPrototypeStartsWith, SafeString, SafeError,
} from "./intrinsics.js";

const enc = new SafeTextEncoder();
const dec = new SafeTextDecoder();

/**
 * when calls f with v, at once when v is a value, or once v (a promise)
 * resolves. A promise is moved onto SafePromise.prototype first: its then
 * and constructor are never looked up on Promise.prototype.
 */
export function when(v, f, onError) {
  if (v instanceof SafePromise) return PromisePrototypeThen(v, f, onError);
  if (v !== null && typeof v === "object" && typeof v.then === "function") return PromisePrototypeThen(safe(v), f, onError);
  return f(v);
}

/**
 * replay brings a fresh instance to the state a journal describes (the
 * configuration, R12 knowledge, the events since the engine was last idle;
 * the engine is deterministic, wasm/ABI.md "Traps"): put(name, text) gets
 * each of the journal's messages in order ([export name, message text]),
 * and the journal is marked restored (calls lost with a log past its bound
 * start afresh). The one replay of both placements: a new module host
 * (RemoteEngine.lost) and the page's own instance (RemoteEngine.handOver).
 */
function replay(journal, put) {
  const msgs = journal.messages();
  journal.restored();
  for (let i = 0; i < msgs.length; i++) put(msgs[i][0], msgs[i][1]);
}

const WATCH_MS = 1000;
const ANSWER_MS = 5000;

/** The largest body the extension-hosted module is sent for R10 (extension messages carry at most 64 MiB of JSON). */
export const REMOTE_BODY_MAX = 32 << 20;

/** RemoteEngine: the module's ABI over messages, for a module hosted elsewhere. */
export class RemoteEngine {
  /**
   * @param send (batch) posts [{seq, op, data}] to the host
   * @param reconnect () => Promise that resolves once a host is there again
   */
  constructor(send, reconnect, timers) {
    this.placement = "extension";
    this.restarts = 0;
    this.onTrap = null;
    this.journal = new Journal();
    this._send = send;
    this._reconnect = reconnect;
    this._pending = new SafeMap();
    this._seq = 0;
    this._restoring = null;
    this._timers = timers;
    this._watch = null;
    this._out = list(); // messages to send at the end of this task, as one batch
    this._answered = false; // a host has answered (a first port that finds no host is no loss)
    this._closed = false;
    this.onQuiet = null; // called (in a later task) when no message is in flight any more
  }

  /** quiet says no message is in flight: the journal holds the engine's whole state. */
  quiet() {
    return !this._pending.size && !this._out.length && !this._reconnecting && !this._restoring && !this._closed;
  }

  /**
   * handOver moves this engine's state into another instance, when the
   * journal holds all of it: no message in flight, and the events since
   * the engine was last idle within the journal's bound (otherwise it
   * answers false and does nothing; onQuiet says when to try again).
   * put(name, text) gets the journal's messages in order (replay); once
   * they all went in, this engine stops using its host and answers true.
   * A put that throws leaves the engine as it was.
   */
  handOver(put) {
    if (!this.quiet() || !this.journal.replay) return false;
    replay(this.journal, put);
    this.close();
    return true;
  }

  /** close stops using the host (the page's own module took over). */
  close() {
    this._closed = true;
    if (this._watch) this._timers.clearTimeout(this._watch);
    this._watch = null;
  }

  // _post queues a message; the messages of one task go as one batch (ten
  // fetches started together cost one round of messages, not ten).
  _post(m) {
    ArrayPrototypePush(this._out, m);
    if (this._out.length === 1) SafeQueueMicrotask(() => {
      const batch = this._out;
      this._out = list();
      this._send(batch);
    });
  }

  _request(op, data) {
    return new SafePromise((resolve, reject) => {
      const seq = ++this._seq;
      this._pending.set(seq, { __proto__: null, resolve, reject, op, data, at: this._timers.now() });
      this._post({ __proto__: null, seq, op, data });
      if (!this._watch) this._watch = this._timers.setTimeout(() => this._check(), WATCH_MS);
    });
  }

  // _check: a host that leaves a message unanswered for ANSWER_MS is taken
  // for lost (a closed document does not always close the port).
  _check() {
    this._watch = null;
    if (!this._pending.size || this._reconnecting) return;
    let oldest = null;
    this._pending.forEach((p) => { if (!oldest) oldest = p; });
    if (this._timers.now() - oldest.at > ANSWER_MS) {
      this.lost(`it did not answer within ${ANSWER_MS / 1000} s`);
      return;
    }
    this._watch = this._timers.setTimeout(() => this._check(), WATCH_MS);
  }

  /** answer takes the host's answer {seq, data} or {seq, error: {code, message}}. */
  answer(m) {
    const p = this._pending.get(m.seq);
    if (!p) return;
    this._pending.delete(m.seq);
    this._answered = true;
    if (!this._pending.size && this.onQuiet) {
      // After the answers' continuations (the journal, the actions) have run.
      this._timers.setTimeout(() => { if (this.quiet() && this.onQuiet) this.onQuiet(); }, 0);
    }
    if (!m.error) {
      p.resolve(m.data);
      return;
    }
    if (m.error.code === "trap") {
      this.restarts++;
      const trap = new TrapError("mpnet_" + p.op, new SafeError(m.error.message), "");
      trap.message = SafeString(m.error.message); // the host's TrapError says it all
      if (this.onTrap) this.onTrap(trap);
      p.reject(trap);
      return;
    }
    p.reject(new ModuleError({ __proto__: null, code: m.error.code, message: m.error.message }));
  }

  /**
   * lost says the host went away. A new host is brought to this engine's
   * state (the journal: configuration, R12 knowledge, events since idle),
   * then gets the messages the old one left unanswered, in order, and
   * everything after them: the runtime sees a delay, not a loss.
   */
  lost(why) {
    if (this._reconnecting || this._closed) return;
    this._reconnecting = true;
    if (this._answered) {
      this.restarts++;
      if (this.onTrap) this.onTrap(new SafeError(`the extension-hosted module was lost (${why}); a new one took over`));
    }
    // The state the new host is brought to: the journal as it is now (the
    // messages in flight follow it).
    const state = list();
    const op = (name) => (StringPrototypeStartsWith(name, "mpnet_") ? StringPrototypeSlice(name, 6) : name);
    replay(this.journal, (name, data) => { ArrayPrototypePush(state, list(op(name), data)); });
    const pending = list();
    this._pending.forEach((p, seq) => { ArrayPrototypePush(pending, list(seq, p)); });
    const done = () => {
      this._reconnecting = false;
      this._restoring = null;
      if (this._pending.size && !this._watch) this._watch = this._timers.setTimeout(() => this._check(), WATCH_MS);
    };
    this._restoring = when(this._reconnect(), () => {
      try {
        for (let i = 0; i < state.length; i++) {
          const name = state[i][0], data = state[i][1];
          const seq = ++this._seq;
          this._pending.set(seq, { __proto__: null, resolve() {}, reject() {}, op: name, data, at: this._timers.now() });
          this._post({ __proto__: null, seq, op: name, data });
        }
        for (let i = 0; i < pending.length; i++) {
          const seq = pending[i][0], p = pending[i][1];
          p.at = this._timers.now();
          this._post({ __proto__: null, seq, op: p.op, data: p.data });
        }
      } finally {
        done();
      }
    }, (e) => {
      for (let i = 0; i < pending.length; i++) {
        this._pending.delete(pending[i][0]);
        pending[i][1].reject(e);
      }
      done();
    });
    PromisePrototypeThen(this._restoring, null, () => {});
  }

  async _json(op, msg) {
    if (this._restoring) await this._restoring;
    const text = typeof msg === "string" ? msg : stringify(msg);
    const v = parse(await this._request(op, text));
    if (v && v.error && typeof v.error.code === "string" && ObjectKeys(v).length === 1) throw new ModuleError(v.error);
    if (op === "configure" || op === "step") this.journal.remember("mpnet_" + op, text, typeof msg === "string" ? null : msg, v);
    return v;
  }

  configure(req) { return safe(this._json("configure", req)); }

  /**
   * configured takes the host's answer to req that the runtime already
   * has (hello's `answer`: the host instance this engine is handed was
   * configured with the very same message, engine-worker.js) and answers
   * it parsed, at once; the configure message still goes to the host,
   * first in this engine's order, and its answer is not waited for. Answers
   * null when the text is no ConfigureResult (the caller then configures
   * the usual way).
   */
  configured(req, answerText) {
    if (this._restoring) return null;
    const text = stringify(req);
    let v;
    try { v = parse(answerText); } catch (e) { return null; }
    if (!v || typeof v !== "object" || typeof v.ok !== "boolean") return null;
    PromisePrototypeThen(this._request("configure", text), null, () => {}); // its answer is v again
    this.journal.remember("mpnet_configure", text, req, v);
    return v;
  }
  check(req) { return safe(this._json("check", req)); }
  step(ev) { return safe(this._json("step", ev)); }

  /** body: R10 on a response body, by the host's module (and its TextDecoder). */
  body(header, bytes) { return safe(this._body(header, bytes)); }

  async _body(header, bytes) {
    const framed = frame(TextEncoderPrototypeEncode(enc, stringify(header)), bytes);
    if (u8Length(framed) > REMOTE_BODY_MAX) throw new ModuleError({ __proto__: null, code: "too_large", message: `a ${u8Length(bytes)}-byte body is more than the extension-hosted module takes (${REMOTE_BODY_MAX} bytes)` });
    if (this._restoring) await this._restoring;
    const out = await this._request("body", framed);
    const { head, payload } = unframe(out);
    const result = parse(TextDecoderPrototypeDecode(dec, head));
    if (result.error && result.error.code) throw new ModuleError(result.error);
    return { __proto__: null, result, body: payload };
  }

  /** debug: the module's test hooks (2 traps it). */
  debug(op) { return this._request("debug", op); }
}
nullProto(RemoteEngine);
