// The error a blocked or failed call rejects with, shared by the page
// runtime and the worker client.

/**
 * CallError is what a blocked or failed call rejects with (fetch) or throws
 * (a WebSocket refused at once): errMsg is the client's, and so is its
 * string (uni-app's connectSocket reports `String(error)` as the reason).
 */
export class CallError extends TypeError {
  constructor(errMsg, action) {
    super(errMsg);
    this.name = "TypeError";
    this.errMsg = errMsg;
    this.rule = action && action.rule;
    this.mpnet = action;
  }

  toString() { return this.errMsg; }
}
