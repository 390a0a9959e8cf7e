// The worker of the offscreen module host: one MpnetModule instance per
// page runtime (client), compiled once from the extension's own mpnet.wasm.
// Each client's messages (batches: those of one task of the page) run in
// order, answered as one batch; a trap is recovered by the loader
// (replay, as in the page) and answered as {error: {code: "trap"}} so the
// runtime fails that call and goes on.

import { MpnetModule, TrapError } from "../../../wasm/loader.js";
import { toBase64, fromBase64 } from "../base64.js";

const OPS = { configure: "mpnet_configure", check: "mpnet_check", step: "mpnet_step", body: "mpnet_body", debug: "mpnet_debug" };
const dec = new TextDecoder();
let compiled = null;
const clients = new Map(); // client id -> Promise chain ending in its instance

function module() {
  if (!compiled) compiled = fetch(new URL("mpnet.wasm", self.location.href)).then((r) => r.arrayBuffer()).then((b) => WebAssembly.compile(b));
  return compiled;
}

self.onmessage = (e) => {
  const { client, m, gone } = e.data;
  if (gone) {
    clients.delete(client);
    return;
  }
  let chain = clients.get(client);
  if (!chain) chain = module().then((mod) => MpnetModule.load(mod, { spare: false }));
  const batch = m && Array.isArray(m.batch) ? m.batch : [];
  const next = chain.then((inst) => {
    self.postMessage({ client, answer: { batch: batch.map((x) => run(inst, x)) } });
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
