// The worker of the offscreen module host: one MpnetModule instance per
// page runtime (client), compiled once from the extension's own mpnet.wasm,
// as soon as the host starts. Each client's messages (batches: those of one
// task of the page) run in order, answered as one batch; a trap is
// recovered by the loader (replay, as in the page) and answered as
// {error: {code: "trap"}} so the runtime fails that call and goes on.
//
// Every page runtime starts on this host (its in-page module takes over
// once compiled, page/runtime.js), so a page's first configure must not
// wait for an instance: the host keeps instances already configured with
// the configurations it was asked for (by the background, which knows the
// preview origins' files, and by the pages that came before), keyed by the
// configure message's exact text. A client whose first message is that
// text takes such an instance and gets the answer the configure gave: the
// module is deterministic, so a fresh instance would answer the same
// bytes. A prepared instance is then made again for the next page.

import { MpnetModule, TrapError } from "../../../wasm/loader.js";
import { toBase64, fromBase64 } from "../base64.js";

const OPS = { configure: "mpnet_configure", check: "mpnet_check", step: "mpnet_step", body: "mpnet_body", debug: "mpnet_debug" };
// Configurations kept prepared (most recently used first out of four).
const PREPARED_MAX = 4;
const dec = new TextDecoder();
let compiled = null;
const clients = new Map(); // client id -> Promise chain ending in its instance
const prepared = new Map(); // configure text -> Promise<{inst, answer}>, oldest first
const configs = new Map(); // client id -> its first configure text

function module() {
  if (!compiled) compiled = WebAssembly.compileStreaming(fetch(new URL("mpnet.wasm", self.location.href)));
  return compiled;
}
module().catch(() => {}); // compiled at once; a failure is answered to whoever asks

function instance() {
  return module().then((mod) => MpnetModule.load(mod, { spare: false }));
}

// prepare makes (or finds) an instance configured with text; answers
// {inst, answer} (the configure's answer text).
function prepare(text) {
  let p = prepared.get(text);
  if (p) {
    prepared.delete(text); // most recently used last
    prepared.set(text, p);
    return p;
  }
  p = instance().then((inst) => ({ inst, answer: dec.decode(inst.raw("mpnet_configure", text)) }));
  p.catch(() => prepared.delete(text));
  prepared.set(text, p);
  while (prepared.size > PREPARED_MAX) prepared.delete(prepared.keys().next().value);
  return p;
}

// take hands a client a prepared instance for its first configure (the
// next one is prepared when the client is gone: its page left, or its own
// module took over, so that the work stays off the page's load).
async function take(text) {
  const p = prepared.get(text);
  if (!p) return null;
  prepared.delete(text);
  return p.catch(() => null);
}

self.onmessage = (e) => {
  const { client, m, gone, prep } = e.data;
  if (prep) {
    // The background asks for a configuration's answer (the Referer rule
    // it installs before the page's first call) and keeps it prepared.
    prepare(prep.text).then(({ answer }) => self.postMessage({ prep: { id: prep.id, answer } }),
      (err) => self.postMessage({ prep: { id: prep.id, error: String(err && err.message || err) } }));
    return;
  }
  if (gone) {
    const text = configs.get(client);
    clients.delete(client);
    configs.delete(client);
    if (text && !prepared.has(text)) prepare(text);
    return;
  }
  const batch = m && Array.isArray(m.batch) ? m.batch : [];
  let chain = clients.get(client);
  let first = null; // a prepared instance's configure answer, for the batch's first message
  if (!chain) {
    const f = batch[0];
    const text = f && f.op === "configure" && typeof f.data === "string" ? f.data : null;
    if (text) configs.set(client, text);
    chain = (text ? take(text) : Promise.resolve(null)).then((got) => {
      if (!got) return instance();
      first = got.answer;
      return got.inst;
    });
  }
  const next = chain.then((inst) => {
    const answers = batch.map((x, i) => (i === 0 && first !== null ? { seq: x.seq, data: first } : run(inst, x)));
    first = null;
    self.postMessage({ client, answer: { batch: answers } });
    return inst;
  }, (err) => {
    const error = { code: "host", message: "the extension could not load the module: " + (err && err.message || err) };
    self.postMessage({ client, answer: { batch: batch.map((x) => ({ seq: x && x.seq, error })) } });
    throw err;
  });
  next.catch(() => {});
  clients.set(client, next);
};

function run(inst, m) {
  const seq = m && Number.isInteger(m.seq) ? m.seq : -1;
  const name = m && OPS[m.op];
  if (!name || seq < 0) return { seq, error: { code: "bad_message", message: "not an engine message" } };
  try {
    if (m.op === "debug") {
      if (!Number.isInteger(m.data)) throw new Error("debug needs an op number");
      return { seq, data: inst.debug(m.data) };
    }
    if (m.op === "body") {
      if (!m.data || typeof m.data.b64 !== "string") throw new Error("body needs base64 bytes");
      return { seq, data: { b64: toBase64(inst.bodyRaw(fromBase64(m.data.b64))) } };
    }
    if (typeof m.data !== "string") throw new Error(`${m.op} needs a JSON message`);
    return { seq, data: dec.decode(inst.raw(name, m.data)) };
  } catch (err) {
    return { seq, error: { code: err instanceof TrapError ? "trap" : "bad_message", message: String(err && err.message || err) } };
  }
}
