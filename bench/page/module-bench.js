// Bundled by bench/lib/pages.mjs into an IIFE and run in a plain Chromium
// page (no extension): the module through wasm/loader.js, timed from inside
// V8, next to a pure-JS allowlist check on the same URLs.

import { MpnetModule } from "../../wasm/loader.js";

const enc = new TextEncoder();
let module = null;
let wasmBytes = null;

// Event ids and the engine's clock carry on across decisions() calls: the
// engine refuses time going backwards and ids already open.
let nextId = 1;
let at = 0;

async function bytes(url) {
  if (!wasmBytes) wasmBytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  return wasmBytes;
}

// uniqueBytes appends a custom section named `tag` to the module, so V8's
// per-process cache of compiled modules (keyed by the bytes) cannot answer.
function uniqueBytes(src, tag) {
  const name = enc.encode(tag);
  const payload = [name.length, ...name]; // name length < 128: one LEB byte
  const out = new Uint8Array(src.length + 2 + payload.length);
  out.set(src);
  out[src.length] = 0; // custom section id
  out[src.length + 1] = payload.length; // < 128
  out.set(payload, src.length + 2);
  return out;
}

function time(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

window.__bench = {
  /** setup loads the module and configures it with config (bench/decision.json); answers the configuration's size. */
  async setup({ wasmURL, config }) {
    const b = await bytes(wasmURL);
    module = await MpnetModule.load(b);
    const res = module.configure({ files: [{ name: "mpnet.json", content: JSON.stringify(config) }] });
    if (!res.ok) throw new Error("configure failed: " + JSON.stringify(res.errors));
    await module.spareReady();
    return { wasmBytes: b.length, domainsPerList: config.domains.request.length };
  },

  /**
   * decisions times `n` calls of each variant over `urls` (cycled); answers
   * microseconds per call for each variant, plus a checksum of the verdicts
   * so that no variant can be optimised away.
   */
  decisions({ urls, config, n, warmup }) {
    const msgs = urls.map((u) => enc.encode(JSON.stringify({ api: "request", url: u })));
    const reqs = urls.map((u) => ({ api: "request", url: u }));
    const allowed = urls.slice(0, 2); // the Go benchmark opens the two allowed URLs
    const hosts = new Set(config.domains.request.map((d) => new URL(d).hostname));
    let sink = 0;
    // Every call a URL never seen before (a new query parameter), so that no
    // memo of the exact message answers; built before the clock starts.
    const fresh = [];
    for (let i = 0; i < n + warmup; i++) {
      const u = urls[i % urls.length];
      fresh.push(enc.encode(JSON.stringify({ api: "request", url: `${u}${u.includes("?") ? "&" : "?"}n=${Date.now()}-${i}` })));
    }
    const v = {
      raw: (i) => { sink += module.raw("check", msgs[i % msgs.length]).length; },
      distinct: (i) => { sink += module.raw("check", fresh[i]).length; },
      api: (i) => { sink += module.check(reqs[i % reqs.length]).allowed ? 1 : 0; },
      step: (i) => {
        const id = nextId++;
        at++;
        // As the page runtime calls it: an event object in, the parsed result out.
        sink += module.step({ type: "open", at, id, api: "request", url: allowed[i % 2] }).actions.length;
        sink += module.step({ type: "finish", at, id }).actions.length;
      },
      floor: (i) => {
        const u = new URL(urls[i % urls.length]);
        if (u.protocol === "https:" && hosts.has(u.hostname)) sink++;
      },
    };
    const out = {};
    for (const [name, f] of Object.entries(v)) {
      for (let i = 0; i < warmup; i++) f(i);
      const ms = time(() => { for (let i = 0; i < n; i++) f(i); });
      out[name] = (ms * 1000) / n;
    }
    out.sink = sink;
    return out;
  },

  /** compile times WebAssembly.compile of fresh bytes and of bytes just compiled (ms). */
  async compile({ wasmURL, tag, config }) {
    const b = uniqueBytes(await bytes(wasmURL), tag);
    let t0 = performance.now();
    const mod = await WebAssembly.compile(b);
    const fresh = performance.now() - t0;
    t0 = performance.now();
    await WebAssembly.compile(b);
    const again = performance.now() - t0;
    // The rest of the loader's start: instantiate and initialise the Go
    // runtime, then the first configure (the configuration the extension
    // gets in the ready-time benchmark).
    t0 = performance.now();
    const m = await MpnetModule.load(mod, { spare: false });
    const instantiate = performance.now() - t0;
    t0 = performance.now();
    const files = [{ name: "mpnet.json", content: JSON.stringify(config) }];
    const res = m.configure({ files });
    const configure = performance.now() - t0;
    if (!res.ok) throw new Error("configure failed");
    // A call's first steps on that instance: V8 compiles wasm functions
    // lazily, on their first call, so the first use of each path pays for
    // compiling it (on the calling thread).
    const url = config.domains.request[0] + "/first";
    const firstCall = time(() => {
      m.step({ type: "open", at: 1, id: 1, api: "request", url, method: "GET", transport: "fetch", origin: "http://localhost:1" });
      m.step({ type: "response", at: 2, id: 1, status: 200 });
      m.step({ type: "finish", at: 3, id: 1 });
    });
    const secondCall = time(() => {
      m.step({ type: "open", at: 4, id: 2, api: "request", url, method: "GET", transport: "fetch", origin: "http://localhost:1" });
      m.step({ type: "response", at: 5, id: 2, status: 200 });
      m.step({ type: "finish", at: 6, id: 2 });
    });
    // The same on a second instance of the same compiled module: the code
    // compiled by the first instance's calls is the module's, shared.
    t0 = performance.now();
    const m2 = await MpnetModule.load(mod, { spare: false });
    const instantiate2 = performance.now() - t0;
    const configure2 = time(() => m2.configure({ files }));
    const firstCall2 = time(() => {
      m2.step({ type: "open", at: 1, id: 1, api: "request", url, method: "GET", transport: "fetch", origin: "http://localhost:1" });
      m2.step({ type: "response", at: 2, id: 1, status: 200 });
      m2.step({ type: "finish", at: 3, id: 1 });
    });
    return { fresh, again, instantiate, configure, firstCall, secondCall, instantiate2, configure2, firstCall2, memory: m.exports.memory.buffer.byteLength };
  },
};
