// Bundles the browser extension into a load-unpacked directory.
//
//   node build/bundle.mjs --out DIR --wasm dist/mpnet.wasm
//        [--config FILE]...   bake these project files as the default configuration
//        [--origin PATTERN]... preview origins that get the runtime from install
//                              (match patterns, e.g. http://localhost/*)
//        [--host PATTERN]...   API hosts the Referer rule (R8) may rewrite
//        [--agent URL]         a running `hostsim agent` to ask for R12 reports
//        [--rules FILE]        the rules page (default dist/rules.html, which
//                              `go run ./build` renders from docs/RULES.md)
//        [--test-hooks true]   add window.mpnet.test (browser tests only)
//
// `go run ./build` calls it; the browser tests call it with their own
// configuration. Everything the extension runs is bundled by esbuild from
// extension/src, extension/ui and wasm/loader.js.

import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, readdirSync, existsSync, rmSync, statSync } from "node:fs";
import { deflateSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function parseArgs(argv) {
  const a = { out: path.join(root, "dist/extension"), wasm: path.join(root, "dist/mpnet.wasm"), rules: path.join(root, "dist/rules.html"), config: [], origin: [], host: [], agent: "", "test-hooks": "" };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    const v = argv[++i];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    if (Array.isArray(a[k])) a[k].push(v);
    else if (k in a) a[k] = v;
    else throw new Error(`unknown flag --${k}`);
  }
  return a;
}

const PATTERN = /^(\*|https?|wss?):\/\/(\*|(\*\.)?[^/*]+)\/.*$/;

export async function bundle(opts) {
  const out = path.resolve(opts.out);
  if (!existsSync(opts.wasm)) throw new Error(`${opts.wasm} does not exist: build the module first (go run ./build)`);
  const rules = opts.rules || path.join(root, "dist/rules.html");
  if (!existsSync(rules)) throw new Error(`${rules} does not exist: go run ./build renders it from docs/RULES.md`);
  for (const p of [...opts.origin, ...opts.host]) {
    if (!PATTERN.test(p)) throw new Error(`"${p}" is not a match pattern such as http://localhost/* or https://*.example.com/*`);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(path.join(out, "ui"), { recursive: true });

  const common = { bundle: true, minify: false, sourcemap: false, target: "chrome120", logLevel: "warning", legalComments: "none" };
  // The worker client (worker/client.js) travels inside page.js as a
  // string: the runtime starts the page's workers from a blob: bootstrap
  // made of it (page/workers.js).
  const client = await build({
    ...common, minify: true, entryPoints: [path.join(root, "extension/src/worker/client.js")], format: "iife", globalName: "mpnetWorkerClient", write: false,
  });
  await build({
    ...common, entryPoints: [path.join(root, "extension/src/page/runtime.js")], outfile: path.join(out, "page.js"), format: "iife",
    define: { MPNET_WORKER_CLIENT: JSON.stringify(client.outputFiles[0].text), MPNET_TEST_HOOKS: opts.testHooks ? "true" : "false" },
  });
  await build({ ...common, entryPoints: [path.join(root, "extension/src/bridge.js")], outfile: path.join(out, "bridge.js"), format: "iife" });
  await build({ ...common, entryPoints: [path.join(root, "extension/src/background.js")], outfile: path.join(out, "background.js"), format: "esm" });
  // The module host for pages whose CSP forbids WebAssembly: an offscreen
  // document and the worker that runs the module instances.
  await build({ ...common, entryPoints: [path.join(root, "extension/src/host/offscreen.js")], outfile: path.join(out, "offscreen.js"), format: "iife" });
  await build({ ...common, entryPoints: [path.join(root, "extension/src/host/engine-worker.js")], outfile: path.join(out, "engine-worker.js"), format: "esm" });
  copyFileSync(path.join(root, "extension/src/host/offscreen.html"), path.join(out, "offscreen.html"));
  const uiDir = path.join(root, "extension/ui");
  const uiEntries = readdirSync(uiDir).filter((f) => f.endsWith(".js") && f !== "lib.js").map((f) => path.join(uiDir, f));
  if (uiEntries.length) {
    await build({ ...common, entryPoints: uiEntries, outdir: path.join(out, "ui"), format: "esm" });
  }
  for (const f of readdirSync(uiDir)) {
    if (f.endsWith(".html") || f.endsWith(".css")) copyFileSync(path.join(uiDir, f), path.join(out, "ui", f));
  }
  // The rules page, rendered from docs/RULES.md (the one source of the
  // rule texts) by go run ./build; the panel links each finding's rule to it.
  copyFileSync(rules, path.join(out, "ui", "rules.html"));
  copyDir(path.join(root, "extension/_locales"), path.join(out, "_locales"));
  copyFileSync(opts.wasm, path.join(out, "mpnet.wasm"));
  writeIcons(path.join(out, "icons"));

  const files = opts.config.map((f) => ({ name: path.basename(f), content: readFileSync(f, "utf8") }));
  if (opts.agent && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(opts.agent)) {
    throw new Error(`--agent ${opts.agent}: want http://127.0.0.1:PORT (hostsim agent listens on loopback)`);
  }
  writeFileSync(path.join(out, "defaults.json"), JSON.stringify({ files, origins: opts.origin, agent: opts.agent || "" }, null, 2));

  const manifest = JSON.parse(readFileSync(path.join(root, "extension/manifest.json"), "utf8"));
  manifest.host_permissions = [...new Set([...opts.origin, ...opts.host])];
  if (opts.origin.length) {
    const cs = { matches: opts.origin, run_at: "document_start", all_frames: true, match_origin_as_fallback: true };
    manifest.content_scripts = [
      // The bridge first: its request for the configuration is on its way
      // while the page runtime (the larger script) is parsed and runs.
      { ...cs, js: ["bridge.js"], world: "ISOLATED" },
      { ...cs, js: ["page.js"], world: "MAIN" },
    ];
  }
  // The module's bytes, which the bridge fetches for the page to compile
  // once it has parsed (the runtime starts on the extension's module).
  // Behind a per-session URL (use_dynamic_url), so that no page can probe
  // for the extension by a fixed address; any http(s) page, since preview
  // origins are added at run time.
  manifest.web_accessible_resources = [{ resources: ["mpnet.wasm"], matches: ["http://*/*", "https://*/*"], use_dynamic_url: true }];
  writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
  return out;
}

function copyDir(from, to) {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    const s = path.join(from, f);
    if (statSync(s).isDirectory()) copyDir(s, path.join(to, f));
    else copyFileSync(s, path.join(to, f));
  }
}

