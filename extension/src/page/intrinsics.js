// Primordials of the page runtime: the built-ins it uses, taken when this
// module is evaluated (document start, before any page script runs), so
// that nothing a page script patches later is ever called with the
// runtime's objects.
//
// The page runtime shares the page's JavaScript world. A page may replace
// any method of a built-in prototype (Map.prototype.set, Array.prototype.push,
// Promise.prototype.then, RegExp.prototype.exec, TextDecoder.prototype.decode)
// or define an accessor on Object.prototype for any name; a property lookup
// that reaches such a prototype calls the page's function with the runtime's
// object as `this`. The rules (ARCHITECTURE.md, "Invariants"; checked by
// extension/test/intrinsics-lint.test.mjs):
//
// - built-in methods are called through the uncurried copies below
//   (`MapGet(m, k)`), or on the Safe* collections, whose prototypes hold the
//   captured methods and end in null;
// - every class of the runtime has a prototype chain ending in null
//   (`nullProto(Class)`), every object literal holding state has
//   `__proto__: null`, internal arrays are made by `list()` (null prototype:
//   not even an indexed setter on Array.prototype or Object.prototype is
//   consulted when they grow);
// - no iteration protocol (for..of, spread, array destructuring) over
//   internal data: index loops, or the captured forEach;
// - globals are read here once (JSON, Number, Math, ...), never at call time.
//
// This module is also evaluated by the loader's other hosts (the
// background, the module host's worker, node tests), where it is harmless.

const R = Reflect;
const { apply, construct, defineProperty: reflectDefine, getOwnPropertyDescriptor, getPrototypeOf, setPrototypeOf, ownKeys } = R;
const FunctionPrototype = Function.prototype;
const { bind, call } = FunctionPrototype;

/** uncurryThis(fn) answers fn as a plain function whose first argument is `this`. */
export const uncurryThis = apply(bind, bind, [call]);

export const ReflectApply = apply;
export const ReflectConstruct = construct;
export const ReflectGetPrototypeOf = getPrototypeOf;
export const ReflectOwnKeys = ownKeys;
export const ObjectFreeze = Object.freeze;
export const ObjectKeys = Object.keys;
export const ObjectCreate = Object.create;
export const ObjectAssign = Object.assign;
export const ObjectSetPrototypeOf = setPrototypeOf;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectDefineProperties = Object.defineProperties;
export const ObjectGetOwnPropertyDescriptor = getOwnPropertyDescriptor;
export const ObjectHasOwn = uncurryThis(Object.prototype.hasOwnProperty);
export const ArrayIsArray = Array.isArray;
export const JSONParse = JSON.parse;
export const JSONStringify = JSON.stringify;
export const MathRound = Math.round;
export const MathMax = Math.max;
export const MathFloor = Math.floor;
export const MathRandom = Math.random;
export const NumberIsInteger = Number.isInteger;
export const SafeNumber = Number;
export const SafeString = String;
export const SafeBigInt = BigInt;
export const BigIntAsUintN = BigInt.asUintN;
export const DateNow = Date.now;
export const SafeError = Error;
export const SafeTypeError = TypeError;
export const FunctionPrototypeCall = uncurryThis(call);
export const FunctionPrototypeToString = uncurryThis(FunctionPrototype.toString);

const getter = (proto, name) => uncurryThis(getOwnPropertyDescriptor(proto, name).get);

// Arrays. Only methods that neither create arrays through the receiver's
// `constructor` (species) nor iterate: push, join, indexOf, includes,
// forEach.
const AP = Array.prototype;
export const ArrayPrototypePush = uncurryThis(AP.push);
export const ArrayPrototypeJoin = uncurryThis(AP.join);
export const ArrayPrototypeIndexOf = uncurryThis(AP.indexOf);
export const ArrayPrototypeIncludes = uncurryThis(AP.includes);
export const ArrayPrototypeForEach = uncurryThis(AP.forEach);

/** list answers a new array with a null prototype holding the arguments. */
export function list() {
  const a = [];
  setPrototypeOf(a, null);
  // With no prototype, [[Set]] of a new index meets no inherited setter.
  for (let i = 0; i < arguments.length; i++) a[i] = arguments[i];
  return a;
}

/** copyList answers a null-prototype copy of an array-like (index reads only). */
export function copyList(src) {
  const a = list();
  const n = src.length;
  for (let i = 0; i < n; i++) ArrayPrototypePush(a, src[i]);
  return a;
}

