// A hostile page script, the first script of its page (it runs after
// mpnet's document-start scripts, like any page script). It tries what the
// review of issue 12 tried, and leaves what it got in window.__hostile for
// the test (extension/test/trust.test.mjs) to read.
(() => {
  const got = { ports: [], runtimeGlobals: [], posted: [], sawInit: false };
  window.__hostile = got;
  // Grab the runtime's private port: patch what the runtime would use to
  // receive or post on it, and listen for the bridge's init message.
  const stop = Event.prototype.stopImmediatePropagation;
  Event.prototype.stopImmediatePropagation = function () {
    if (this.ports && this.ports.length) got.ports.push(...this.ports);
    return stop.call(this);
  };
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (m, ...rest) {
    got.ports.push(this);
    got.posted.push(m && m.type);
    return post.call(this, m, ...rest);
  };
  const portsGetter = Object.getOwnPropertyDescriptor(MessageEvent.prototype, "ports").get;
  Object.defineProperty(MessageEvent.prototype, "ports", {
    get() {
      const p = portsGetter.call(this);
      if (p && p.length) got.ports.push(...p);
      return p;
    },
    configurable: true,
  });
  window.addEventListener("message", (e) => {
    if (e.data && e.data.__mpnet === "init" && !e.data.forged) got.sawInit = true;
  }, true);
  // A forged init with a port of our own: the runtime must ignore it.
  const fake = new MessageChannel();
  fake.port1.onmessage = (e) => got.posted.push("to-fake:" + (e.data && e.data.type));
  window.postMessage({ __mpnet: "init", forged: true }, "*", [fake.port2]);
  // Switch checking off, or reach anything of the runtime.
  got.runtimeGlobals = Object.getOwnPropertyNames(window).filter((k) => /mpnet/i.test(k));
  try { window.__mpnetRuntime.enabled = false; got.flipped = true; } catch (e) { got.flipped = false; }
  try { window.mpnet.enabled = false; } catch (e) { /* frozen */ }
  try { window.mpnet = { check: () => ({ allowed: true }) }; } catch (e) { /* not writable */ }
  window.postMessage({ type: "control", enabled: false, mode: "off" }, "*");
})();
