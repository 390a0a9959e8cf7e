// The bridge: an ISOLATED-world content script at document start. It hands
// the page runtime a private MessagePort and the module's URL at once (the
// runtime streams and compiles the module itself while the configuration is
// on its way), asks the background for this origin's configuration and
// passes it on, and relays records and status to the background and control
// to the page.

(() => {
  const channel = new MessageChannel();
  const port = channel.port1;
  port.onmessage = (e) => {
    const m = e.data;
    if (m && m.type === "wasm") {
      // Fallback when the page's own fetch of the module failed (page code
      // replaced fetch before mpnet's runtime ran).
      fetch(chrome.runtime.getURL("mpnet.wasm")).then((r) => r.arrayBuffer()).then(
        (wasm) => port.postMessage({ type: "reply", id: m.replyTo, value: wasm }, [wasm]),
        () => port.postMessage({ type: "reply", id: m.replyTo, value: null }));
      return;
    }
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
  window.postMessage({ __mpnet: "init", wasmURL: chrome.runtime.getURL("mpnet.wasm") }, "*", [channel.port2]);
  const hello = (h) => port.postMessage({ type: "hello", files: h.files || [], tab: h.tab || {}, referer: h.referer || "" });
  try {
    chrome.runtime.sendMessage({ type: "hello", url: location.href }).then(hello, () => hello({}));
  } catch (e) {
    hello({}); // the runtime reports "checks are off": no configuration
  }
})();
