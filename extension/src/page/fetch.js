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

export function installFetch(rt, native, CallError) {
  const nativeFetch = native.fetch;

  async function mpnetFetch(input, init) {
    let request;
    let url;
    try {
      request = new Request(input, init);
      url = request.url;
    } catch (e) {
      // The browser refuses some URLs the client would try, e.g. with
      // user:password@ (R5): judge the real host, then let the browser fail.
      try {
        url = new URL(typeof input === "string" ? input : String(input && input.url), native.baseURI()).href;
      } catch (e2) {
        return nativeFetch.call(globalThis, input, init);
      }
      if (!/^https?:/i.test(url)) return nativeFetch.call(globalThis, input, init);
      return new Promise((resolve, reject) => {
        rt.open({ api: namedAPI(init && init.mpnetApi, "init.mpnetApi"), url, method: (init && init.method) || "GET", transport: "fetch" }, (a, call) => {
          if (a.type === "block" || a.type === "fail") reject(new CallError(a.errMsg, a));
          else if (a.type === "start") {
            rt.finish(call, { status: 0 });
            if (a.pass) nativeFetch.call(globalThis, input, init).then(resolve, reject);
            else reject(e);
          }
        }).catch(reject);
      });
    }
    // blob:, data: and the like are the page's own reads (Taro.uploadFile
    // reads the chosen file back from its blob: URL), not network calls.
    if (!isNetworkURL(url)) return nativeFetch.call(globalThis, request);
    const names = headerNames(input, init);
    const named = namedAPI(init && init.mpnetApi, "init.mpnetApi");
    const facts = {
      api: named, url, method: request.method, headers: names, transport: "fetch",
      accept: request.headers.get("accept") || "", contentType: request.headers.get("content-type") || "",
      body: bodyKind(init && init.body),
    };
    const userSignal = request.signal;
    if (userSignal && userSignal.aborted) throw userSignal.reason;

    return new Promise((resolve, reject) => {
      let call = null;
      let controller = null;
      let settled = false;
      let failedWith = null;
      const settle = (fn, v) => { if (!settled) { settled = true; fn(v); } };
      const onAbort = () => {
        settle(reject, userSignal.reason);
        if (controller) controller.abort(userSignal.reason);
        if (call) rt.abort(call);
      };
      if (userSignal) userSignal.addEventListener("abort", onAbort, { once: true });

      rt.open(facts, (a, c) => {
        call = c;
        switch (a.type) {
          case "block":
          case "fail":
            failedWith = a;
            if (controller) controller.abort(new CallError(a.errMsg, a));
            settle(reject, new CallError(a.errMsg, a));
            break;
          case "start":
            run(a);
            break;
        }
      }).catch((e) => settle(reject, e));

      async function run(action) {
        if (action.pass) {
          // R15: dev-server tooling runs untouched.
          try {
            const resp = await nativeFetch.call(globalThis, request);
            rt.finish(call, { status: resp.status });
            settle(resolve, resp);
          } catch (e) {
            rt.finish(call, { status: 0 });
            settle(reject, e);
          }
          return;
        }
        controller = new AbortController();
        if (userSignal && userSignal.aborted) { controller.abort(userSignal.reason); }
        let resp;
        try {
          resp = await nativeFetch.call(globalThis, request, { signal: controller.signal });
        } catch (e) {
          rt.finish(call, { status: 0 });
          settle(reject, failedWith ? new CallError(failedWith.errMsg, failedWith) : e);
          return;
        }
        // R14: the browser followed the redirects; the URL the call ended
        // at is judged before the app sees the response.
        if (resp.redirected && resp.url) rt.redirect(call, resp.url);
        if (failedWith) return;
        rt.response(call, resp.status);
        if (failedWith) return;
        try {
          settle(resolve, await wrapResponse(rt, call, call.record.api, resp, controller, () => failedWith));
        } catch (e) {
          rt.finish(call, { status: resp.status });
          settle(reject, failedWith ? new CallError(failedWith.errMsg, failedWith) : e);
        }
      }
    });
  }

  Object.defineProperty(mpnetFetch, "name", { value: "fetch" });
  Object.defineProperty(mpnetFetch, "length", { value: 1 });
  mpnetFetch.toString = () => "function fetch() { [native code] }";
  globalThis.fetch = mpnetFetch;
}

