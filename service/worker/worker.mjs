// The team service's Worker entry (built into dist/worker beside Go's
// program, app.wasm, and syumai/workers' wasm_exec.js).
//
// One Go instance per isolate answers many requests, concurrently: it
// starts on the isolate's first request (requests that arrive while it
// starts wait for the same one), and is replaced when it has exited or
// trapped (a Go panic ends the program). A request whose instance dies
// under it gets a 500 with a JSON error; the next request starts a new
// instance. Go's side is service/worker/bridge.
//
// No promise is shared between requests: the runtime runs a promise's
// continuations in the request that created it and drops them once that
// request has ended, so each request waits on promises of its own, which
// the instance settles (ready, died) through the callbacks it keeps.

import "./wasm_exec.js";
import { connect } from "cloudflare:sockets";
import mod from "./app.wasm";

// syumai/workers' Go packages call JavaScript through this.
globalThis.tryCatch = (fn) => {
  try {
    return { result: fn() };
  } catch (error) {
    return { error };
  }
};

// The live instance, or null.
let current = null;

// start instantiates the Go program. env holds the bindings (D1, vars,
// secrets), the same for every request of an isolate; no request's ctx is
// given to Go (it would outlive that request).
function start(env) {
  const go = new Go();
  const inst = {
    binding: {},
    ready: false,
    dead: null, // why it died
    waiting: new Set(), // { resolve, reject } of requests waiting for it
  };
  const settle = () => {
    for (const w of inst.waiting) {
      if (inst.dead) w.reject(inst.dead);
      else if (inst.ready) w.resolve();
    }
    if (inst.dead) inst.waiting.clear();
  };
  const die = (reason) => {
    if (inst.dead) return;
    inst.dead = reason;
    if (current === inst) current = null;
    settle();
  };
  // A trap (unreachable, stack overflow, out of memory) throws out of Go's
  // resume; the instance is unusable after it.
  const resume = go._resume.bind(go);
  go._resume = () => {
    try {
      resume();
    } catch (e) {
      die(e);
      throw e;
    }
  };
  go.exit = (code) => die(new Error(`the Go program exited with code ${code}`));
  const instance = new WebAssembly.Instance(mod, {
    ...go.importObject,
    workers: {
      ready: () => {
        inst.ready = true;
        settle();
      },
    },
  });
  go.run(instance, { env, connect, binding: inst.binding }).then(
    () => die(new Error("the Go program exited")),
    (e) => die(e),
  );
  return inst;
}

// wait returns a promise of this request's own, settled when inst is
// ready (resolved) or dies (rejected), and a function to stop waiting.
function wait(inst, onlyDeath) {
  let w;
  const p = new Promise((resolve, reject) => {
    w = { resolve: onlyDeath ? () => {} : resolve, reject };
  });
  if (inst.dead) w.reject(inst.dead);
  else if (inst.ready && !onlyDeath) w.resolve();
  else inst.waiting.add(w);
  return [p, () => inst.waiting.delete(w)];
}

function failure(e) {
  console.error(`mpnet-team: ${e && e.stack ? e.stack : e}`);
  const body = { error: { code: "internal", message: "the service failed; try again (it has been logged)" } };
  return new Response(JSON.stringify(body) + "\n", {
    status: 500,
    headers: { "Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff" },
  });
}

async function fetch(request, env) {
  let inst = null;
  try {
    if (current === null) current = start(env);
    inst = current;
    const [ready, doneReady] = wait(inst, false);
    try {
      await ready;
    } finally {
      doneReady();
    }
    const [died, doneDied] = wait(inst, true);
    try {
      return await Promise.race([inst.binding.handleRequest(request), died]);
    } finally {
      doneDied();
    }
  } catch (e) {
    // When the instance died, why it died (what failed here may be only a
    // consequence: Go's exit tears down the instance under its caller).
    return failure((inst && inst.dead) || e);
  }
}

export default { fetch };
