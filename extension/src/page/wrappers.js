// What the XHR and WebSocket wrappers share: the EventTarget natives (taken
// at document start, like intrinsics.js) and the table that keeps each
// wrapper's state away from the object the page holds.

import { uncurryThis, SafeWeakMap } from "./intrinsics.js";

export const listen = uncurryThis(EventTarget.prototype.addEventListener);
export const unlisten = uncurryThis(EventTarget.prototype.removeEventListener);
export const dispatch = uncurryThis(EventTarget.prototype.dispatchEvent);
export const SafeEventTarget = EventTarget;
export const SafeEvent = Event;
export const SafeDOMException = DOMException;

/**
 * stateTable answers {states, S}: states.set(wrapper, {...}) when one is
 * made; S(wrapper) its state, or a TypeError like the platform's for an
 * object that is not one (a method taken off the prototype).
 */
export function stateTable() {
  const states = new SafeWeakMap();
  const S = (o) => {
    const s = states.get(o);
    if (!s) throw new SafeDOMException("Illegal invocation");
    return s;
  };
  return { __proto__: null, states, S };
}