// The toolbar icon: a rounded green square with a white "gate" (two posts
// and a bar), drawn per size.
function writeIcons(dir) {
  mkdirSync(dir, { recursive: true });
  for (const n of [16, 32, 48, 128]) {
    const px = new Uint8Array(n * n * 4);
    const r = n * 0.2;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const i = (y * n + x) * 4;
        const cx = Math.min(x, n - 1 - x), cy = Math.min(y, n - 1 - y);
        const inside = cx >= r || cy >= r || (r - cx) ** 2 + (r - cy) ** 2 <= r * r;
        if (!inside) continue;
        const u = x / n, v = y / n;
        const white = (v > 0.25 && v < 0.8 && ((u > 0.22 && u < 0.34) || (u > 0.66 && u < 0.78))) || (v > 0.36 && v < 0.48 && u > 0.22 && u < 0.78);
        px.set(white ? [255, 255, 255, 255] : [7, 193, 96, 255], i);
      }
    }
    writeFileSync(path.join(dir, `icon${n}.png`), png(n, n, px));
  }
}

function png(w, h, rgba) {
  const crcTable = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "ascii");
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const raw = Buffer.alloc(h * (w * 4 + 1));
  for (let y = 0; y < h; y++) {
    raw[y * (w * 4 + 1)] = 0;
    Buffer.from(rgba.buffer, y * w * 4, w * 4).copy(raw, y * (w * 4 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  args.testHooks = args["test-hooks"] === "true";
  bundle(args).then((out) => console.log(`extension ${path.relative(process.cwd(), out) || out}`), (e) => {
    console.error("bundle:", e.message);
    process.exit(1);
  });
}
