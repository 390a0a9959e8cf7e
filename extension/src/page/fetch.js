// fetch interception: every call goes through the module before the native
// fetch runs. A blocked call rejects like a network error (TypeError) whose
// message is the client's errMsg; a queued call waits; a started call gets
// the engine's timeout; R10 rewrites the body only when it applies (a
// declared non-UTF-8 charset, or a leading BOM), otherwise the response
// streams through untouched.

// WHOLE is the largest body (by Content-Length) read whole before the app
// gets the Response; larger or unsized bodies stream through.
const WHOLE = 1 << 20;

const TEXTUAL = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

import { bodyKind, namedAPI, isNetworkURL } from "./facts.js";
import {
  list, SafePromise, SafeSet, SafeString, SafeNumber, ObjectDefineProperty, ArrayPrototypePush, FunctionPrototypeCall, PromisePrototypeThen,
  uncurryThis, ObjectGetOwnPropertyDescriptor, RegExpTest, RegExpPrototypeExec, u8, u8Length, TypedArrayPrototypeSet,
} from "./intrinsics.js";

// Taken at document start: a page that replaces these later is neither
// handed the runtime's objects nor able to answer for them (a forged
// `request.url` or `resp.redirected` would be judged instead of the real one).
const get = (C, name) => uncurryThis(ObjectGetOwnPropertyDescriptor(C.prototype, name).get);
const SafeRequest = Request;
const SafeResponse = Response;
const SafeHeaders = Headers;
const SafeURL = URL;
const SafeReadableStream = ReadableStream;
const SafeAbortController = AbortController;
const RequestURL = get(Request, "url");
const RequestMethod = get(Request, "method");
const RequestHeaders = get(Request, "headers");
const RequestSignal = get(Request, "signal");
const ResponseURL = get(Response, "url");
const ResponseRedirected = get(Response, "redirected");
const ResponseStatus = get(Response, "status");
const ResponseStatusText = get(Response, "statusText");
const ResponseHeaders = get(Response, "headers");
const ResponseBody = get(Response, "body");
const ResponseType = get(Response, "type");
const ResponseArrayBuffer = uncurryThis(Response.prototype.arrayBuffer);
const HeadersGet = uncurryThis(Headers.prototype.get);
const HeadersDelete = uncurryThis(Headers.prototype.delete);
const HeadersForEach = uncurryThis(Headers.prototype.forEach);
const URLHref = get(URL, "href");
const StreamGetReader = uncurryThis(ReadableStream.prototype.getReader);
const StreamTee = uncurryThis(ReadableStream.prototype.tee);
const ReaderRead = uncurryThis(ReadableStreamDefaultReader.prototype.read);
const ReaderCancel = uncurryThis(ReadableStreamDefaultReader.prototype.cancel);
const ControllerSignal = get(AbortController, "signal");
const ControllerAbort = uncurryThis(AbortController.prototype.abort);
const SignalAborted = get(AbortSignal, "aborted");
const SignalReason = get(AbortSignal, "reason");
const listen = uncurryThis(EventTarget.prototype.addEventListener);

