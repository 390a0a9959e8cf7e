// ab-intrinsics: the cost of the page runtime's primordials (intrinsics.js)
// on a decision: a call's two engine steps (open + finish) and an
// mpnet.check through this tree's loader (captured built-ins, answers with
// null prototypes, wasm/wasi.js) against another tree's loader, side by
// side in one process, rounds alternated.
//
//   git show 20e27b7:wasm/loader.js > dist/old-loader.mjs   # the loader before
//   go run ./build && node bench/ab-intrinsics.mjs --old dist/old-loader.mjs [--rounds 15] [--calls 20000]
//
// Prints the median µs per call of each loader and their ratio.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MpnetModule } from "../wasm/loader.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const rounds = Number(opt("--rounds", 15));
const calls = Number(opt("--calls", 20000));
const old = opt("--old", "");
if (!old) throw new Error("--old PATH: the loader to compare with (git show REV:wasm/loader.js > dist/old-loader.mjs)");
const Old = (await import(pathToFileURL(path.resolve(old)).href)).MpnetModule;

const config = JSON.parse(readFileSync(path.join(root, "bench/decision.json"), "utf8")).config;
const bytes = readFileSync(path.join(root, "dist/mpnet.wasm"));
const hosts = { new: await MpnetModule.load(bytes, { spare: false }), old: await Old.load(bytes, { spare: false }) };
for (const m of Object.values(hosts)) {
  const res = m.configure({ files: [{ name: "mpnet.json", content: JSON.stringify(config) }] });
  if (!res.ok) throw new Error(JSON.stringify(res.errors));
}
const url = `https://${new URL(config.domains.request[0]).hostname}/api/list?page=`;

let id = 0;
let sink = 0;
function run(which, n) {
  const m = hosts[which];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    id++;
    sink += m.step({ type: "open", at: 0, id, url: url + (i & 7), method: "GET", timeout: 0, headers: [], transport: "fetch", origin: "http://localhost:10086" }).actions.length;
    sink += m.step({ type: "finish", at: 0, id }).actions.length;
    sink += m.check({ api: "request", url: url + (i & 7), timeout: 0, headers: null }).allowed ? 1 : 0;
  }
  return ((performance.now() - t0) * 1000) / n;
}

run("old", 2000);
run("new", 2000);
const samples = { old: [], new: [] };
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 ? ["new", "old"] : ["old", "new"]) samples[s].push(run(s, calls));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const o = median(samples.old);
const n = median(samples.new);
const ratios = samples.new.map((v, i) => v / samples.old[i]).sort((a, b) => a - b);
console.log(`open + finish + check, µs per call (median of ${rounds} rounds of ${calls}):`);
console.log(`  old loader:            ${o.toFixed(2)}`);
console.log(`  this loader:           ${n.toFixed(2)}`);
console.log(`  ratio this / old:      ${(n / o).toFixed(3)} (paired rounds: ${ratios[0].toFixed(3)} .. ${ratios[ratios.length - 1].toFixed(3)})`);
if (sink < 0) console.log(sink);
