// The offscreen document that hosts the mpnet module in the extension. The
// background keeps it open from its start: every page runtime's first calls
// are judged here while the page's own module compiles (page/runtime.js),
// and pages whose Content-Security-Policy forbids WebAssembly (no
// 'wasm-unsafe-eval') use it for good. The page runtime sends the same ABI
// messages here (through its bridge) and gets the same answers. One module
// instance per page runtime, in a worker of this document (the offscreen
// document's reason is WORKERS), so that a busy engine never holds up the
// relay. Only content scripts of this extension may connect (the bridge,
// which validated what the page posted); a port's instance is dropped when
// the port closes (the page went away, or its own module took over). The
// background may ask for a configuration's answer ({type: "hostPrepare"}),
// which also keeps an instance configured with it for the next page.

const MAX_CLIENTS = 64;

const worker = new Worker("engine-worker.js", { type: "module" });
const ports = new Map(); // client id -> runtime.Port
const preps = new Map(); // request id -> sendResponse
let next = 0;

worker.onmessage = (e) => {
  const { client, answer, prep } = e.data;
  if (prep) {
    const reply = preps.get(prep.id);
    preps.delete(prep.id);
    if (reply) reply(prep.error ? { ok: false, error: prep.error } : { ok: true, answer: prep.answer });
    return;
  }
  const p = ports.get(client);
  if (!p) return;
  try { p.postMessage(answer); } catch (err) { ports.delete(client); }
};

chrome.runtime.onMessage.addListener((m, sender, reply) => {
  // Only the background (this extension, no tab) asks.
  if (!m || m.type !== "hostPrepare" || sender.id !== chrome.runtime.id || sender.tab || typeof m.text !== "string") return false;
  const id = ++next;
  preps.set(id, reply);
  worker.postMessage({ prep: { id, text: m.text } });
  return true;
});

chrome.runtime.onConnect.addListener((p) => {
  if (p.name !== "mpnet-engine") return;
  const s = p.sender;
  if (!s || s.id !== chrome.runtime.id || !s.tab || ports.size >= MAX_CLIENTS) {
    p.postMessage({ batch: [{ seq: 0, error: { code: "host", message: ports.size >= MAX_CLIENTS ? `more than ${MAX_CLIENTS} pages use the extension-hosted module at once` : "only the extension's bridge may use the module host" } }] });
    p.disconnect();
    return;
  }
  const client = ++next;
  ports.set(client, p);
  p.onMessage.addListener((m) => worker.postMessage({ client, m }));
  p.onDisconnect.addListener(() => {
    ports.delete(client);
    worker.postMessage({ client, gone: true });
  });
});
