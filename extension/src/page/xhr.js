// XMLHttpRequest interception. The page gets an object that behaves like an
// XMLHttpRequest (instanceof, constants, properties, events with the
// wrapper as target, upload events) and drives a native one only once the
// module has started the call. A blocked or failed call ends like a network
// error: readyState 4, status 0, "error" then "loadend" (or "timeout" for
// the client's timeout, which keeps errMsg in mpnetErrMsg).

import { bodyKind, namedAPI, reasonOf, isNetworkURL } from "./facts.js";

const EVENTS = ["readystatechange", "loadstart", "progress", "abort", "error", "load", "timeout", "loadend"];

export function installXHR(rt, native, CallError) {
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
    this._api = ""; // mpnetApi: the API the app's own wrapper names
    this._raw = false; // not a network call (blob:, data:) or dev-server tooling: the native XHR as is
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

  // fire dispatches a fresh event whose target is the wrapper, and calls
  // on<type>; extra holds properties for the event (a refusal's errMsg).
  function fire(target, type, init, Ctor = ProgressEvent, extra = null) {
    const ev = new Ctor(type, init);
    if (extra) for (const k in extra) Object.defineProperty(ev, k, { value: extra[k], enumerable: true });
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
    this._call = null;
    this._raw = false;
    this._state = 1;
    fire(this, "readystatechange", {}, Event);
  };

  P.setRequestHeader = function (name, value) {
    if (this._state !== 1) throw new DOMException("Failed to execute 'setRequestHeader' on 'XMLHttpRequest': The object's state must be OPENED.", "InvalidStateError");
    this._headers.push([String(name), String(value)]);
  };

  // header returns the value the code set for a header ("" when none).
  function header(self, name) {
    const vals = self._headers.filter((h) => h[0].toLowerCase() === name).map((h) => h[1]);
    return vals.join(", ");
  }

  P.send = function (body = null) {
    if (this._state !== 1) throw new DOMException("Failed to execute 'send' on 'XMLHttpRequest': The object's state must be OPENED.", "InvalidStateError");
    // blob:, data: and the like are the page's own reads (Taro.uploadFile
    // reads the chosen file back from its blob: URL), not network calls.
    if (!isNetworkURL(this._url)) {
      this._raw = true;
      if (this._async) fire(this, "loadstart", { loaded: 0, total: 0 });
      return startNative(this, body);
    }
    const names = this._headers.map((h) => h[0]);
    if (!this._async) return sendSync(this, body, names);
    fire(this, "loadstart", { loaded: 0, total: 0 });
    const facts = {
      api: this._api, url: this._url, method: this._method, timeout: this._timeout, headers: names, transport: "xhr",
      accept: header(this, "accept"), contentType: header(this, "content-type"), body: bodyKind(body), responseType: this._responseType,
    };
    rt.open(facts, (a, call) => {
      this._call = call;
      if (this._aborted) return;
      switch (a.type) {
        case "start":
          this._raw = !!a.pass;
          startNative(this, body);
          break;
        case "block":
        case "fail":
          this._failed = a;
          if (this._xhr) { const x = this._xhr; this._xhr = null; x.abort(); }
          networkError(this, a.errMsg && /:fail timeout$/.test(a.errMsg) ? "timeout" : "error", a);
          break;
      }
    }).catch((e) => {
      // The module refused the message (e.g. an unknown mpnetApi): a clear error, and a network error for the call.
      console.error("[mpnet] " + (e && e.message || e));
      networkError(this, "error", { errMsg: "request:fail " + (e && e.message || e) });
    });
  };

  function sendSync(self, body, names) {
    // Synchronous XHR cannot wait for the engine: it is judged (and blocked
    // in enforce mode) but not pooled, and reported. One made while the
    // module is still loading cannot wait for it either: it fails, with a
    // record, rather than go out unchecked.
    const rec = {
      id: `sync-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, api: self._api || "request", method: self._method, url: self._url,
      frame: rt.frame, startedAt: Date.now(), state: "done", verdict: "ok", rule: "sync", errMsg: "", proceeded: false,
      queuedMs: 0, durationMs: 0, status: 0, mode: rt.mode, transport: "xhr", tooling: false, findings: [],
    };
    const refuse = (errMsg) => {
      self._failed = { errMsg, rule: rec.rule };
      self._state = 4;
      throw new DOMException(`Failed to execute 'send' on 'XMLHttpRequest': ${errMsg}`, "NetworkError");
    };
    const loading = rt.state === "loading";
    if (loading || (rt.state === "ready" && rt.active() && rt.localPending())) {
      // (While the in-page module is on its way, the engine runs in the
      // extension, which answers only asynchronously.)
      const what = loading ? "mpnet's checks were still loading" : "mpnet's in-page module was still on its way (until then its checks run in the extension, which cannot answer a synchronous call)";
      Object.assign(rec, { state: "failed", verdict: "fail", errMsg: `${rec.api}:fail mpnet is still loading` });
      rec.findings.push({ rule: "sync", severity: "error", message: `[sync] a synchronous XMLHttpRequest was made ${Math.round(rt.now() - rt.timings.documentStart)} ms after document start, while ${what}: it cannot wait for them, so it failed rather than go out unchecked`, fix: "use an asynchronous call (wx.request is always asynchronous), or make it after the page has loaded" });
      rt.emit(rec);
      refuse(rec.errMsg);
    }
    if (rt.state === "ready" && rt.active()) {
      const d = rt.checkSync({ api: rec.api, url: self._url, headers: names });
      Object.assign(rec, { verdict: d.allowed ? "warn" : "fail", rule: d.rule || "sync", errMsg: d.errMsg, proceeded: d.proceed });
      rec.findings.push({ rule: d.rule || "", severity: d.allowed ? "warning" : "error", message: (d.message ? d.message + " " : "") + "[sync] synchronous XMLHttpRequest: the client has no synchronous request; mpnet judged it without queueing or timeouts", fix: "use an asynchronous call (wx.request is always asynchronous)" });
      rt.emit(rec);
      if (!d.allowed && !d.proceed) refuse(d.errMsg);
    } else {
      // Checks are off (the module failed to load, or the popup turned them off): say so.
      rec.state = "done";
      if (rt.state === "failed") rec.findings.push({ rule: "", severity: "error", message: "checks are OFF: " + rt.error });
      rt.emit(rec);
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
    x.open(self._method, self._url, self._async, self._user, self._password);
    for (const [k, v] of self._headers) {
      try { x.setRequestHeader(k, v); } catch (e) { /* forbidden header: the browser drops it, like the client */ }
    }
    x.withCredentials = self._withCredentials;
    if (self._mime) x.overrideMimeType(self._mime);
    // Text responses are read as bytes so R10 can rewrite them (not for
    // the page's own reads and dev-server tooling, which run as they are).
    self._textual = !self._raw && (self._responseType === "" || self._responseType === "text" || self._responseType === "json");
    if (self._async) x.responseType = self._textual ? "arraybuffer" : self._responseType;
    if (self._timeout && self._raw && self._async) x.timeout = self._timeout;
    let sawHeaders = false;
    x.onreadystatechange = () => {
      if (self._xhr !== x) return;
      if (x.readyState >= 2 && !sawHeaders && self._call) {
        sawHeaders = true;
        // R14: the browser followed the redirects; the URL the call ended
        // at is judged before the app sees the response.
        if (x.responseURL && redirected(self._url, x.responseURL)) {
          rt.redirect(self._call, x.responseURL);
          if (self._xhr !== x) return; // refused: the call failed
        }
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
        if (self._call) rt.finish(self._call, { status: x.status });
        fire(self, "loadend", { loaded: e.loaded, total: e.total, lengthComputable: e.lengthComputable });
      });
    });
    x.addEventListener("error", () => { if (self._xhr === x) fire(self, "error", {}); });
    x.addEventListener("abort", () => { if (self._xhr === x) fire(self, "abort", {}); });
    x.addEventListener("timeout", () => { if (self._xhr === x) fire(self, "timeout", {}); });
    for (const t of ["loadstart", "progress", "abort", "error", "load", "timeout", "loadend"]) {
      x.upload.addEventListener(t, (e) => fire(self.upload, t, { loaded: e.loaded, total: e.total, lengthComputable: e.lengthComputable }));
    }
    x.send(body);
  }

  // redirected reports whether an XHR ended at another URL than it asked
  // for (responseURL has no fragment and no credentials).
  function redirected(asked, got) {
    if (got === asked.split("#")[0]) return false;
    try {
      const u = new URL(asked);
      u.hash = "";
      u.username = "";
      u.password = "";
      return u.href !== got;
    } catch (e) {
      return true;
    }
  }

  function decode(self, x) {
    const bytes = new Uint8Array(x.response || new ArrayBuffer(0));
    const ct = x.getResponseHeader("content-type") || "";
    const done = ({ bytes: out }) => { self._bodyText = new TextDecoder("utf-8").decode(out); };
    const r = rt.body(self._call, self._call.record.api, ct, bytes);
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

  // networkError ends a refused or failed call like a network error. The
  // error event carries the client's errMsg (errMsg) and the part after
  // "<api>:fail " (message), which Taro's uploadFile and downloadFile and
  // axios put in their own errors; frameworks that drop it read
  // rt.failing while these events are dispatched (frameworks.js).
  function networkError(self, kind, a) {
    self._state = 4;
    self._status = 0;
    const extra = a && a.errMsg ? { errMsg: a.errMsg, message: reasonOf(a.errMsg) } : null;
    const was = rt.failing;
    rt.failing = extra && { errMsg: a.errMsg, api: self._call ? self._call.record.api : "request" };
    try {
      fire(self, "readystatechange", {}, Event);
      fire(self, kind, {}, ProgressEvent, extra);
      fire(self, "loadend", {});
    } finally {
      rt.failing = was;
    }
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
    // The API an app's own wrapper names for this call: "request",
    // "uploadFile" or "downloadFile" (mpnet extension; nothing is sent).
    mpnetApi: {
      get() { return this._api; },
      set(v) { this._api = namedAPI(v, "xhr.mpnetApi"); },
    },
  };
  Object.defineProperties(P, props);
  for (const [k, v] of Object.entries({ UNSENT: 0, OPENED: 1, HEADERS_RECEIVED: 2, LOADING: 3, DONE: 4 })) {
    Object.defineProperty(MpnetXHR, k, { value: v });
  }
  Object.defineProperty(MpnetXHR, "name", { value: "XMLHttpRequest" });
  globalThis.XMLHttpRequest = MpnetXHR;
}