export function installFetch(rt, native, CallError) {
  const nativeFetch = native.fetch;
  // A worker's client passes its Request, which resolves relative URLs
  // against the worker's script rather than its blob: bootstrap.
  const RequestCtor = native.Request || SafeRequest;
  const fetchNow = (a, b) => (b === undefined ? FunctionPrototypeCall(nativeFetch, globalThis, a) : FunctionPrototypeCall(nativeFetch, globalThis, a, b));

  async function mpnetFetch(input, init) {
    let request;
    let url;
    try {
      request = new RequestCtor(input, init);
      url = RequestURL(request);
    } catch (e) {
      // The browser refuses some URLs the client would try, e.g. with
      // user:password@ (R5): judge the real host, then let the browser fail.
      try {
        url = URLHref(new SafeURL(typeof input === "string" ? input : SafeString(input && input.url), native.baseURI()));
      } catch (e2) {
        return fetchNow(input, init);
      }
      if (!RegExpTest(/^https?:/i, url)) return fetchNow(input, init);
      return new SafePromise((resolve, reject) => {
        PromisePrototypeThen(rt.open({ __proto__: null, api: namedAPI(init && init.mpnetApi, "init.mpnetApi"), url, method: (init && init.method) || "GET", transport: "fetch" }, (a, call) => {
          if (a.type === "block" || a.type === "fail") reject(new CallError(a.errMsg, a));
          else if (a.type === "start") {
            rt.finish(call, { __proto__: null, status: 0 });
            if (a.pass) PromisePrototypeThen(fetchNow(input, init), resolve, reject);
            else reject(e);
          }
        }), null, reject);
      });
    }
    // blob:, data: and the like are the page's own reads (Taro.uploadFile
    // reads the chosen file back from its blob: URL), not network calls.
    if (!isNetworkURL(url)) return fetchNow(request);
    const names = headerNames(input, init);
    const named = namedAPI(init && init.mpnetApi, "init.mpnetApi");
    const headers = RequestHeaders(request);
    const facts = {
      __proto__: null, api: named, url, method: RequestMethod(request), headers: names, transport: "fetch",
      accept: HeadersGet(headers, "accept") || "", contentType: HeadersGet(headers, "content-type") || "",
      body: bodyKind(init && init.body),
    };
    const userSignal = RequestSignal(request);
    if (userSignal && SignalAborted(userSignal)) throw SignalReason(userSignal);

    return new SafePromise((resolve, reject) => {
      let call = null;
      let controller = null;
      let settled = false;
      let failedWith = null;
      const settle = (fn, v) => { if (!settled) { settled = true; fn(v); } };
      const onAbort = () => {
        settle(reject, SignalReason(userSignal));
        if (controller) ControllerAbort(controller, SignalReason(userSignal));
        if (call) rt.abort(call);
      };
      if (userSignal) listen(userSignal, "abort", onAbort, { __proto__: null, once: true });

      PromisePrototypeThen(rt.open(facts, (a, c) => {
        call = c;
        switch (a.type) {
          case "block":
          case "fail":
            failedWith = a;
            if (controller) ControllerAbort(controller, new CallError(a.errMsg, a));
            settle(reject, new CallError(a.errMsg, a));
            break;
          case "start":
            run(a);
            break;
        }
      }), null, (e) => settle(reject, e));

      async function run(action) {
        if (action.pass) {
          // R15: dev-server tooling runs untouched.
          try {
            const resp = await fetchNow(request);
            rt.finish(call, { __proto__: null, status: ResponseStatus(resp) });
            settle(resolve, resp);
          } catch (e) {
            rt.finish(call, { __proto__: null, status: 0 });
            settle(reject, e);
          }
          return;
        }
        controller = new SafeAbortController();
        if (userSignal && SignalAborted(userSignal)) { ControllerAbort(controller, SignalReason(userSignal)); }
        let resp;
        try {
          resp = await fetchNow(request, { __proto__: null, signal: ControllerSignal(controller) });
        } catch (e) {
          rt.finish(call, { __proto__: null, status: 0 });
          settle(reject, failedWith ? new CallError(failedWith.errMsg, failedWith) : e);
          return;
        }
        // R14: the browser followed the redirects; the URL the call ended
        // at is judged before the app sees the response.
        if (ResponseRedirected(resp) && ResponseURL(resp)) rt.redirect(call, ResponseURL(resp));
        if (failedWith) return;
        rt.response(call, ResponseStatus(resp));
        if (failedWith) return;
        try {
          settle(resolve, await wrapResponse(rt, call, call.record.api, resp, controller, () => failedWith));
        } catch (e) {
          rt.finish(call, { __proto__: null, status: ResponseStatus(resp) });
          settle(reject, failedWith ? new CallError(failedWith.errMsg, failedWith) : e);
        }
      }
    });
  }

  ObjectDefineProperty(mpnetFetch, "name", { __proto__: null, value: "fetch" });
  ObjectDefineProperty(mpnetFetch, "length", { __proto__: null, value: 1 });
  mpnetFetch.toString = () => "function fetch() { [native code] }";
  globalThis.fetch = mpnetFetch;
}

function headerNames(input, init) {
  const names = new SafeSet();
  const add = (h) => {
    if (!h) return;
    try {
      HeadersForEach(new SafeHeaders(h), (_, k) => { names.add(k); });
    } catch (e) { /* invalid headers: the browser will say so */ }
  };
  if (input instanceof SafeRequest) add(RequestHeaders(input));
  if (init && init.headers) add(init.headers);
  const out = list();
  names.forEach((k) => { ArrayPrototypePush(out, k); });
  return out;
}