function headerNames(input, init) {
  const names = new Set();
  const add = (h) => {
    if (!h) return;
    try {
      new Headers(h).forEach((_, k) => names.add(k));
    } catch (e) { /* invalid headers: the browser will say so */ }
  };
  if (input instanceof Request) add(input.headers);
  if (init && init.headers) add(init.headers);
  return [...names];
}

// wrapResponse returns the Response handed to the app. The call finishes (its
// pool slot frees) when the body has been fully received, as on device.
async function wrapResponse(rt, call, api, resp, controller, failed) {
  const ct = resp.headers.get("content-type") || "";
  const meta = { status: resp.status, statusText: resp.statusText, headers: resp.headers };
  const finishOK = () => rt.finish(call, { status: resp.status });
  if (!resp.body) {
    finishOK();
    return resp;
  }
  const textual = ct === "" || TEXTUAL.test(ct);
  const length = resp.headers.get("content-length");
  if (length !== null && Number(length) <= WHOLE) {
    // A body of known, modest size is read whole, as wx.request hands it
    // over: one native read, no stream plumbing (the per-call cost that
    // mattered in the fetch-storm benchmark). The module sees textual ones.
    const bytes = new Uint8Array(await resp.arrayBuffer());
    const out = textual ? (await rt.body(call, api, ct, bytes)).bytes : bytes;
    finishOK();
    let headers = resp.headers;
    if (out.length !== bytes.length) {
      headers = new Headers(resp.headers);
      headers.delete("content-length");
    }
    return dress(new Response(out, { status: meta.status, statusText: meta.statusText, headers }), resp);
  }
  const reader = resp.body.getReader();
  // Peek the first bytes: a BOM decides R10 as much as the charset does.
  const head = [];
  let headLen = 0;
  let done = false;
  while (!done && headLen < 3) {
    const r = await reader.read();
    if (r.done) done = true;
    else { head.push(r.value); headLen += r.value.length; }
  }
  const first = concat(head);
  const declared = /charset\s*=\s*"?([^";\s]+)/i.exec(ct);
  const nonUTF8 = declared && !/^utf-?8$/i.test(declared[1]);
  const bom = first.length >= 3 && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf;
  if (textual && (nonUTF8 || bom)) {
    // R10 applies: the client hands over the converted text; so do we.
    const chunks = [first];
    while (!done) {
      const r = await reader.read();
      if (r.done) done = true;
      else chunks.push(r.value);
    }
    const { bytes } = await rt.body(call, api, ct, concat(chunks));
    finishOK();
    const headers = new Headers(resp.headers);
    headers.delete("content-length");
    return dress(new Response(bytes, { status: meta.status, statusText: meta.statusText, headers }), resp);
  }
  if (textual && done) {
    // Small bodies that arrived whole: let the module see them (undeclared
    // non-UTF-8 text is sniffed there).
    const { bytes } = await rt.body(call, api, ct, first);
    finishOK();
    return dress(new Response(bytes, meta), resp);
  }
  // Untouched stream: re-emit the peeked bytes, then the rest.
  const stream = new ReadableStream({
    start(c) {
      if (first.length) c.enqueue(first);
      if (done) { c.close(); finishOK(); }
    },
    async pull(c) {
      try {
        const r = await reader.read();
        if (r.done) { c.close(); finishOK(); } else c.enqueue(r.value);
      } catch (e) {
        const f = failed();
        c.error(f ? new TypeError(f.errMsg) : e);
        rt.finish(call, { status: resp.status });
      }
    },
    cancel(reason) {
      reader.cancel(reason);
      rt.finish(call, { status: resp.status });
    },
  });
  // The app may never read the body; the client still finishes the call
  // when the body arrives. Tee so the engine sees the end either way.
  const [forApp, forEngine] = stream.tee();
  (async () => {
    const r2 = forEngine.getReader();
    try { while (!(await r2.read()).done) { /* drain */ } } catch (e) { /* app-side errors finish too */ }
    rt.finish(call, { status: resp.status });
  })();
  return dress(new Response(forApp, meta), resp);
}

// dress copies the read-only properties a constructed Response lacks.
function dress(out, orig) {
  for (const k of ["url", "redirected", "type"]) {
    Object.defineProperty(out, k, { value: orig[k], enumerable: true });
  }
  return out;
}

function concat(chunks) {
  if (chunks.length === 1) return chunks[0];
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}
