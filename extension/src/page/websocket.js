// WebSocket interception. The constructor returns at once (readyState
// CONNECTING); the native socket is created only when the module starts the
// call. A socket the module refuses at once (not in the socket list, the 6th
// socket) makes the constructor throw the client's errMsg, as
// wx.connectSocket fails at once through its fail callback: Taro's and
// uni-app's connectSocket turn that exception into a rejection or a fail
// callback, where an "error" event after "connectSocket:ok" would reach
// neither (docs/RATIONALE.md). A socket refused later (its connect timeout,
// or one made while the module was still loading) behaves like a refused
// connection: "error", then "close" with code 1006.

export function installWebSocket(rt, native, CallError) {
  const NativeWS = native.WebSocket;
  const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;

  function MpnetWebSocket(url, protocols) {
    if (!new.target) throw new TypeError("Failed to construct 'WebSocket': Please use the 'new' operator");
    // Validate like the browser (throws SyntaxError for bad URLs and schemes).
    let u;
    try {
      u = new URL(String(url), native.baseURI());
    } catch (e) {
      throw new DOMException(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`, "SyntaxError");
    }
    if (u.protocol === "http:") u.protocol = "ws:";
    if (u.protocol === "https:") u.protocol = "wss:";
    if (u.protocol !== "ws:" && u.protocol !== "wss:") {
      throw new DOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${u.protocol}' is not allowed.`, "SyntaxError");
    }
    if (u.hash) throw new DOMException(`Failed to construct 'WebSocket': The URL contains a fragment identifier ('${u.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`, "SyntaxError");
    this._et = new EventTarget();
    this._url = u.href;
    this._protocols = protocols;
    this._state = CONNECTING;
    this._binaryType = "blob";
    this._ws = null;
    this._call = null;
    this._closedEarly = null;
    // Own data properties: the native prototype's accessors would throw
    // "Illegal invocation" on this object.
    for (const t of ["open", "message", "error", "close"]) Object.defineProperty(this, "on" + t, { value: null, writable: true, enumerable: true });
    let constructing = true;
    let refusedNow = null;
    const list = protocols === undefined ? undefined : [].concat(protocols).map(String);
    rt.open({ api: "connectSocket", url: this._url, transport: "websocket", protocols: list }, (a, call) => {
      this._call = call;
      if (a.type === "start") {
        if (this._closedEarly) {
          rt.finish(call);
          return;
        }
        connect(this, a);
      } else if (a.type === "block" || a.type === "fail") {
        this._errMsg = a.errMsg;
        if (constructing) {
          refusedNow = a;
          return;
        }
        if (this._ws) { const w = this._ws; this._ws = null; try { w.close(); } catch (e) { /* closing */ } }
        refuse(this);
      }
    }).catch((e) => {
      console.error("[mpnet] " + (e && e.message || e));
      this._errMsg = "connectSocket:fail " + (e && e.message || e);
      refuse(this);
    });
    constructing = false;
    if (refusedNow) {
      this._state = CLOSED;
      throw new CallError(refusedNow.errMsg, refusedNow);
    }
  }
  Object.setPrototypeOf(MpnetWebSocket.prototype, NativeWS.prototype);
  Object.setPrototypeOf(MpnetWebSocket, NativeWS);
  const P = MpnetWebSocket.prototype;

  P.addEventListener = function (...a) { this._et.addEventListener(...a); };
  P.removeEventListener = function (...a) { this._et.removeEventListener(...a); };
  P.dispatchEvent = function (e) { return this._et.dispatchEvent(e); };

  function fire(self, ev) {
    Object.defineProperty(ev, "target", { value: self });
    Object.defineProperty(ev, "currentTarget", { value: self });
    const h = self["on" + ev.type];
    self.dispatchEvent(ev);
    if (typeof h === "function") h.call(self, ev);
  }

  function connect(self) {
    let ws;
    try {
      ws = self._protocols === undefined ? new NativeWS(self._url) : new NativeWS(self._url, self._protocols);
    } catch (e) {
      rt.finish(self._call);
      refuse(self);
      return;
    }
    self._ws = ws;
    ws.binaryType = self._binaryType;
    ws.addEventListener("open", () => {
      if (self._ws !== ws) return;
      self._state = OPEN;
      rt.connected(self._call);
      self._call.record.status = 101;
      fire(self, new Event("open"));
    });
    ws.addEventListener("message", (e) => {
      if (self._ws !== ws) return;
      fire(self, new MessageEvent("message", { data: e.data, origin: e.origin, lastEventId: e.lastEventId }));
    });
    ws.addEventListener("error", () => { if (self._ws === ws) fire(self, new Event("error")); });
    ws.addEventListener("close", (e) => {
      if (self._ws !== ws) return;
      self._state = CLOSED;
      rt.finish(self._call, { status: self._call.record.status });
      fire(self, new CloseEvent("close", { code: e.code, reason: e.reason, wasClean: e.wasClean }));
    });
  }

  function refuse(self) {
    if (self._state === CLOSED) return;
    self._state = CLOSED;
    // Events fire asynchronously, as for a connection that failed.
    native.setTimeout(() => {
      fire(self, new Event("error"));
      fire(self, new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
    }, 0);
  }

  P.send = function (data) {
    if (this._state === CONNECTING) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
    if (this._ws && this._state === OPEN) this._ws.send(data);
  };

  P.close = function (code, reason) {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new DOMException(`Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, "InvalidAccessError");
    }
    if (reason !== undefined && new TextEncoder().encode(String(reason)).length > 123) {
      throw new DOMException("Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.", "SyntaxError");
    }
    if (this._state === CLOSING || this._state === CLOSED) return;
    if (this._ws) {
      this._state = CLOSING;
      this._ws.close(code, reason);
      return;
    }
    // Closed before the connection was made: fail it, as the spec does.
    this._closedEarly = true;
    refuse(this);
  };

  Object.defineProperties(P, {
    url: { get() { return this._url; } },
    readyState: { get() { return this._state; } },
    bufferedAmount: { get() { return this._ws ? this._ws.bufferedAmount : 0; } },
    protocol: { get() { return this._ws ? this._ws.protocol : ""; } },
    extensions: { get() { return this._ws ? this._ws.extensions : ""; } },
    binaryType: {
      get() { return this._binaryType; },
      set(v) {
        if (v !== "blob" && v !== "arraybuffer") return;
        this._binaryType = v;
        if (this._ws) this._ws.binaryType = v;
      },
    },
    // The client's errMsg when the socket was refused (mpnet extension).
    mpnetErrMsg: { get() { return this._errMsg || ""; } },
  });
  for (const [k, v] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
    Object.defineProperty(MpnetWebSocket, k, { value: v });
    Object.defineProperty(P, k, { value: v });
  }
  Object.defineProperty(MpnetWebSocket, "name", { value: "WebSocket" });
  globalThis.WebSocket = MpnetWebSocket;
}
