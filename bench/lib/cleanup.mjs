// Everything a run starts (browsers, servers, child processes, temp files)
// is registered here, so that it is stopped on the way out: normally by the
// try/finally that started it, on Ctrl-C or an error by Cleanup.all.

export class Cleanup {
  constructor() { this.fns = []; }

  /** add registers fn and answers a function that runs it once (and unregisters it). */
  add(fn) {
    let done = false;
    const once = async () => {
      if (done) return;
      done = true;
      this.fns = this.fns.filter((f) => f !== once);
      await fn();
    };
    this.fns.push(once);
    return once;
  }

  /** all runs every registered function, newest first, ignoring errors. */
  async all() {
    for (const f of [...this.fns].reverse()) {
      try { await f(); } catch (e) { /* best effort */ }
    }
  }
}
