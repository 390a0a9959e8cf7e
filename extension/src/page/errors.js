// The error a blocked or failed call rejects with, shared by the page
// runtime and the worker client.

/** CallError is what a blocked or failed call rejects with: errMsg is the client's. */
export class CallError extends TypeError {
  constructor(errMsg, action) {
    super(errMsg);
    this.name = "TypeError";
    this.errMsg = errMsg;
    this.rule = action && action.rule;
    this.mpnet = action;
  }
}
