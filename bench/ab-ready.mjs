// ab-ready: the page runtime's ready time of two trees side by side, for
// judging one change (docs/BENCHMARKS.md, "Changes and their effect").
//
//   node bench/ab-ready.mjs --old <other checkout> [--warm 15] [--cold 7]
//
// The other checkout needs its own `go run ./build` (dist/mpnet.wasm) and
// node_modules, e.g. `git worktree add ../old <commit>`, then `npm ci` and
// `go run ./build` there. Warm: one browser per tree, reloads alternated
// between them. Cold: a fresh profile and browser per trial, trees
// alternated. Prints the medians of the runtime's timeline and their ratio.

import path from "node:path";
import { pathToFileURL } from "node:url";
import { existsSync } from "node:fs";
import { READY_PROBE, readyMarks } from "./lib/browser.mjs";

function parseArgs(argv) {
  const o = { old: "", warm: 15, cold: 7 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--old") o.old = path.resolve(next());
    else if (a === "--warm" || a === "--cold") {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: want a whole number, got ${argv[i]}`);
      o[a.slice(2)] = n;
    } else throw new Error(`unknown argument ${a} (usage: --old <checkout> [--warm N] [--cold N])`);
  }
  if (!o.old) throw new Error("--old <checkout> is required");
  for (const f of ["extension/tools/harness.mjs", "dist/mpnet.wasm", "node_modules"]) {
    if (!existsSync(path.join(o.old, f))) throw new Error(`${o.old} has no ${f}: build it there first (see the top of this file)`);
  }
  return o;
}

const KEYS = ["documentStart", "compileStarted", "asked", "init", "hello", "compiled", "instantiated", "configured", "ready"];
const mark = (m, k) => (k === "ready" ? m.ready : m.timings && m.timings[k]);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };

function report(title, res) {
  console.log(`${title} (median of ${res.old.length}, ms since navigation start)`);
  for (const k of KEYS) {
    const o = median(res.old.map((m) => mark(m, k)));
    const n = median(res.new.map((m) => mark(m, k)));
    console.log(`  ${k.padEnd(15)} old ${o.toFixed(1).padStart(6)}  new ${n.toFixed(1).padStart(6)}  ratio ${(n / o).toFixed(2)}`);
  }
}

async function open(harness) {
  const stack = await harness.startStack();
  await stack.context.addInitScript(READY_PROBE);
  const page = await stack.context.newPage();
  await page.goto(stack.preview.url);
  const m = await readyMarks(page);
  if (m.state !== "ready") throw new Error(`the runtime is ${m.state}, not ready`);
  return { stack, page, first: m };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const trees = {
    old: await import(pathToFileURL(path.join(o.old, "extension/tools/harness.mjs")).href),
    new: await import("../extension/tools/harness.mjs"),
  };
  if (o.warm > 0) {
    const open2 = {};
    try {
      for (const k of ["old", "new"]) open2[k] = await open(trees[k]);
      const res = { old: [], new: [] };
      for (let t = 0; t < o.warm; t++) {
        for (const k of ["old", "new"]) {
          await open2[k].page.reload();
          const m = await readyMarks(open2[k].page);
          if (m.state !== "ready") throw new Error(`${k}: the runtime is ${m.state}`);
          res[k].push(m);
        }
      }
      report("warm (reload)", res);
    } finally {
      for (const s of Object.values(open2)) await s.stack.close();
    }
  }
  if (o.cold > 0) {
    const res = { old: [], new: [] };
    for (let t = 0; t < o.cold; t++) {
      for (const k of ["old", "new"]) {
        const s = await open(trees[k]);
        try { res[k].push(s.first); } finally { await s.stack.close(); }
      }
    }
    report("cold (fresh profile)", res);
  }
}

main().catch((e) => { console.error(`ab-ready: ${e.message}`); process.exit(1); });
