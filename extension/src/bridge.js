// The bridge: an ISOLATED-world content script at document start, injected
// before the page runtime. It hands the runtime a private MessagePort, asks
// the background for this origin's configuration (while the runtime, which
// carries the module, compiles it) and passes it on, relays records and
// status to the background and control to the page, and, when the page's
// CSP forbids WebAssembly, carries the runtime's module calls to the
// extension-hosted module (offscreen document).
//
// The page is untrusted: everything it posts is checked against the
// schemas of schema.js and rebuilt from them before it goes on (unknown
// types and fields are dropped, with a console warning); what comes from
// the extension is checked the same way. The bridge never names a tab: the
// background takes identity from the browser (sender).

import { check, FROM_PAGE, TO_PAGE } from "./schema.js";
import { toBase64, fromBase64 } from "./base64.js";

(() => {
  const ownId = chrome.runtime.id;
  const channel = new MessageChannel();
  const port = channel.port1;
  const TO_BACKGROUND = ["records", "status", "resource", "referer", "tlsVerdict", "engineHost"];
  let refused = 0;

  let reportTimer = 0;
  let last = "";
  const refuse = (why) => {
    // The page's console says what was refused and why; the background (and
    // so the panel) hears how many, at most twice a second.
    if (refused++ < 20) console.warn("[mpnet] refused a message from the page: " + why);
    last = why;
    if (!reportTimer) {
      reportTimer = setTimeout(() => {
        reportTimer = 0;
        try { chrome.runtime.sendMessage({ type: "refused", count: refused, last }).catch(() => {}); } catch (e) { /* extension reloaded */ }
      }, 500);
    }
  };

  port.onmessage = (e) => {
    const c = check(FROM_PAGE, e.data);
    if (!c.ok) {
      refuse(c.error);
      if (e.data && typeof e.data.replyTo === "string") port.postMessage({ type: "reply", id: e.data.replyTo.slice(0, 64), value: null });
      return;
    }
    const m = c.value;
    if (m.type === "engine") {
      engine.send(m);
      return;
    }
    if (m.type === "moduleBytes") {
      sendModule();
      return;
    }
    if (m.type === "engineClose") {
      engine.reset();
      return;
    }
    if (!TO_BACKGROUND.includes(m.type)) return;
    // The runtime asks for a (new) module host: the next engine message
    // opens a port to it, not to the one that went silent.
    if (m.type === "engineHost") engine.reset();
    const replyTo = m.replyTo;
    delete m.replyTo;
    try {
      const p = chrome.runtime.sendMessage(m);
      if (replyTo) p.then((value) => port.postMessage({ type: "reply", id: replyTo, value }), () => port.postMessage({ type: "reply", id: replyTo, value: null }));
      else p.catch(() => {});
    } catch (err) {
      // The extension was reloaded: this page keeps its runtime until reload.
      if (replyTo) port.postMessage({ type: "reply", id: replyTo, value: null });
    }
  };

  chrome.runtime.onMessage.addListener((m, sender) => {
    // Only the extension itself (the background) talks to a content script
    // this way; checked anyway, like everything that reaches the page.
    if (sender.id !== ownId || sender.tab) return;
    const c = check(TO_PAGE, m);
    if (c.ok) port.postMessage(c.value);
  });

  // The extension-hosted module: one port to the offscreen document per
  // runtime, opened when the runtime asks for it. Bodies travel as base64
  // (extension messages are JSON).
  const engine = {
    port: null,
    send(m) {
      if (!this.port) this.open();
      const batch = m.batch.map((x) => ({ seq: x.seq, op: x.op, data: x.data instanceof Uint8Array ? { b64: toBase64(x.data) } : x.data }));
      try {
        this.port.postMessage({ batch });
      } catch (e) {
        this.lost("the extension-hosted module's port closed: " + (e && e.message || e));
      }
    },
    open() {
      const p = chrome.runtime.connect({ name: "mpnet-engine" });
      this.port = p;
      p.onMessage.addListener((m) => {
        if (!m || !Array.isArray(m.batch)) return;
        const batch = [];
        for (const a of m.batch) {
          if (!a || !Number.isInteger(a.seq)) continue;
          const answer = { seq: a.seq };
          if (a.error) answer.error = { code: String(a.error.code || "host").slice(0, 64), message: String(a.error.message || "").slice(0, 4096) };
          else if (a.data && typeof a.data.b64 === "string") answer.data = fromBase64(a.data.b64);
          else if (typeof a.data === "string") answer.data = a.data;
          else answer.error = { code: "host", message: "the extension-hosted module answered nothing" };
          batch.push(answer);
        }
        port.postMessage({ type: "engineAnswer", batch });
      });
      p.onDisconnect.addListener(() => {
        void chrome.runtime.lastError;
        if (this.port === p) this.lost("the extension-hosted module went away");
      });
    },
    lost(why) {
      this.port = null;
      port.postMessage({ type: "engineLost", error: why });
    },
    reset() {
      const p = this.port;
      this.port = null;
      if (p) p.disconnect();
    },
  };

  // The module's bytes for the page to compile: fetched from the extension
  // (a web-accessible resource behind a per-session URL) when the runtime
  // asks, read off the page's main thread, and handed over without a copy.
  let moduleSent = false;
  const sendModule = () => {
    if (moduleSent) return;
    moduleSent = true;
    fetch(chrome.runtime.getURL("mpnet.wasm")).then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.arrayBuffer();
    }).then((bytes) => port.postMessage({ type: "module", bytes }, [bytes]), (e) => {
      const error = String(e && e.message || e);
      console.warn("[mpnet] could not read the module's bytes; it keeps running in the extension: " + error);
      port.postMessage({ type: "module", bytes: null, error });
    });
  };

  window.postMessage({ __mpnet: "init" }, "*", [channel.port2]);
  const asked = performance.now(); // for the runtime's timeline
  const hello = (h) => {
    // The runtime starts on the module host (the extension's module), which
    // the background made sure of before it answered: the port is opened
    // now, before the runtime's first message for it.
    if (h.host && !engine.port) engine.open();
    port.postMessage({ type: "hello", files: h.files || [], tab: h.tab || {}, referer: h.referer || "", r12: !!h.r12, asked, answer: typeof h.answer === "string" ? h.answer : "" });
  };
  try {
    chrome.runtime.sendMessage({ type: "hello", url: location.href }).then((h) => hello(h || {}), () => hello({}));
  } catch (e) {
    hello({}); // the runtime reports "checks are off": no configuration
  }
})();
