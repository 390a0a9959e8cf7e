// XMLHttpRequest interception. The page gets an object that behaves like an
// XMLHttpRequest (instanceof, constants, properties, events with the
// wrapper as target, upload events) and drives a native one only once the
// module has started the call. A blocked or failed call ends like a network
// error: readyState 4, status 0, "error" then "loadend" (or "timeout" for
// the client's timeout, which keeps errMsg in mpnetErrMsg).

import { bodyKind, namedAPI, reasonOf, isNetworkURL } from "./facts.js";
import {
  list, SafeWeakMap, PromisePrototypeThen, ArrayPrototypePush, ObjectDefineProperty, ObjectDefineProperties, ObjectSetPrototypeOf,
  SafeString, SafeNumber, FunctionPrototypeCall, RegExpTest, StringPrototypeToLowerCase, StringPrototypeToUpperCase,
  StringPrototypeIndexOf, StringPrototypeSlice, uncurryThis, JSONParse, DateNow, MathRandom, MathRound, NumberPrototypeToString,
  u8, SafeArrayBuffer, SafeTextDecoder, TextDecoderPrototypeDecode, ObjectGetOwnPropertyDescriptor,
} from "./intrinsics.js";

const EVENTS = list("readystatechange", "loadstart", "progress", "abort", "error", "load", "timeout", "loadend");
const UPLOAD_EVENTS = list("loadstart", "progress", "abort", "error", "load", "timeout", "loadend");
import { listen, unlisten, dispatch, SafeEventTarget, SafeEvent, SafeDOMException, stateTable } from "./wrappers.js";

const SafeProgressEvent = ProgressEvent;
const SafeURL = URL;
const URLHref = uncurryThis(ObjectGetOwnPropertyDescriptor(URL.prototype, "href").get);

