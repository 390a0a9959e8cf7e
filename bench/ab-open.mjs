// ab-open: a call's two engine steps (open + finish) through the module in
// Node's V8, with the open event as the page runtime sends it now (the
// transport facts and the page's origin, the API left to the module, R15)
// against the bare event it sent before (the API named, no facts), side
// by side in one process, rounds alternated.
//
//   go run ./build && node bench/ab-open.mjs [--rounds 15] [--calls 20000]
//
// Prints the median µs per call of each shape and their ratio.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MpnetModule } from "../wasm/loader.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const rounds = opt("--rounds", 15);
const calls = opt("--calls", 20000);

const config = JSON.parse(readFileSync(path.join(root, "bench/decision.json"), "utf8")).config;
const m = await MpnetModule.load(readFileSync(path.join(root, "dist/mpnet.wasm")));
const res = m.configure({ files: [{ name: "mpnet.json", content: JSON.stringify(config) }] });
if (!res.ok) throw new Error(JSON.stringify(res.errors));
const url = `https://${new URL(config.domains.request[0]).hostname}/api/list?page=`;

const shapes = {
  bare: (id, at, i) => ({ type: "open", at, id, api: "request", url: url + (i & 7), method: "GET", timeout: 0, headers: [] }),
  facts: (id, at, i) => ({
    type: "open", at, id, url: url + (i & 7), method: "GET", timeout: 0, headers: [], transport: "fetch",
    origin: "http://localhost:10086", accept: "application/json", contentType: "text/plain;charset=UTF-8", body: "string",
  }),
};

let id = 0;
let at = 0;
let sink = 0;
function run(shape, n) {
  const make = shapes[shape];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    id++;
    sink += m.step(make(id, at, i)).actions.length;
    sink += m.step({ type: "finish", at, id }).actions.length;
  }
  return ((performance.now() - t0) * 1000) / n;
}

run("bare", 2000);
run("facts", 2000);
const samples = { bare: [], facts: [] };
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 ? ["facts", "bare"] : ["bare", "facts"]) samples[s].push(run(s, calls));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const b = median(samples.bare);
const f = median(samples.facts);
console.log(`open + finish, µs per call (median of ${rounds} rounds of ${calls}):`);
console.log(`  bare event (before):      ${b.toFixed(2)}`);
console.log(`  with transport facts:     ${f.toFixed(2)}`);
console.log(`  ratio facts / bare:       ${(f / b).toFixed(3)}`);
if (sink < 0) console.log(sink);
