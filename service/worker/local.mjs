// Runs the built Worker (dist/worker, from `go run ./build service`)
// locally in workerd through Miniflare, with a local D1 database: no
// network, no Cloudflare account, telemetry off. The tests, the load
// benchmark and the demo use it; so can anyone trying the Worker:
//
//   node service/worker/local.mjs [--dir dist/worker] [--persist DIR] [--port 0]
//        [--operator TOKEN] [--rate N] [--cors ORIGIN,...]
//
// It prints one JSON line, {"url": "http://127.0.0.1:PORT"}, once the
// Worker answers, and runs until SIGINT, SIGTERM or the end of stdin.
// --persist keeps the D1 database in DIR (across restarts); without it
// the database lives and dies with the process.

import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import path from "node:path";
import { existsSync, readdirSync } from "node:fs";

process.env.WRANGLER_SEND_METRICS = "false";
process.env.DO_NOT_TRACK = "1";

const args = { dir: "dist/worker", persist: "", port: "0", operator: "", rate: "", cors: "" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, "");
  if (!(k in args) || argv[i + 1] === undefined) {
    console.error(`local.mjs: unknown flag or missing value: ${argv[i]}`);
    process.exit(2);
  }
  args[k] = argv[++i];
}
const dir = path.resolve(args.dir);
if (!existsSync(path.join(dir, "app.wasm"))) {
  console.error(`local.mjs: ${dir}/app.wasm is missing: run go run ./build service`);
  process.exit(2);
}

const bindings = {};
if (args.operator) bindings.MPNET_OPERATOR_TOKEN = args.operator;
if (args.rate) bindings.MPNET_RATE_PER_MINUTE = args.rate;
if (args.cors) bindings.MPNET_CORS_ORIGINS = args.cors;

// Miniflare 5 takes the options Miniflare 4 took through this converter.
const mf = new Miniflare(convertV4MiniflareOptions({
  name: "mpnet-team",
  // The glue (worker.mjs first: the entry), the other JavaScript modules
  // beside it (Go's wasm_exec.js as syumai/workers ships it) and the Go
  // program.
  modulesRoot: dir,
  modules: [
    { type: "ESModule", path: path.join(dir, "worker.mjs") },
    ...readdirSync(dir)
      .filter((f) => /\.m?js$/.test(f) && f !== "worker.mjs")
      .sort()
      .map((f) => ({ type: "ESModule", path: path.join(dir, f) })),
    { type: "CompiledWasm", path: path.join(dir, "app.wasm") },
  ],
  compatibilityDate: "2026-01-01",
  d1Databases: { DB: "mpnet-team-local" },
  bindings,
  host: "127.0.0.1",
  port: Number(args.port),
  resourcePersistencePath: args.persist ? path.resolve(args.persist) : undefined,
  telemetry: { enabled: false },
  enableDevRegistry: false,
}));
const url = await mf.ready;
console.log(JSON.stringify({ url: url.origin }));

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  await mf.dispose().catch(() => {});
  process.exit(0);
}
process.on("SIGINT", close);
process.on("SIGTERM", close);
process.stdin.on("end", close);
process.stdin.resume();
