// The offscreen document that hosts the mpnet module for preview pages whose
// Content-Security-Policy forbids WebAssembly (no 'wasm-unsafe-eval'): the
// page runtime cannot compile the module there, so it sends the same ABI
// messages here (through its bridge) and gets the same answers. One module
// instance per page runtime, in a worker of this document (the offscreen
// document's reason is WORKERS), so that a busy engine never holds up the
// relay. Only content scripts of this extension may connect (the bridge,
// which validated what the page posted); a port's instance is dropped when
// the port closes (the page went away).

const MAX_CLIENTS = 64;

const worker = new Worker("engine-worker.js", { type: "module" });
const ports = new Map(); // client id -> runtime.Port
let next = 0;

worker.onmessage = (e) => {
  const { client, answer } = e.data;
  const p = ports.get(client);
  if (!p) return;
  try { p.postMessage(answer); } catch (err) { ports.delete(client); }
};

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