export function installXHR(rt, native, CallError) {
  const NativeXHR = native.XMLHttpRequest;
  const N = NativeXHR.prototype;
  // (responseXML is not there in workers, whose client installs this too.)
  const xhrGet = (name) => {
    const d = ObjectGetOwnPropertyDescriptor(N, name);
    return d ? uncurryThis(d.get) : () => null;
  };
  const xhrSet = (name) => uncurryThis(ObjectGetOwnPropertyDescriptor(N, name).set);
  const XOpen = uncurryThis(N.open), XSend = uncurryThis(N.send), XAbort = uncurryThis(N.abort);
  const XSetRequestHeader = uncurryThis(N.setRequestHeader), XOverrideMimeType = uncurryThis(N.overrideMimeType);
  const XGetResponseHeader = uncurryThis(N.getResponseHeader), XGetAllResponseHeaders = uncurryThis(N.getAllResponseHeaders);
  const XReadyState = xhrGet("readyState"), XStatus = xhrGet("status"), XStatusText = xhrGet("statusText");
  const XResponseURL = xhrGet("responseURL"), XResponse = xhrGet("response"), XResponseText = xhrGet("responseText");
  const XResponseXML = xhrGet("responseXML"), XUpload = xhrGet("upload");
  const XSetResponseType = xhrSet("responseType"), XSetTimeout = xhrSet("timeout"), XSetWithCredentials = xhrSet("withCredentials");
  const XSetOnReadyStateChange = xhrSet("onreadystatechange");
  const progressGet = (name) => uncurryThis(ObjectGetOwnPropertyDescriptor(ProgressEvent.prototype, name).get);
  const PLoaded = progressGet("loaded"), PTotal = progressGet("total"), PLengthComputable = progressGet("lengthComputable");
  const progress = (e) => ({ __proto__: null, loaded: PLoaded(e), total: PTotal(e), lengthComputable: PLengthComputable(e) });

  // The state of every wrapper (and upload target) lives here, not on the
  // object the page holds: a page reads or traps nothing of it (a call's
  // handle would let it start a call the engine queued).
  const { states, S } = stateTable();

  const UploadTarget = /* page-visible */ class UploadTarget {
    constructor() {
      states.set(this, { __proto__: null, et: new SafeEventTarget() });
      for (let i = 0; i < EVENTS.length; i++) if (EVENTS[i] !== "readystatechange") ObjectDefineProperty(this, "on" + EVENTS[i], { __proto__: null, value: null, writable: true, enumerable: true, configurable: true });
    }
    addEventListener(type, fn, opts) { listen(S(this).et, type, fn, opts); }
    removeEventListener(type, fn, opts) { unlisten(S(this).et, type, fn, opts); }
    dispatchEvent(e) { return dispatch(S(this).et, e); }
  };

  function MpnetXHR() {
    if (!new.target) throw new TypeError("Failed to construct 'XMLHttpRequest': Please use the 'new' operator");
    states.set(this, {
      __proto__: null,
      et: new SafeEventTarget(),
      xhr: null,
      method: "GET",
      url: "",
      async: true,
      headers: list(),
      state: 0, // our readyState while the native one is not in charge
      status: 0,
      responseType: "",
      timeout: 0,
      withCredentials: false,
      mime: null,
      call: null,
      failed: null,
      response: undefined,
      bodyText: null,
      aborted: false,
      api: "", // mpnetApi: the API the app's own wrapper names
      raw: false, // not a network call (blob:, data:) or dev-server tooling: the native XHR as is
    });
    // Own data properties: the native prototype's accessors would throw
    // "Illegal invocation" on this object.
    ObjectDefineProperty(this, "upload", { __proto__: null, value: new UploadTarget(), enumerable: true });
    for (let i = 0; i < EVENTS.length; i++) ObjectDefineProperty(this, "on" + EVENTS[i], { __proto__: null, value: null, writable: true, enumerable: true });
  }
  ObjectSetPrototypeOf(MpnetXHR.prototype, NativeXHR.prototype);
  ObjectSetPrototypeOf(MpnetXHR, NativeXHR);
  const P = MpnetXHR.prototype;

  P.addEventListener = function (type, fn, opts) { listen(S(this).et, type, fn, opts); };
  P.removeEventListener = function (type, fn, opts) { unlisten(S(this).et, type, fn, opts); };
  P.dispatchEvent = function (e) { return dispatch(S(this).et, e); };

  // fire dispatches a fresh event whose target is the wrapper, and calls
  // on<type>; extra holds properties for the event (a refusal's errMsg).
  function fire(target, type, init, Ctor = SafeProgressEvent, extra = null) {
    const ev = new Ctor(type, init);
    if (extra) {
      ObjectDefineProperty(ev, "errMsg", { __proto__: null, value: extra.errMsg, enumerable: true });
      ObjectDefineProperty(ev, "message", { __proto__: null, value: extra.message, enumerable: true });
    }
    ObjectDefineProperty(ev, "target", { __proto__: null, value: target });
    ObjectDefineProperty(ev, "currentTarget", { __proto__: null, value: target });
    const h = target["on" + type];
    dispatch(S(target).et, ev);
    if (typeof h === "function") FunctionPrototypeCall(h, target, ev);
  }

  P.open = function (method, url, async = true, user, password) {
    const abs = URLHref(new SafeURL(SafeString(url), native.baseURI())); // throws SyntaxError like the native one
    const s = S(this);
    s.method = StringPrototypeToUpperCase(SafeString(method));
    s.url = abs;
    s.async = async !== false;
    s.user = user;
    s.password = password;
    s.headers = list();
    s.failed = null;
    s.aborted = false;
    s.response = undefined;
    s.bodyText = null;
    s.decoding = null;
    s.xhr = null;
    s.call = null;
    s.raw = false;
    s.state = 1;
    fire(this, "readystatechange", { __proto__: null }, SafeEvent);
  };

  P.setRequestHeader = function (name, value) {
    if (S(this).state !== 1) throw new SafeDOMException("Failed to execute 'setRequestHeader' on 'XMLHttpRequest': The object's state must be OPENED.", "InvalidStateError");
    ArrayPrototypePush(S(this).headers, list(SafeString(name), SafeString(value)));
  };

  // header returns the value the code set for a header ("" when none).
  function header(self, name) {
    const hs = S(self).headers;
    let out = "";
    for (let i = 0; i < hs.length; i++) if (StringPrototypeToLowerCase(hs[i][0]) === name) out += (out ? ", " : "") + hs[i][1];
    return out;
  }

  // names lists the header names the code set.
  function names(self) {
    const hs = S(self).headers;
    const out = list();
    for (let i = 0; i < hs.length; i++) ArrayPrototypePush(out, hs[i][0]);
    return out;
  }

  P.send = function (body = null) {
    if (S(this).state !== 1) throw new SafeDOMException("Failed to execute 'send' on 'XMLHttpRequest': The object's state must be OPENED.", "InvalidStateError");
    // blob:, data: and the like are the page's own reads (Taro.uploadFile
    // reads the chosen file back from its blob: URL), not network calls.
    if (!isNetworkURL(S(this).url)) {
      S(this).raw = true;
      if (S(this).async) fire(this, "loadstart", { __proto__: null, loaded: 0, total: 0 });
      return startNative(this, body);
    }
    const headerNames = names(this);
    if (!S(this).async) return sendSync(this, body, headerNames);
    fire(this, "loadstart", { __proto__: null, loaded: 0, total: 0 });
    const facts = {
      __proto__: null, api: S(this).api, url: S(this).url, method: S(this).method, timeout: S(this).timeout, headers: headerNames, transport: "xhr",
      accept: header(this, "accept"), contentType: header(this, "content-type"), body: bodyKind(body), responseType: S(this).responseType,
    };
    PromisePrototypeThen(rt.open(facts, (a, call) => {
      S(this).call = call;
      if (S(this).aborted) return;
      switch (a.type) {
        case "start":
          S(this).raw = !!a.pass;
          startNative(this, body);
          break;
        case "block":
        case "fail":
          S(this).failed = a;
          if (S(this).xhr) { const x = S(this).xhr; S(this).xhr = null; XAbort(x); }
          networkError(this, a.errMsg && RegExpTest(/:fail timeout$/, a.errMsg) ? "timeout" : "error", a);
          break;
      }
    }), null, (e) => {
      // The module refused the message (e.g. an unknown mpnetApi): a clear error, and a network error for the call.
      console.error("[mpnet] " + (e && e.message || e));
      networkError(this, "error", { __proto__: null, errMsg: "request:fail " + (e && e.message || e) });
    });
  };

  function sendSync(self, body, headerNames) {
    // Synchronous XHR cannot wait for the engine: it is judged (and blocked
    // in enforce mode) but not pooled, and reported. One made while the
    // module is still loading cannot wait for it either: it fails, with a
    // record, rather than go out unchecked.
    const rec = {
      __proto__: null,
      id: `sync-${DateNow()}-${StringPrototypeSlice(NumberPrototypeToString(MathRandom(), 36), 2, 6)}`, api: S(self).api || "request", method: S(self).method, url: S(self).url,
      frame: rt.frame, startedAt: DateNow(), state: "done", verdict: "ok", rule: "sync", errMsg: "", proceeded: false,
      queuedMs: 0, durationMs: 0, status: 0, mode: rt.mode, transport: "xhr", tooling: false, findings: list(),
    };
    const refuse = (errMsg) => {
      S(self).failed = { __proto__: null, errMsg, rule: rec.rule };
      S(self).state = 4;
      throw new SafeDOMException(`Failed to execute 'send' on 'XMLHttpRequest': ${errMsg}`, "NetworkError");
    };
    const loading = rt.state === "loading";
    if (loading || (rt.state === "ready" && rt.active() && rt.localPending())) {
      // (While the in-page module is on its way, the engine runs in the
      // extension, which answers only asynchronously.)
      const what = loading ? "mpnet's checks were still loading" : "mpnet's in-page module was still on its way (until then its checks run in the extension, which cannot answer a synchronous call)";
      rec.state = "failed";
      rec.verdict = "fail";
      rec.errMsg = `${rec.api}:fail mpnet is still loading`;
      ArrayPrototypePush(rec.findings, { __proto__: null, rule: "sync", severity: "error", message: `[sync] a synchronous XMLHttpRequest was made ${MathRound(rt.now() - rt.timings.documentStart)} ms after document start, while ${what}: it cannot wait for them, so it failed rather than go out unchecked`, fix: "use an asynchronous call (wx.request is always asynchronous), or make it after the page has loaded" });
      rt.emit(rec);
      refuse(rec.errMsg);
    }
    if (rt.state === "ready" && rt.active()) {
      const d = rt.checkSync({ __proto__: null, api: rec.api, url: S(self).url, headers: headerNames });
      rec.verdict = d.allowed ? "warn" : "fail";
      rec.rule = d.rule || "sync";
      rec.errMsg = d.errMsg;
      rec.proceeded = d.proceed;
      ArrayPrototypePush(rec.findings, { __proto__: null, rule: d.rule || "", severity: d.allowed ? "warning" : "error", message: (d.message ? d.message + " " : "") + "[sync] synchronous XMLHttpRequest: the client has no synchronous request; mpnet judged it without queueing or timeouts", fix: "use an asynchronous call (wx.request is always asynchronous)" });
      rt.emit(rec);
      if (!d.allowed && !d.proceed) refuse(d.errMsg);
    } else {
      // Checks are off (the module failed to load, or the popup turned them off): say so.
      rec.state = "done";
      if (rt.state === "failed") ArrayPrototypePush(rec.findings, { __proto__: null, rule: "", severity: "error", message: "checks are OFF: " + rt.error });
      rt.emit(rec);
    }
    const x = new NativeXHR();
    S(self).xhr = x;
    XOpen(x, S(self).method, S(self).url, false, S(self).user, S(self).password);
    const hs = S(self).headers;
    for (let i = 0; i < hs.length; i++) XSetRequestHeader(x, hs[i][0], hs[i][1]);
    XSend(x, body);
  }

  function startNative(self, body) {
    const x = new NativeXHR();
    S(self).xhr = x;
    XOpen(x, S(self).method, S(self).url, S(self).async, S(self).user, S(self).password);
    const hs = S(self).headers;
    for (let i = 0; i < hs.length; i++) {
      try { XSetRequestHeader(x, hs[i][0], hs[i][1]); } catch (e) { /* forbidden header: the browser drops it, like the client */ }
    }
    XSetWithCredentials(x, S(self).withCredentials);
    if (S(self).mime) XOverrideMimeType(x, S(self).mime);
    // Text responses are read as bytes so R10 can rewrite them (not for
    // the page's own reads and dev-server tooling, which run as they are).
    S(self).textual = !S(self).raw && (S(self).responseType === "" || S(self).responseType === "text" || S(self).responseType === "json");
    if (S(self).async) XSetResponseType(x, S(self).textual ? "arraybuffer" : S(self).responseType);
    if (S(self).timeout && S(self).raw && S(self).async) XSetTimeout(x, S(self).timeout);
    let sawHeaders = false;
    XSetOnReadyStateChange(x, () => {
      if (S(self).xhr !== x) return;
      const state = XReadyState(x);
      if (state >= 2 && !sawHeaders && S(self).call) {
        sawHeaders = true;
        // R14: the browser followed the redirects; the URL the call ended
        // at is judged before the app sees the response.
        const final = XResponseURL(x);
        if (final && redirected(S(self).url, final)) {
          rt.redirect(S(self).call, final);
          if (S(self).xhr !== x) return; // refused: the call failed
        }
        rt.response(S(self).call, XStatus(x));
      }
      if (state === 4 && XStatus(x) !== 0 && S(self).textual) decode(self, x);
      if (state === 4) S(self).state = 4;
      afterBody(self, () => fire(self, "readystatechange", { __proto__: null }, SafeEvent));
    });
    listen(x, "progress", (e) => { if (S(self).xhr === x) afterBody(self, () => fire(self, "progress", progress(e))); });
    listen(x, "load", (e) => { if (S(self).xhr === x) afterBody(self, () => fire(self, "load", progress(e))); });
    listen(x, "loadend", (e) => {
      if (S(self).xhr !== x) return;
      afterBody(self, () => {
        if (S(self).call) rt.finish(S(self).call, { __proto__: null, status: XStatus(x) });
        fire(self, "loadend", progress(e));
      });
    });
    listen(x, "error", () => { if (S(self).xhr === x) fire(self, "error", { __proto__: null }); });
    listen(x, "abort", () => { if (S(self).xhr === x) fire(self, "abort", { __proto__: null }); });
    listen(x, "timeout", () => { if (S(self).xhr === x) fire(self, "timeout", { __proto__: null }); });
    const upload = XUpload(x);
    for (let i = 0; i < UPLOAD_EVENTS.length; i++) {
      const t = UPLOAD_EVENTS[i];
      listen(upload, t, (e) => fire(self.upload, t, progress(e)));
    }
    XSend(x, body);
  }

  // redirected reports whether an XHR ended at another URL than it asked
  // for (responseURL has no fragment and no credentials).
  function redirected(asked, got) {
    const hash = StringPrototypeIndexOf(asked, "#");
    if (got === (hash >= 0 ? StringPrototypeSlice(asked, 0, hash) : asked)) return false;
    try {
      const u = new SafeURL(asked);
      u.hash = "";
      u.username = "";
      u.password = "";
      return URLHref(u) !== got;
    } catch (e) {
      return true;
    }
  }

  function decode(self, x) {
    const bytes = u8(XResponse(x) || new SafeArrayBuffer(0));
    const ct = XGetResponseHeader(x, "content-type") || "";
    const done = ({ bytes: out }) => { S(self).bodyText = TextDecoderPrototypeDecode(new SafeTextDecoder("utf-8"), out); };
    const r = rt.body(S(self).call, S(self).call.record.api, ct, bytes);
    // With the module in the extension (strict CSP) the answer comes later:
    // the last events wait for it (afterBody).
    if (r && typeof r.then === "function") S(self).decoding = PromisePrototypeThen(r, done);
    else done(r);
  }

  // afterBody runs fn once the response body has been through R10.
  function afterBody(self, fn) {
    if (S(self).decoding) PromisePrototypeThen(S(self).decoding, fn);
    else fn();
  }

  // networkError ends a refused or failed call like a network error. The
  // error event carries the client's errMsg (errMsg) and the part after
  // "<api>:fail " (message), which Taro's uploadFile and downloadFile and
  // axios put in their own errors; frameworks that drop it read
  // rt.failing while these events are dispatched (frameworks.js).
  function networkError(self, kind, a) {
    S(self).state = 4;
    S(self).status = 0;
    const extra = a && a.errMsg ? { __proto__: null, errMsg: a.errMsg, message: reasonOf(a.errMsg) } : null;
    const was = rt.failing;
    rt.failing = extra && { __proto__: null, errMsg: a.errMsg, api: S(self).call ? S(self).call.record.api : "request" };
    try {
      fire(self, "readystatechange", { __proto__: null }, SafeEvent);
      fire(self, kind, { __proto__: null }, SafeProgressEvent, extra);
      fire(self, "loadend", { __proto__: null });
    } finally {
      rt.failing = was;
    }
  }

  P.abort = function () {
    S(this).aborted = true;
    if (S(this).call) {
      rt.abort(S(this).call);
      rt.finish(S(this).call, { __proto__: null, status: 0 });
    }
    if (S(this).xhr) { const x = S(this).xhr; S(this).xhr = null; XAbort(x); }
    if (S(this).state === 1 || S(this).state === 2 || S(this).state === 3) {
      S(this).state = 4;
      fire(this, "readystatechange", { __proto__: null }, SafeEvent);
      fire(this, "abort", { __proto__: null });
      fire(this, "loadend", { __proto__: null });
    }
    S(this).state = 0;
  };

  P.getResponseHeader = function (name) { return S(this).xhr && !S(this).failed ? XGetResponseHeader(S(this).xhr, name) : null; };
  P.getAllResponseHeaders = function () { return S(this).xhr && !S(this).failed ? XGetAllResponseHeaders(S(this).xhr) : ""; };
  P.overrideMimeType = function (m) { S(this).mime = m; };

  const props = {
    __proto__: null,
    readyState: { __proto__: null, get() { return S(this).xhr && !S(this).failed ? XReadyState(S(this).xhr) : S(this).state; } },
    status: { __proto__: null, get() { return S(this).xhr && !S(this).failed ? XStatus(S(this).xhr) : 0; } },
    statusText: { __proto__: null, get() { return S(this).xhr && !S(this).failed ? XStatusText(S(this).xhr) : ""; } },
    responseURL: { __proto__: null, get() { return S(this).xhr && !S(this).failed ? XResponseURL(S(this).xhr) : ""; } },
    responseType: {
      __proto__: null,
      get() { return S(this).responseType; },
      set(v) { S(this).responseType = SafeString(v); },
    },
    responseText: {
      __proto__: null,
      get() {
        if (S(this).responseType !== "" && S(this).responseType !== "text") {
          throw new SafeDOMException("Failed to read the 'responseText' property from 'XMLHttpRequest': The value is only accessible if the object's 'responseType' is '' or 'text'.", "InvalidStateError");
        }
        if (S(this).bodyText !== null) return S(this).bodyText;
        if (S(this).xhr && !S(this).failed && !S(this).textual) return XResponseText(S(this).xhr);
        return "";
      },
    },
    response: {
      __proto__: null,
      get() {
        if (!S(this).xhr || S(this).failed) return S(this).responseType === "" || S(this).responseType === "text" ? "" : null;
        if (!S(this).textual) return XResponse(S(this).xhr);
        if (S(this).bodyText === null) return S(this).responseType === "json" ? null : "";
        if (S(this).responseType === "json") {
          try { return JSONParse(S(this).bodyText); } catch (e) { return null; }
        }
        return S(this).bodyText;
      },
    },
    responseXML: { __proto__: null, get() { return S(this).xhr && !S(this).failed && !S(this).textual ? XResponseXML(S(this).xhr) : null; } },
    timeout: {
      __proto__: null,
      get() { return S(this).timeout; },
      set(v) { S(this).timeout = SafeNumber(v) || 0; },
    },
    withCredentials: {
      __proto__: null,
      get() { return S(this).withCredentials; },
      set(v) { S(this).withCredentials = !!v; },
    },
    // The client's errMsg when the call was blocked or failed (mpnet extension).
    mpnetErrMsg: { __proto__: null, get() { return S(this).failed ? S(this).failed.errMsg : ""; } },
    // The API an app's own wrapper names for this call: "request",
    // "uploadFile" or "downloadFile" (mpnet extension; nothing is sent).
    mpnetApi: {
      __proto__: null,
      get() { return S(this).api; },
      set(v) { S(this).api = namedAPI(v, "xhr.mpnetApi"); },
    },
  };
  ObjectDefineProperties(P, props);
  const consts = list("UNSENT", "OPENED", "HEADERS_RECEIVED", "LOADING", "DONE");
  for (let i = 0; i < consts.length; i++) ObjectDefineProperty(MpnetXHR, consts[i], { __proto__: null, value: i });
  ObjectDefineProperty(MpnetXHR, "name", { __proto__: null, value: "XMLHttpRequest" });
  globalThis.XMLHttpRequest = MpnetXHR;
}
