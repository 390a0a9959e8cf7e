// Frameworks' own surfaces (R15). Taro's and uni-app's H5 runtimes map the
// mini-program APIs onto fetch, XHR and WebSocket inside the app's bundle;
// the interceptors see the transport, and the module tells the API from
// what they see. Where a framework exposes its API object to the page, the
// runtime also meets it there:
//
// uni-app: in a dev-server preview, uni's Vite plugin publishes the API
// object as window.uni (and window.wx, the same object). Its interceptors (uni.addInterceptor)
// run around every call, so they name the API for the transport the call
// opens at once (request, connectSocket; uploadFile opens its XHR later and
// is told by its FormData body), and repair the errMsg uni builds: its XHR
// handlers call back with a bare "request:fail" / "uploadFile:fail" /
// "downloadFile:fail" and drop the reason, which the device gives.
//
// Taro exposes nothing: its H5 APIs are told from the transport, and carry
// the client's errMsg because Taro reads it from the error it gets (fetch's
// TypeError, the XHR error event's message; see docs/RATIONALE.md).

import { list, SafeWeakSet, ObjectHasOwn, ObjectDefineProperty, StringPrototypeSlice, StringPrototypeIndexOf } from "./intrinsics.js";

const APIS = list("request", "uploadFile", "downloadFile", "connectSocket");

export function installFrameworks(rt) {
  const adopted = new SafeWeakSet();

  // adoptUni adds mpnet's interceptors to a uni API object, once.
  function adoptUni(uni) {
    if (!uni || (typeof uni !== "object" && typeof uni !== "function") || adopted.has(uni)) return;
    if (typeof uni.addInterceptor !== "function") return;
    adopted.add(uni);
    for (let i = 0; i < APIS.length; i++) {
      const api = APIS[i];
      try {
        uni.addInterceptor(api, /* page-visible */ {
          invoke() { rt.hint = api; },
          returnValue(v) { if (rt.hint === api) rt.hint = ""; return v; },
          fail(res) {
            // uni calls back synchronously from the refused XHR's error
            // event: rt.failing is that call's refusal.
            const f = rt.failing;
            if (f && res && typeof res === "object" && (res.errMsg === api + ":fail" || res.errMsg === api + ":fail ")) {
              res.errMsg = api + StringPrototypeSlice(f.errMsg, StringPrototypeIndexOf(f.errMsg, ":fail"));
            }
            return res;
          },
        });
      } catch (e) { /* an API object without interceptors for this API */ }
    }
  }

  // window.uni is assigned by the app's own code (uni's generated
  // pages.json module, which sets window.wx to the same object); an
  // accessor sees the assignment, and behaves like the plain global it
  // stands in for. (Not wx: libraries test for it to detect WeChat.)
  if (ObjectHasOwn(window, "uni")) {
    adoptUni(window.uni);
    return;
  }
  let value;
  try {
    ObjectDefineProperty(window, "uni", {
      __proto__: null,
      configurable: true,
      enumerable: true,
      get() { return value; },
      set(v) {
        value = v;
        adoptUni(v);
      },
    });
  } catch (e) { /* a non-configurable global of that name */ }
}
