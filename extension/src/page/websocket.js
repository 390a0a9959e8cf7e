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

import {
  list, SafeWeakMap, PromisePrototypeThen, ArrayPrototypePush, ArrayIsArray, ObjectDefineProperty, ObjectDefineProperties, ObjectSetPrototypeOf,
  SafeString, FunctionPrototypeCall, uncurryThis, SafeTextEncoder, TextEncoderPrototypeEncode, u8Length,
} from "./intrinsics.js";

import { listen, unlisten, dispatch, SafeEventTarget, SafeEvent, SafeDOMException, stateTable } from "./wrappers.js";

const SafeCloseEvent = CloseEvent;
const SafeMessageEvent = MessageEvent;
const SOCKET_EVENTS = list("open", "message", "error", "close");

export function installWebSocket(rt, native, CallError) {
  const NativeWS = native.WebSocket;
  // The state of every wrapper lives here, not on the object the page holds.
  const { states, S } = stateTable();
  const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;

  function MpnetWebSocket(url, protocols) {
    if (!new.target) throw new TypeError("Failed to construct 'WebSocket': Please use the 'new' operator");
    // Validate like the browser (throws SyntaxError for bad URLs and schemes).
    let u;
    try {
      u = new URL(SafeString(url), native.baseURI());
    } catch (e) {
      throw new SafeDOMException(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`, "SyntaxError");
    }
    if (u.protocol === "http:") u.protocol = "ws:";
    if (u.protocol === "https:") u.protocol = "wss:";
    if (u.protocol !== "ws:" && u.protocol !== "wss:") {
      throw new SafeDOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${u.protocol}' is not allowed.`, "SyntaxError");
    }
    if (u.hash) throw new SafeDOMException(`Failed to construct 'WebSocket': The URL contains a fragment identifier ('${u.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`, "SyntaxError");
    states.set(this, {
      __proto__: null, et: new SafeEventTarget(), url: u.href, protocols, state: CONNECTING, binaryType: "blob", ws: null, call: null, closedEarly: null,
    });
    // Own data properties: the native prototype's accessors would throw
    // "Illegal invocation" on this object.
    for (let i = 0; i < SOCKET_EVENTS.length; i++) ObjectDefineProperty(this, "on" + SOCKET_EVENTS[i], { __proto__: null, value: null, writable: true, enumerable: true });
    let constructing = true;
    let refusedNow = null;
    let names;
    if (protocols !== undefined) {
      names = list();
      if (ArrayIsArray(protocols)) for (let i = 0; i < protocols.length; i++) ArrayPrototypePush(names, SafeString(protocols[i]));
      else ArrayPrototypePush(names, SafeString(protocols));
    }
    PromisePrototypeThen(rt.open({ __proto__: null, api: "connectSocket", url: S(this).url, transport: "websocket", protocols: names }, (a, call) => {
      S(this).call = call;
      if (a.type === "start") {
        if (S(this).closedEarly) {
          rt.finish(call);
          return;
        }
        connect(this, a);
      } else if (a.type === "block" || a.type === "fail") {
        S(this).errMsg = a.errMsg;
        if (constructing) {
          refusedNow = a;
          return;
        }
        if (S(this).ws) { const w = S(this).ws; S(this).ws = null; try { w.close(); } catch (e) { /* closing */ } }
        refuse(this);
      }
    }), null, (e) => {
      console.error("[mpnet] " + (e && e.message || e));
      S(this).errMsg = "connectSocket:fail " + (e && e.message || e);
      refuse(this);
    });
    constructing = false;
    if (refusedNow) {
      S(this).state = CLOSED;
      throw new CallError(refusedNow.errMsg, refusedNow);
    }
  }
  ObjectSetPrototypeOf(MpnetWebSocket.prototype, NativeWS.prototype);
  ObjectSetPrototypeOf(MpnetWebSocket, NativeWS);
  const P = MpnetWebSocket.prototype;

  P.addEventListener = function (type, fn, opts) { listen(S(this).et, type, fn, opts); };
  P.removeEventListener = function (type, fn, opts) { unlisten(S(this).et, type, fn, opts); };
  P.dispatchEvent = function (e) { return dispatch(S(this).et, e); };

  function fire(self, ev) {
    ObjectDefineProperty(ev, "target", { __proto__: null, value: self });
    ObjectDefineProperty(ev, "currentTarget", { __proto__: null, value: self });
    const h = self["on" + ev.type];
    dispatch(S(self).et, ev);
    if (typeof h === "function") FunctionPrototypeCall(h, self, ev);
  }

  function connect(self) {
    let ws;
    try {
      ws = S(self).protocols === undefined ? new NativeWS(S(self).url) : new NativeWS(S(self).url, S(self).protocols);
    } catch (e) {
      rt.finish(S(self).call);
      refuse(self);
      return;
    }
    S(self).ws = ws;
    ws.binaryType = S(self).binaryType;
    listen(ws, "open", () => {
      if (S(self).ws !== ws) return;
      S(self).state = OPEN;
      rt.connected(S(self).call);
      S(self).call.record.status = 101;
      fire(self, new SafeEvent("open"));
    });
    listen(ws, "message", (e) => {
      if (S(self).ws !== ws) return;
      fire(self, new SafeMessageEvent("message", { __proto__: null, data: e.data, origin: e.origin, lastEventId: e.lastEventId }));
    });
    listen(ws, "error", () => { if (S(self).ws === ws) fire(self, new SafeEvent("error")); });
    listen(ws, "close", (e) => {
      if (S(self).ws !== ws) return;
      S(self).state = CLOSED;
      rt.finish(S(self).call, { __proto__: null, status: S(self).call.record.status });
      fire(self, new SafeCloseEvent("close", { __proto__: null, code: e.code, reason: e.reason, wasClean: e.wasClean }));
    });
  }

  function refuse(self) {
    if (S(self).state === CLOSED) return;
    S(self).state = CLOSED;
    // Events fire asynchronously, as for a connection that failed.
    native.setTimeout(() => {
      fire(self, new SafeEvent("error"));
      fire(self, new SafeCloseEvent("close", { __proto__: null, code: 1006, reason: "", wasClean: false }));
    }, 0);
  }

  P.send = function (data) {
    if (S(this).state === CONNECTING) throw new SafeDOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
    if (S(this).ws && S(this).state === OPEN) S(this).ws.send(data);
  };

  P.close = function (code, reason) {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new SafeDOMException(`Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, "InvalidAccessError");
    }
    if (reason !== undefined && u8Length(TextEncoderPrototypeEncode(new SafeTextEncoder(), SafeString(reason))) > 123) {
      throw new SafeDOMException("Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.", "SyntaxError");
    }
    if (S(this).state === CLOSING || S(this).state === CLOSED) return;
    if (S(this).ws) {
      S(this).state = CLOSING;
      S(this).ws.close(code, reason);
      return;
    }
    // Closed before the connection was made: fail it, as the spec does.
    S(this).closedEarly = true;
    refuse(this);
  };

  ObjectDefineProperties(P, {
    __proto__: null,
    url: { __proto__: null, get() { return S(this).url; } },
    readyState: { __proto__: null, get() { return S(this).state; } },
    bufferedAmount: { __proto__: null, get() { return S(this).ws ? S(this).ws.bufferedAmount : 0; } },
    protocol: { __proto__: null, get() { return S(this).ws ? S(this).ws.protocol : ""; } },
    extensions: { __proto__: null, get() { return S(this).ws ? S(this).ws.extensions : ""; } },
    binaryType: {
      __proto__: null,
      get() { return S(this).binaryType; },
      set(v) {
        if (v !== "blob" && v !== "arraybuffer") return;
        S(this).binaryType = v;
        if (S(this).ws) S(this).ws.binaryType = v;
      },
    },
    // The client's errMsg when the socket was refused (mpnet extension).
    mpnetErrMsg: { __proto__: null, get() { return S(this).errMsg || ""; } },
  });
  const consts = list("CONNECTING", "OPEN", "CLOSING", "CLOSED");
  for (let i = 0; i < consts.length; i++) {
    ObjectDefineProperty(MpnetWebSocket, consts[i], { __proto__: null, value: i });
    ObjectDefineProperty(P, consts[i], { __proto__: null, value: i });
  }
  ObjectDefineProperty(MpnetWebSocket, "name", { __proto__: null, value: "WebSocket" });
  globalThis.WebSocket = MpnetWebSocket;
}
