// XMLHttpRequest interception. The page gets an object that behaves like an
// XMLHttpRequest (instanceof, constants, properties, events with the
// wrapper as target, upload events) and drives a native one only once the
// module has started the call. A blocked or failed call ends like a network
// error: readyState 4, status 0, "error" then "loadend" (or "timeout" for
// the client's timeout, which keeps errMsg in mpnetErrMsg).

const EVENTS = ["readystatechange", "loadstart", "progress", "abort", "error", "load", "timeout", "loadend"];

export function installXHR(rt, native) {
  const NativeXHR = native.XMLHttpRequest;

  class UploadTarget {
    constructor() { this._et = new EventTarget(); for (const t of EVENTS) if (t !== "readystatechange") this["on" + t] = null; }
    addEventListener(...a) { this._et.addEventListener(...a); }
    removeEventListener(...a) { this._et.removeEventListener(...a); }
    dispatchEvent(e) { return this._et.dispatchEvent(e); }
  }

  function MpnetXHR() {
    if (!new.target) throw new TypeError("Failed to construct 'XMLHttpRequest': Please use the 'new' operator");
    this._et = new EventTarget();
    this._xhr = null;
    this._method = "GET";
    this._url = "";
    this._async = true;
    this._headers = [];
    this._state = 0; // our readyState while the native one is not in charge
    this._status = 0;
    this._responseType = "";
    this._timeout = 0;
    this._withCredentials = false;
    this._mime = null;
    this._call = null;
    this._failed = null;
    this._response = undefined;
    this._bodyText = null;
    this._aborted = false;
    // Own data properties: the native prototype's accessors would throw
    // "Illegal invocation" on this object.
    Object.defineProperty(this, "upload", { value: new UploadTarget(), enumerable: true });
    for (const t of EVENTS) Object.defineProperty(this, "on" + t, { value: null, writable: true, enumerable: true });
  }
  Object.setPrototypeOf(MpnetXHR.prototype, NativeXHR.prototype);
  Object.setPrototypeOf(MpnetXHR, NativeXHR);
  const P = MpnetXHR.prototype;

  P.addEventListener = function (...a) { this._et.addEventListener(...a); };
  P.removeEventListener = function (...a) { this._et.removeEventListener(...a); };
  P.dispatchEvent = function (e) { return this._et.dispatchEvent(e); };

  // fire dispatches a fresh event whose target is the wrapper, and calls on<type>.
  function fire(target, type, init, Ctor = ProgressEvent) {
    const ev = new Ctor(type, init);
    Object.defineProperty(ev, "target", { value: target });
    Object.defineProperty(ev, "currentTarget", { value: target });
    const h = target["on" + type];
    target.dispatchEvent(ev);
    if (typeof h === "function") h.call(target, ev);
  }

  P.open = function (method, url, async = true, user, password) {
    const abs = new URL(String(url), native.baseURI()).href; // throws SyntaxError like the native one
    this._method = String(method).toUpperCase();
    this._url = abs;
    this._async = async !== false;
    this._user = user;
    this._password = password;
    this._headers = [];
    this._failed = null;
    this._aborted = false;
    this._response = undefined;
    this._bodyText = null;
    this._decoding = null;
    this._xhr = null;
    this._state = 1;
    fire(this, "readystatechange", {}, Event);
  };

  P.setRequestHeader = function (name, value) {
    if (this._state !== 1) throw new DOMException("Failed to execute 'setRequestHeader' on 'XMLHttpRequest': The object's state must be OPENED.", "InvalidStateError");
    this._headers.push([String(name), String(value)]);
  };

  P.send = function (body = null) {
    if (this._state !== 1) throw new DOMException("Failed to execute 'send' on 'XMLHttpRequest': The object's state must be OPENED.", "InvalidStateError");
    const names = this._headers.map((h) => h[0]);
    if (!this._async) return sendSync(this, body, names);
    fire(this, "loadstart", { loaded: 0, total: 0 });
    rt.open("request", this._url, { method: this._method, timeout: this._timeout, headers: names }, (a, call) => {
      this._call = call;
      if (this._aborted) return;
      switch (a.type) {
        case "start":
          startNative(this, body);
          break;
        case "block":
        case "fail":
          this._failed = a;
          if (this._xhr) { const x = this._xhr; this._xhr = null; x.abort(); }
          networkError(this, a.errMsg && /:fail timeout$/.test(a.errMsg) ? "timeout" : "error");
          break;
      }
    });
  };

  function sendSync(self, body, names) {
    // Synchronous XHR cannot wait for the engine: it is judged (and blocked
    // in enforce mode) but not pooled, and reported.
    if (rt.state === "ready" && rt.active()) {
      const d = rt.checkSync({ api: "request", url: self._url, headers: names });
      const rec = {
        id: `sync-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, api: "request", method: self._method, url: self._url,
        frame: rt.frame, startedAt: Date.now(), state: "done", verdict: d.allowed ? "warn" : "fail", rule: d.rule || "sync",
        errMsg: d.errMsg, proceeded: d.proceed, queuedMs: 0, durationMs: 0, status: 0, mode: rt.mode,
        findings: [{ rule: d.rule || "", severity: d.allowed ? "warning" : "error", message: (d.message ? d.message + " " : "") + "[sync] synchronous XMLHttpRequest: the client has no synchronous request; mpnet judged it without queueing or timeouts", fix: "use an asynchronous call (wx.request is always asynchronous)" }],
      };
      rt.emit(rec);
      if (!d.allowed && !d.proceed) {
        self._failed = { errMsg: d.errMsg, rule: d.rule };
        self._state = 4;
        throw new DOMException(`Failed to execute 'send' on 'XMLHttpRequest': ${d.errMsg}`, "NetworkError");
      }
    }
    const x = new NativeXHR();
    self._xhr = x;
    x.open(self._method, self._url, false, self._user, self._password);
    for (const [k, v] of self._headers) x.setRequestHeader(k, v);
    x.send(body);
  }

  function startNative(self, body) {
    const x = new NativeXHR();
    self._xhr = x;
    x.open(self._method, self._url, true, self._user, self._password);
    for (const [k, v] of self._headers) {
      try { x.setRequestHeader(k, v); } catch (e) { /* forbidden header: the browser drops it, like the client */ }
    }
    x.withCredentials = self._withCredentials;
    if (self._mime) x.overrideMimeType(self._mime);
    // Text responses are read as bytes so R10 can rewrite them.
    self._textual = self._responseType === "" || self._responseType === "text" || self._responseType === "json";
    x.responseType = self._textual ? "arraybuffer" : self._responseType;
    let sawHeaders = false;
    x.onreadystatechange = () => {
      if (self._xhr !== x) return;
      if (x.readyState >= 2 && !sawHeaders) {
        sawHeaders = true;
        rt.response(self._call, x.status);
      }
      if (x.readyState === 4 && x.status !== 0 && self._textual) decode(self, x);
      if (x.readyState === 4) self._state = 4;
      afterBody(self, () => fire(self, "readystatechange", {}, Event));
    };
    for (const t of ["progress", "load"]) {
      x.addEventListener(t, (e) => { if (self._xhr === x) afterBody(self, () => fire(self, t, { loaded: e.loaded, total: e.total, lengthComputable: e.lengthComputable })); });
    }
    x.addEventListener("loadend", (e) => {
      if (self._xhr !== x) return;
      afterBody(self, () => {
        rt.finish(self._call, { status: x.status });
        fire(self, "loadend", { loaded: e.loaded, total: e.total, lengthComputable: e.lengthComputable });
      });
    });
    x.addEventListener("error", () => { if (self._xhr === x) fire(self, "error", {}); });
    x.addEventListener("abort", () => { if (self._xhr === x) fire(self, "abort", {}); });
    for (const t of ["loadstart", "progress", "abort", "error", "load", "timeout", "loadend"]) {
      x.upload.addEventListener(t, (e) => fire(self.upload, t, { loaded: e.loaded, total: e.total, lengthComputable: e.lengthComputable }));
    }
    x.send(body);
  }

  function decode(self, x) {
    const bytes = new Uint8Array(x.response || new ArrayBuffer(0));
    const ct = x.getResponseHeader("content-type") || "";
    const done = ({ bytes: out }) => { self._bodyText = new TextDecoder("utf-8").decode(out); };
    const r = rt.body(self._call, "request", ct, bytes);
    // With the module in the extension (strict CSP) the answer comes later:
    // the last events wait for it (afterBody).
    if (r && typeof r.then === "function") self._decoding = r.then(done);
    else done(r);
  }

  // afterBody runs fn once the response body has been through R10.
  function afterBody(self, fn) {
    if (self._decoding) self._decoding.then(fn);
    else fn();
  }

  function networkError(self, kind) {
    self._state = 4;
    self._status = 0;
    fire(self, "readystatechange", {}, Event);
    fire(self, kind, {});
    fire(self, "loadend", {});
  }

  P.abort = function () {
    this._aborted = true;
    if (this._call) {
      rt.abort(this._call);
      rt.finish(this._call, { status: 0 });
    }
    if (this._xhr) { const x = this._xhr; this._xhr = null; x.abort(); }
    if (this._state === 1 || this._state === 2 || this._state === 3) {
      this._state = 4;
      fire(this, "readystatechange", {}, Event);
      fire(this, "abort", {});
      fire(this, "loadend", {});
    }
    this._state = 0;
  };

  P.getResponseHeader = function (name) { return this._xhr && !this._failed ? this._xhr.getResponseHeader(name) : null; };
  P.getAllResponseHeaders = function () { return this._xhr && !this._failed ? this._xhr.getAllResponseHeaders() : ""; };
  P.overrideMimeType = function (m) { this._mime = m; };

  const props = {
    readyState: { get() { return this._xhr && !this._failed ? this._xhr.readyState : this._state; } },
    status: { get() { return this._xhr && !this._failed ? this._xhr.status : 0; } },
    statusText: { get() { return this._xhr && !this._failed ? this._xhr.statusText : ""; } },
    responseURL: { get() { return this._xhr && !this._failed ? this._xhr.responseURL : ""; } },
    responseType: {
      get() { return this._responseType; },
      set(v) { this._responseType = String(v); },
    },
    responseText: {
      get() {
        if (this._responseType !== "" && this._responseType !== "text") {
          throw new DOMException("Failed to read the 'responseText' property from 'XMLHttpRequest': The value is only accessible if the object's 'responseType' is '' or 'text'.", "InvalidStateError");
        }
        if (this._bodyText !== null) return this._bodyText;
        if (this._xhr && !this._failed && !this._textual) return this._xhr.responseText;
        return "";
      },
    },
    response: {
      get() {
        if (!this._xhr || this._failed) return this._responseType === "" || this._responseType === "text" ? "" : null;
        if (!this._textual) return this._xhr.response;
        if (this._bodyText === null) return this._responseType === "json" ? null : "";
        if (this._responseType === "json") {
          try { return JSON.parse(this._bodyText); } catch (e) { return null; }
        }
        return this._bodyText;
      },
    },
    responseXML: { get() { return this._xhr && !this._failed && !this._textual ? this._xhr.responseXML : null; } },
    timeout: {
      get() { return this._timeout; },
      set(v) { this._timeout = Number(v) || 0; },
    },
    withCredentials: {
      get() { return this._withCredentials; },
      set(v) { this._withCredentials = !!v; },
    },
    // The client's errMsg when the call was blocked or failed (mpnet extension).
    mpnetErrMsg: { get() { return this._failed ? this._failed.errMsg : ""; } },
  };
  Object.defineProperties(P, props);
  for (const [k, v] of Object.entries({ UNSENT: 0, OPENED: 1, HEADERS_RECEIVED: 2, LOADING: 3, DONE: 4 })) {
    Object.defineProperty(MpnetXHR, k, { value: v });
  }
  Object.defineProperty(MpnetXHR, "name", { value: "XMLHttpRequest" });
  globalThis.XMLHttpRequest = MpnetXHR;
}
