// The bridge: an ISOLATED-world content script at document start, injected
// before the page runtime. It hands the runtime a private MessagePort, asks
// the background for this origin's configuration (while the runtime, which
// carries the module, compiles it) and passes it on, and relays records and
// status to the background and control to the page.

(() => {
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
  window.postMessage({ __mpnet: "init" }, "*", [channel.port2]);
  const asked = performance.now(); // for the runtime's timeline
  const hello = (h) => port.postMessage({ type: "hello", files: h.files || [], tab: h.tab || {}, referer: h.referer || "", asked });
  try {
    chrome.runtime.sendMessage({ type: "hello", url: location.href }).then(hello, () => hello({}));
  } catch (e) {
    hello({}); // the runtime reports "checks are off": no configuration
  }
})();
