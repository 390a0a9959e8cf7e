// Helpers for extension/test/workers.test.mjs: start a worker of each kind
// and ask it to run a command (worker-calls.js) and answer its result.
window.workers = {
  start(kind) {
    if (kind === "shared") {
      const w = new SharedWorker("shared.js", { name: "calls" });
      return { w, send: (m) => w.port.postMessage(m), on: (f) => { w.port.onmessage = f; } };
    }
    const w = kind === "module" ? new Worker("worker.mjs", { type: "module" }) : new Worker("worker.js");
    return { w, send: (m) => w.postMessage(m), on: (f) => { w.onmessage = f; } };
  },
  run(handle, cmd) {
    return new Promise((resolve) => {
      handle.on((e) => resolve(e.data));
      handle.send(cmd);
    });
  },
};
