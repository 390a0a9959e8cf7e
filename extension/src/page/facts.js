// What a transport can see of a call, for the module's open event (R15):
// the kind of body the code passed, and the API an app's own wrapper named.
// No rule is decided here; the module maps these facts to an API.

import { list, ArrayPrototypeIncludes, RegExpTest, StringPrototypeIndexOf, StringPrototypeSlice, stringify, SafeString, SafeTypeError, ArrayBufferIsView, SafeArrayBuffer } from "./intrinsics.js";

const { FormData: NativeFormData, Blob: NativeBlob, URLSearchParams: NativeURLSearchParams, ReadableStream: NativeReadableStream } = globalThis;

/** bodyKind names the type of a request body: formdata, blob, arraybuffer, string, urlsearchparams, stream, other, or "" for none. */
export function bodyKind(b) {
  if (b === undefined || b === null) return "";
  if (typeof b === "string") return "string";
  if (NativeFormData && b instanceof NativeFormData) return "formdata";
  if (NativeBlob && b instanceof NativeBlob) return "blob";
  if (NativeURLSearchParams && b instanceof NativeURLSearchParams) return "urlsearchparams";
  if (b instanceof SafeArrayBuffer || ArrayBufferIsView(b)) return "arraybuffer";
  if (NativeReadableStream && b instanceof NativeReadableStream) return "stream";
  return "other";
}

const NAMED = list("request", "uploadFile", "downloadFile");

/**
 * namedAPI validates the API an app's own wrapper names for a fetch
 * (`init.mpnetApi`) or an XHR (`xhr.mpnetApi`): "" when none is named.
 */
export function namedAPI(v, where) {
  if (v === undefined || v === null || v === "") return "";
  if (!ArrayPrototypeIncludes(NAMED, v)) throw new SafeTypeError(`mpnet: ${where} is ${stringify(v)}; want "request", "uploadFile" or "downloadFile"`);
  return v;
}

/** reasonOf returns what follows "<api>:fail " in an errMsg: frameworks put their own prefix before it. */
export function reasonOf(errMsg) {
  const s = SafeString(errMsg || "");
  const i = StringPrototypeIndexOf(s, ":fail ");
  return i >= 0 ? StringPrototypeSlice(s, i + 6) : s;
}

/** isNetworkURL reports whether a call's URL goes to the network (http, https, ws, wss): blob:, data: and the like are the page's own reads, not mini-program calls. */
export function isNetworkURL(url) {
  return RegExpTest(/^(https?|wss?):/i, url);
}