// Strings: data, but their methods live on a replaceable prototype too.
const SP = String.prototype;
export const StringPrototypeSlice = uncurryThis(SP.slice);
export const StringPrototypeIndexOf = uncurryThis(SP.indexOf);
export const StringPrototypeLastIndexOf = uncurryThis(SP.lastIndexOf);
export const StringPrototypeStartsWith = uncurryThis(SP.startsWith);
export const StringPrototypeToLowerCase = uncurryThis(SP.toLowerCase);
export const StringPrototypeToUpperCase = uncurryThis(SP.toUpperCase);
export const StringPrototypeCharCodeAt = uncurryThis(SP.charCodeAt);
export const NumberPrototypeToString = uncurryThis(Number.prototype.toString);

// RegExp: RegExp.prototype.test, String.prototype.replace and friends look
// `exec` up on the regular expression at call time; the captured exec reads
// only the regular expression's own lastIndex and internal slots.
export const RegExpPrototypeExec = uncurryThis(RegExp.prototype.exec);
/** RegExpTest is re.test(s) that no page-replaced exec can answer. */
export const RegExpTest = (re, s) => RegExpPrototypeExec(re, s) !== null;

// Promises. A promise whose resolution is a capability (the module
// instance, a call's handle) must not meet Promise.prototype: `await` and
// `then` read its `constructor`, which a page may define as an accessor,
// and then() it. safe(p) moves a promise onto SafePromise.prototype, whose
// `then` and `constructor` are its own and whose chain ends in null.
const PromiseThen = Promise.prototype.then;
export const PromisePrototypeThen = uncurryThis(PromiseThen);
export const SafePromiseResolve = Promise.resolve.bind(Promise);
export const SafePromiseReject = Promise.reject.bind(Promise);

// Collections: subclasses whose prototypes carry the captured methods and
// end in null. Iterators (keys, values, entries, @@iterator) are not copied:
// their `next` lives on a replaceable prototype; use forEach.
function makeSafe(Base, Safe) {
  const from = Base.prototype;
  const to = Safe.prototype;
  const keys = ownKeys(from);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === "keys" || k === "values" || k === "entries" || typeof k === "symbol") continue;
    const d = getOwnPropertyDescriptor(from, k);
    if (k === "constructor") d.value = Safe;
    reflectDefine(to, k, d);
  }
  setPrototypeOf(to, null);
  Object.freeze(to);
  return Safe;
}

export const SafeMap = makeSafe(Map, class SafeMap extends Map {});
export const SafeSet = makeSafe(Set, class SafeSet extends Set {});
export const SafeWeakMap = makeSafe(WeakMap, class SafeWeakMap extends WeakMap {});
export const SafeWeakSet = makeSafe(WeakSet, class SafeWeakSet extends WeakSet {});

/** SafePromise: a Promise whose prototype chain holds its own then/catch/finally/constructor and ends in null. */
export class SafePromise extends Promise {
  static get [Symbol.species]() { return SafePromise; }
}
{
  const to = SafePromise.prototype;
  reflectDefine(to, "then", { __proto__: null, value: PromiseThen, writable: false, configurable: false });
  reflectDefine(to, "catch", { __proto__: null, value: Promise.prototype.catch, writable: false, configurable: false });
  reflectDefine(to, "finally", { __proto__: null, value: Promise.prototype.finally, writable: false, configurable: false });
  setPrototypeOf(to, null);
  Object.freeze(to);
  // SafePromise's own statics (resolve, reject) are inherited from Promise
  // and read at call time: not used; construct with new SafePromise.
}

/**
 * safe moves a promise (one the runtime made or an async function
 * returned) onto SafePromise.prototype and answers it: awaiting it or
 * calling its then reads nothing from Promise.prototype.
 */
export function safe(p) {
  setPrototypeOf(p, SafePromise.prototype);
  return p;
}

/** nullProto cuts a class's prototype chain (and its instances') from Object.prototype. */
export function nullProto(C) {
  setPrototypeOf(C.prototype, null);
  return C;
}

/**
 * parse is JSON.parse whose objects and arrays have null prototypes: a
 * property the data lacks reads as undefined, never as a page-defined
 * accessor on Object.prototype (a `pass` getter answering true would let
 * every call through).
 */
export function parse(text) {
  return unproto(JSONParse(text));
}

const ObjectPrototype = Object.prototype;