// wrapResponse returns the Response handed to the app. The call finishes (its
// pool slot frees) when the body has been fully received, as on device.
async function wrapResponse(rt, call, api, resp, controller, failed) {
  const respHeaders = ResponseHeaders(resp);
  const status = ResponseStatus(resp);
  const ct = HeadersGet(respHeaders, "content-type") || "";
  const meta = { __proto__: null, status, statusText: ResponseStatusText(resp), headers: respHeaders };
  const finishOK = () => rt.finish(call, { __proto__: null, status });
  const body = ResponseBody(resp);
  if (!body) {
    finishOK();
    return resp;
  }
  const textual = ct === "" || RegExpTest(TEXTUAL, ct);
  const length = HeadersGet(respHeaders, "content-length");
  if (length !== null && SafeNumber(length) <= WHOLE) {
    // A body of known, modest size is read whole, as wx.request hands it
    // over: one native read, no stream plumbing (the per-call cost that
    // mattered in the fetch-storm benchmark). The module sees textual ones.
    const bytes = u8(await ResponseArrayBuffer(resp));
    const out = textual ? (await rt.body(call, api, ct, bytes)).bytes : bytes;
    finishOK();
    let headers = respHeaders;
    if (u8Length(out) !== u8Length(bytes)) {
      headers = new SafeHeaders(respHeaders);
      HeadersDelete(headers, "content-length");
    }
    return dress(new SafeResponse(out, { __proto__: null, status: meta.status, statusText: meta.statusText, headers }), resp);
  }
  const reader = StreamGetReader(body);
  const read = () => ReaderRead(reader);
  // Peek the first bytes: a BOM decides R10 as much as the charset does.
  const head = list();
  let headLen = 0;
  let done = false;
  while (!done && headLen < 3) {
    const r = await read();
    if (r.done) done = true;
    else { ArrayPrototypePush(head, r.value); headLen += u8Length(r.value); }
  }
  const first = concat(head);
  const declared = RegExpPrototypeExec(/charset\s*=\s*"?([^";\s]+)/i, ct);
  const nonUTF8 = declared && !RegExpTest(/^utf-?8$/i, declared[1]);
  const bom = u8Length(first) >= 3 && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf;
  if (textual && (nonUTF8 || bom)) {
    // R10 applies: the client hands over the converted text; so do we.
    const chunks = list(first);
    while (!done) {
      const r = await read();
      if (r.done) done = true;
      else ArrayPrototypePush(chunks, r.value);
    }
    const { bytes } = await rt.body(call, api, ct, concat(chunks));
    finishOK();
    const headers = new SafeHeaders(respHeaders);
    HeadersDelete(headers, "content-length");
    return dress(new SafeResponse(bytes, { __proto__: null, status: meta.status, statusText: meta.statusText, headers }), resp);
  }
  if (textual && done) {
    // Small bodies that arrived whole: let the module see them (undeclared
    // non-UTF-8 text is sniffed there).
    const { bytes } = await rt.body(call, api, ct, first);
    finishOK();
    return dress(new SafeResponse(bytes, meta), resp);
  }
  // Untouched stream: re-emit the peeked bytes, then the rest.
  const stream = new SafeReadableStream({
    __proto__: null,
    start(c) {
      if (u8Length(first)) c.enqueue(first);
      if (done) { c.close(); finishOK(); }
    },
    async pull(c) {
      try {
        const r = await read();
        if (r.done) { c.close(); finishOK(); } else c.enqueue(r.value);
      } catch (e) {
        const f = failed();
        c.error(f ? new TypeError(f.errMsg) : e);
        rt.finish(call, { __proto__: null, status });
      }
    },
    cancel(reason) {
      ReaderCancel(reader, reason);
      rt.finish(call, { __proto__: null, status });
    },
  });
  // The app may never read the body; the client still finishes the call
  // when the body arrives. Tee so the engine sees the end either way.
  const both = StreamTee(stream);
  const forApp = both[0], forEngine = both[1];
  (async () => {
    const r2 = StreamGetReader(forEngine);
    try { while (!(await ReaderRead(r2)).done) { /* drain */ } } catch (e) { /* app-side errors finish too */ }
    rt.finish(call, { __proto__: null, status });
  })();
  return dress(new SafeResponse(forApp, meta), resp);
}

// dress copies the read-only properties a constructed Response lacks.
function dress(out, orig) {
  ObjectDefineProperty(out, "url", { __proto__: null, value: ResponseURL(orig), enumerable: true });
  ObjectDefineProperty(out, "redirected", { __proto__: null, value: ResponseRedirected(orig), enumerable: true });
  ObjectDefineProperty(out, "type", { __proto__: null, value: ResponseType(orig), enumerable: true });
  return out;
}

function concat(chunks) {
  if (chunks.length === 1) return chunks[0];
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += u8Length(chunks[i]);
  const out = u8(n);
  let o = 0;
  for (let i = 0; i < chunks.length; i++) { TypedArrayPrototypeSet(out, chunks[i], o); o += u8Length(chunks[i]); }
  return out;
}
