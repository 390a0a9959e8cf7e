// The bridge: an ISOLATED-world content script at document start. It asks
// the background for this origin's configuration, reads the module from the
// extension, hands both to the page runtime over a private MessagePort, and
// relays records and status to the background and control to the page.

(async () => {
  const channel = new MessageChannel();
  const port = channel.port1;
  port.onmessage = (e) => {
    const m = e.data;
    if (!m || !["records", "status", "resource", "referer"].includes(m.type)) return;
    try {
      const p = chrome.runtime.sendMessage(m);
      if (m.replyTo) p.then((value) => port.postMessage({ type: "reply", id: m.replyTo, value }), () => port.postMessage({ type: "reply", id: m.replyTo, value: null }));
      else p.catch(() => {});
    } catch (err) {
      // The extension was reloaded: this page keeps its runtime until reload.
      if (m.replyTo) port.postMessage({ type: "reply", id: m.replyTo, value: null });
    }
  };
  chrome.runtime.onMessage.addListener((m) => {
    if (m && (m.type === "control" || m.type === "tls")) port.postMessage(m);
  });
  let hello = { files: [], tab: { enabled: true, mode: "enforce", background: false } };
  let wasm;
  try {
    [hello, wasm] = await Promise.all([
      chrome.runtime.sendMessage({ type: "hello", url: location.href }),
      fetch(chrome.runtime.getURL("mpnet.wasm")).then((r) => r.arrayBuffer()),
    ]);
  } catch (e) {
    wasm = new ArrayBuffer(0); // the runtime reports "checks are off"
  }
  window.postMessage({ __mpnet: "init", wasm, files: hello.files, tab: hello.tab }, "*", [channel.port2, wasm]);
})();