/**
 * unproto gives the plain objects and arrays of a tree from JSON.parse or a
 * structured clone made in this realm null prototypes, in place. Other
 * objects (typed arrays, ArrayBuffers, Blobs) keep theirs: their methods
 * and getters are taken from intrinsics, never looked up on them.
 */
export function unproto(v) {
  if (v === null || typeof v !== "object") return v;
  const isArray = ArrayIsArray(v);
  if (!isArray && getPrototypeOf(v) !== ObjectPrototype) return v;
  setPrototypeOf(v, null);
  if (isArray) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== null && typeof x === "object") unproto(x);
    }
    return v;
  }
  const keys = ObjectKeys(v);
  for (let i = 0; i < keys.length; i++) {
    const x = v[keys[i]];
    if (x !== null && typeof x === "object") unproto(x);
  }
  return v;
}

export const stringify = JSONStringify;

// Timers and the platform.
export const SafeSetTimeout = setTimeout;
export const SafeClearTimeout = clearTimeout;
export const SafeQueueMicrotask = queueMicrotask;

// Bytes: typed arrays over the module's memory must never meet a
// replaceable prototype (its `buffer` is the module's whole memory).
const TypedArray = getPrototypeOf(Uint8Array);
const TAP = TypedArray.prototype;
export const SafeUint8Array = Uint8Array;
export const SafeDataView = DataView;
export const SafeArrayBuffer = ArrayBuffer;
export const TypedArrayPrototypeSet = uncurryThis(TAP.set);
export const TypedArrayPrototypeGetLength = getter(TAP, "length");
export const TypedArrayPrototypeGetByteLength = getter(TAP, "byteLength");
export const TypedArrayPrototypeGetByteOffset = getter(TAP, "byteOffset");
export const TypedArrayPrototypeGetBuffer = getter(TAP, "buffer");
export const ArrayBufferPrototypeGetByteLength = getter(ArrayBuffer.prototype, "byteLength");
export const ArrayBufferIsView = ArrayBuffer.isView;
export const DataViewPrototypeGetUint32 = uncurryThis(DataView.prototype.getUint32);
export const DataViewPrototypeSetUint32 = uncurryThis(DataView.prototype.setUint32);
export const DataViewPrototypeSetUint16 = uncurryThis(DataView.prototype.setUint16);
export const DataViewPrototypeSetUint8 = uncurryThis(DataView.prototype.setUint8);
export const DataViewPrototypeSetBigUint64 = uncurryThis(DataView.prototype.setBigUint64);
export const DataViewPrototypeGetBigUint64 = uncurryThis(DataView.prototype.getBigUint64);

// (`new` on a captured constructor reads only its own, non-writable
// `prototype`: as safe as Reflect.construct, and faster.)
const U8 = Uint8Array;

/** u8 answers a Uint8Array view (no species, no prototype lookups). */
export function u8(buffer, offset, length) {
  return arguments.length === 1 ? new U8(buffer) : new U8(buffer, offset, length);
}

/** u8Length is view.length through the captured getter. */
export const u8Length = TypedArrayPrototypeGetLength;

/** u8Sub is view.subarray(start, end) without the species lookup. */
export function u8Sub(view, start, end) {
  return new U8(TypedArrayPrototypeGetBuffer(view), TypedArrayPrototypeGetByteOffset(view) + start, end - start);
}

/** u8Copy is view.slice(start, end) without the species lookup. */
export function u8Copy(view, start, end) {
  const out = new U8(end - start);
  TypedArrayPrototypeSet(out, u8Sub(view, start, end));
  return out;
}

const TE = TextEncoder.prototype;
const TD = TextDecoder.prototype;
export const SafeTextEncoder = TextEncoder;
export const SafeTextDecoder = TextDecoder;
export const TextEncoderPrototypeEncode = uncurryThis(TE.encode);
export const TextEncoderPrototypeEncodeInto = uncurryThis(TE.encodeInto);
export const TextDecoderPrototypeDecode = uncurryThis(TD.decode);

// WebAssembly: a page that replaces these getters or methods would be
// handed the instance (and its exports) or the memory.
const WA = WebAssembly;
export const SafeWebAssemblyModule = WA.Module;
export const SafeWebAssemblyInstance = WA.Instance;
export const WebAssemblyCompile = WA.compile;
export const WebAssemblyInstantiate = WA.instantiate;
export const WebAssemblyInstanceGetExports = getter(WA.Instance.prototype, "exports");
export const WebAssemblyMemoryGetBuffer = getter(WA.Memory.prototype, "buffer");
