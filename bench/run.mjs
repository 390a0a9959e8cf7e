#!/usr/bin/env node
// mpnet's performance benchmark (issue 5): one command measures, side by
// side and in one run, the decision cost through the module (V8, wazero,
// native, a pure-JS floor), the page runtime's time to ready, the fetch
// interception overhead (against no interception, @mswjs/interceptors and
// a pure-JS floor), `hostsim audit` on a 100,000-entry HAR, memory, and
// the per-call cost of the module in the extension (strict-CSP pages)
// next to the module in the page.
//
//   node bench/run.mjs [--quick] [--out DIR]      (default DIR: dist/bench)
//
// Writes DIR/results.md and DIR/results.json. See bench/README.md.

import { existsSync, mkdtempSync, rmSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Cleanup } from "./lib/cleanup.mjs";
import { Results } from "./lib/report.mjs";
import { machineInfo } from "./lib/machine.mjs";
import { runGoBench } from "./lib/wazero.mjs";
import { measureV8 } from "./lib/decision.mjs";
import { writeHAR } from "./lib/har.mjs";
import { auditOnce } from "./lib/audit.mjs";
import { launchPlain, openStack, READY_PROBE, readyMarks, navTiming } from "./lib/browser.mjs";
import { openStormPages, storm, VARIANTS, MODES } from "./lib/storm.mjs";
import { jsHeapUsed, linearMemory } from "./lib/memory.mjs";
import { openPlacementPages, checks, fetches } from "./lib/placement.mjs";
import { median, summarize } from "./lib/stats.mjs";
import * as cpu from "./lib/cpu.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const PLANS = {
  quick: {
    goBenchtime: 2000, goCount: 3,
    v8Calls: 1000, v8Trials: 5, compileTrials: 3,
    auditBig: 100000, auditBigTrials: 1, auditSmall: 10000, auditSmallTrials: 3,
    coldTrials: 3, warmTrials: 5,
    stormN: 1000, stormTrials: 3,
    memTrials: 2,
    placeChecks: 300, placeFetches: 200, placeTrials: 3,
  },
  full: {
    goBenchtime: 20000, goCount: 5,
    v8Calls: 5000, v8Trials: 11, compileTrials: 7,
    auditBig: 100000, auditBigTrials: 3, auditSmall: 10000, auditSmallTrials: 5,
    coldTrials: 7, warmTrials: 15,
    stormN: 1000, stormTrials: 7,
    memTrials: 3,
    placeChecks: 1000, placeFetches: 500, placeTrials: 7,
  },
};

const USAGE = "usage: node bench/run.mjs [--quick] [--out DIR] [--only 1,2,3,4,5,6]";

function parseArgs(argv) {
  const o = { quick: false, out: path.join(root, "dist/bench"), only: new Set(["1", "2", "3", "4", "5", "6"]) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--out") {
      if (!argv[i + 1]) throw new Error("--out needs a directory");
      o.out = path.resolve(argv[++i]);
    } else if (a.startsWith("--out=")) o.out = path.resolve(a.slice(6));
    else if (a === "--only") {
      // A subset of the measurements, e.g. --only 2,3 (for working on the benchmark itself).
      o.only = new Set(String(argv[++i] || "").split(",").map((x) => x.trim()).filter(Boolean));
      if (![...o.only].every((x) => /^[1-6]$/.test(x)) || !o.only.size) throw new Error("--only wants a comma-separated list of 1-6");
    } else if (a === "-h" || a === "--help") {
      console.log(USAGE + "   (default DIR: dist/bench; see bench/README.md)");
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (${USAGE})`);
  }
  return o;
}

function log(msg) {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

const ms = (x) => `${x.toFixed(1)} ms`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const plan = opts.quick ? PLANS.quick : PLANS.full;
  const on = (n) => opts.only.has(String(n));
  for (const f of ["dist/mpnet.wasm", "dist/hostsim"]) {
    if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run \`go run ./build\` first`);
  }
  const cleanup = new Cleanup();
  let interrupted = false;
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n[bench] ${sig}: stopping browsers, servers and children`);
      await cleanup.all();
      process.exit(130);
    });
  }

  const started = new Date().toISOString();
  const data = {};
  const res = new Results();
  const tmp = mkdtempSync(path.join(tmpdir(), "mpnet-bench-"));
  cleanup.add(() => rmSync(tmp, { recursive: true, force: true }));
  let chromiumVersion = "";

  try {
    // 1b. wazero and native (no browser running, so nothing competes).
    if (on(1)) try {
      log(`1b: go test -bench (${plan.goBenchtime}x, count ${plan.goCount})`);
      data.go = await runGoBench({ root, benchtime: plan.goBenchtime, count: plan.goCount }, cleanup);
    } catch (e) { res.error("1b wazero/native", e); }

    // 1a/1c. V8, and the module's start-up costs alone.
    if (on(1) || on(2)) try {
      log(`1a/1c: decisions in Chromium (${plan.v8Trials} trials x ${plan.v8Calls} calls), compile x${plan.compileTrials}`);
      data.v8 = await measureV8(plan, cleanup);
      chromiumVersion = data.v8.chromium;
    } catch (e) { res.error("1a/1c V8", e); }

    // 4. hostsim audit.
    if (on(4)) try {
      log(`4: writing HARs (${plan.auditBig} and ${plan.auditSmall} entries)`);
      const warm = writeHAR(path.join(tmp, "warm.har"), 50);
      const small = writeHAR(path.join(tmp, "small.har"), plan.auditSmall);
      const big = writeHAR(path.join(tmp, "big.har"), plan.auditBig);
      // Make sure wazero's compilation cache is filled (the first run ever compiles the module).
      await auditOnce({ root, har: warm.file }, cleanup);
      data.audit = { small: [], big: [], smallHar: { entries: small.entries, bytes: small.bytes }, bigHar: { entries: big.entries, bytes: big.bytes, mix: big.mix } };
      for (let t = 0; t < Math.max(plan.auditBigTrials, plan.auditSmallTrials); t++) {
        if (t < plan.auditSmallTrials) {
          data.audit.small.push(await auditOnce({ root, har: small.file }, cleanup));
          log(`4: ${plan.auditSmall} entries: ${data.audit.small.at(-1).wallS.toFixed(2)} s`);
        }
        if (t < plan.auditBigTrials) {
          data.audit.big.push(await auditOnce({ root, har: big.file }, cleanup));
          log(`4: ${plan.auditBig} entries: ${data.audit.big.at(-1).wallS.toFixed(2)} s`);
        }
      }
      rmSync(big.file, { force: true });
    } catch (e) { res.error("4 audit", e); }

    // 2. Ready time, cold: a fresh stack (fixtures, extension bundle,
    // Chromium with a new profile) per trial, first navigation; the same
    // page in a freshly launched Chromium without the extension.
    if (on(2)) try {
      data.cold = { ext: [], plain: [] };
      for (let t = 0; t < plan.coldTrials; t++) {
        const stack = await openStack();
        const closeStack = cleanup.add(() => stack.close());
        try {
          await stack.context.addInitScript(READY_PROBE);
          const page = stack.context.pages()[0] || await stack.context.newPage();
          await page.goto(stack.preview.url);
          const marks = await readyMarks(page);
          if (marks.state !== "ready") throw new Error(`runtime state ${marks.state}`);
          data.cold.ext.push(marks);
          const plain = await launchPlain(stack.fx);
          const closePlain = cleanup.add(() => plain.close());
          try {
            const p = await plain.newPage();
            await p.goto(stack.preview.url);
            data.cold.plain.push(await navTiming(p));
          } finally { await closePlain(); }
        } finally { await closeStack(); }
        log(`2: cold ${t + 1}/${plan.coldTrials}: ready at ${ms(data.cold.ext.at(-1).ready)} (init message at ${ms(data.cold.ext.at(-1).initMsg)}), no-extension DOMContentLoaded ${ms(data.cold.plain.at(-1).dcl)}`);
      }
    } catch (e) { res.error("2 ready (cold)", e); }

    // 6. The module in the page against the module in the extension (a
    // page whose CSP forbids WebAssembly), in one browser, alternated.
    if (on(6)) try {
      const stack = await openStack();
      const closeStack = cleanup.add(() => stack.close());
      try {
        const pages = await openPlacementPages(stack);
        data.placement = { checks: { page: [], extension: [] }, fetches: { page: [], extension: [] } };
        for (const name of ["page", "extension"]) {
          await checks(pages[name], 200);
          await fetches(pages[name], 100);
        }
        for (let t = 0; t < plan.placeTrials; t++) {
          for (const name of t % 2 ? ["extension", "page"] : ["page", "extension"]) {
            data.placement.checks[name].push(await checks(pages[name], plan.placeChecks));
            data.placement.fetches[name].push(await fetches(pages[name], plan.placeFetches));
          }
        }
        log(`6: per check ${median(data.placement.checks.page).toFixed(1)} µs in the page, ${median(data.placement.checks.extension).toFixed(1)} µs in the extension; per fetch ${median(data.placement.fetches.page).toFixed(2)} / ${median(data.placement.fetches.extension).toFixed(2)} ms`);
      } finally { await closeStack(); }
    } catch (e) { res.error("6 placement", e); }

    // 2 (warm), 3 and 5 share one stack and one browser without the extension.
    if (on(2) || on(3) || on(5)) try {
      const stack = await openStack();
      const closeStack = cleanup.add(() => stack.close());
      const plain = await launchPlain(stack.fx);
      const closePlain = cleanup.add(() => plain.close());
      try {
        chromiumVersion = chromiumVersion || plain.version();
        const pages = await openStormPages(stack, plain);

        // 2. warm: reloads in the same browser.
        if (on(2)) try {
          data.warm = { ext: [], plain: [] };
          for (let t = 0; t < plan.warmTrials; t++) {
            await pages.extension.reload();
            const m = await readyMarks(pages.extension);
            if (m.state !== "ready") throw new Error(`runtime state ${m.state}`);
            data.warm.ext.push(m);
            await pages.none.reload();
            data.warm.plain.push(await navTiming(pages.none));
          }
          log(`2: warm: ready at ${ms(median(data.warm.ext.map((m) => m.ready)))} (median of ${plan.warmTrials} reloads)`);
        } catch (e) { res.error("2 ready (warm)", e); }

        // 5. memory, freshly loaded pages.
        if (on(5)) try {
          data.mem = { ext: [], plain: [], active: [], spare: [] };
          for (let t = 0; t < plan.memTrials; t++) {
            await pages.extension.reload();
            await readyMarks(pages.extension);
            const lm = await linearMemory(pages.extension);
            data.mem.active.push(lm.active);
            data.mem.spare.push(lm.spare);
            data.mem.ext.push(await jsHeapUsed(pages.extension));
            await pages.none.reload();
            await navTiming(pages.none);
            data.mem.plain.push(await jsHeapUsed(pages.none));
          }
          log(`5: JS heap ${median(data.mem.ext).toFixed(2)} MiB with the extension, ${median(data.mem.plain).toFixed(2)} MiB without`);
        } catch (e) { res.error("5 memory", e); }

        // 3. the storm. Warm-up (connections, TLS, JIT) first; it also
        // samples the extension's queue in the all-at-once variant.
        if (on(3)) try {
          data.storm = { warm: {} };
          for (const v of VARIANTS) {
            await storm(pages[v], { n: 200, mode: "batch10" });
            data.storm.warm[v] = await storm(pages[v], { n: v === "extension" ? plan.stormN : 200, mode: "all", sample: v === "extension" });
          }
          data.cpu = {};
          for (const mode of MODES) for (const v of VARIANTS) { data.storm[`${mode}:${v}`] = []; data.cpu[`${mode}:${v}`] = []; }
          const withCPU = cpu.available();
          for (let t = 0; t < plan.stormTrials; t++) {
            for (const mode of MODES) {
              // Rotate the order so no variant always runs first or last.
              const order = VARIANTS.map((_, i) => VARIANTS[(i + t) % VARIANTS.length]);
              for (const v of order) {
                const before = withCPU && cpu.snapshot();
                const r = await storm(pages[v], { n: plan.stormN, mode });
                if (withCPU) data.cpu[`${mode}:${v}`].push(cpu.usage(before, cpu.snapshot()));
                if (v === "extension" && r.opened !== plan.stormN) throw new Error(`the extension saw ${r.opened} of ${plan.stormN} fetches`);
                data.storm[`${mode}:${v}`].push(r.ms);
              }
            }
            log(`3: storm trial ${t + 1}/${plan.stormTrials}: ` + MODES.map((m) => `${m} ` + VARIANTS.map((v) => `${v} ${ms(data.storm[`${m}:${v}`].at(-1))}`).join(", ")).join(" | "));
          }
        } catch (e) { res.error("3 storm", e); }

        // 5. after the storms: the same page, no reload.
        if (on(5) && on(3) && data.mem) try {
          const after = await linearMemory(pages.extension);
          data.mem.activeAfterStorm = after.active;
          data.mem.extAfterStorm = await jsHeapUsed(pages.extension);
        } catch (e) { res.error("5 memory after the storms", e); }
      } finally {
        await closePlain();
        await closeStack();
      }
    } catch (e) { res.error("2 (warm) / 3 / 5: setting up the stack", e); }
  } finally {
    await cleanup.all();
  }

  const machine = machineInfo({ root, chromium: chromiumVersion, date: started });
  tabulate(res, data, plan);
  res.details = data;
  const finished = new Date().toISOString();
  res.write(opts.out, { machine, options: { quick: opts.quick, plan }, started, finished });
  console.log("\n" + readFileSync(path.join(opts.out, "results.md"), "utf8"));
  log(`wrote ${path.join(opts.out, "results.md")} and results.json`);
  if (res.errors.length) process.exitCode = 1;
}

/** tabulate turns the raw figures into the results table's rows. */
function tabulate(res, d, plan) {
  const T5us = { text: "≤ 5 µs", max: 5 };
  const S1 = "1. Decision through the module (50 domains per list, 6 URLs cycled: 2 allowed, R2, R1, R3, C5; \"distinct\": a new query string on every call)";
  if (d.v8) {
    const floor = { name: "pure-JS Set floor", samples: d.v8.floor };
    res.add({ id: "decision.v8.raw", section: S1, name: '1a check in V8: module.raw("check", bytes)', unit: "µs", samples: d.v8.raw, comparison: floor, target: T5us,
      note: `Chromium ${d.v8.chromium}, bundled wasm/loader.js in a page; ${plan.v8Calls} calls per trial timed with performance.now() after a warm-up of ${plan.v8Calls} (V8 tiers the module up from Liftoff to TurboFan).` });
    res.add({ id: "decision.v8.distinct", section: S1, name: '1a check in V8, distinct URLs: module.raw("check", bytes)', unit: "µs", samples: d.v8.distinct, comparison: floor, target: T5us,
      note: "No memo of the exact message can answer: allowed URLs are answered by their origin's memo, violations are judged and encoded in full." });
    res.add({ id: "decision.v8.api", section: S1, name: "1a check in V8: module.check(obj) (JSON encode + parse included)", unit: "µs", samples: d.v8.api, comparison: floor, target: T5us });
    res.add({ id: "decision.v8.openFinish", section: S1, name: "1a open + finish in V8: 2 × module.step(event) (as the page runtime calls it)", unit: "µs", samples: d.v8.step,
      target: { text: "≤ 10 µs (2 calls)", max: 10 } });
  }
  if (d.go) {
    res.add({ id: "decision.wazero.check", section: S1, name: "1b check in wazero: mpnet_check", unit: "µs", samples: d.go.CheckWasm,
      comparison: { name: "native Go", samples: d.go.CheckNative }, target: T5us,
      note: `\`${d.go.command}\`; each sample is one -count run's ns/op.` });
    res.add({ id: "decision.wazero.distinct", section: S1, name: "1b check in wazero, distinct URLs", unit: "µs", samples: d.go.CheckWasmDistinct,
      comparison: { name: "native Go, distinct URLs", samples: d.go.CheckNativeDistinct }, target: T5us });
    res.add({ id: "decision.wazero.openFinish", section: S1, name: "1b open + finish in wazero (2 calls)", unit: "µs", samples: d.go.OpenFinishWasm,
      comparison: d.v8 ? { name: "same in V8", samples: d.v8.step } : null, target: { text: "≤ 10 µs (2 calls)", max: 10 } });
    res.add({ id: "decision.native.check", section: S1, name: "1b floor: the same check, policy compiled natively (no wasm)", unit: "µs", samples: d.go.CheckNative,
      comparison: d.v8 ? { name: "pure-JS Set floor", samples: d.v8.floor } : null });
    res.add({ id: "decision.native.distinct", section: S1, name: "1b floor: the same, distinct URLs, natively", unit: "µs", samples: d.go.CheckNativeDistinct });
    res.add({ id: "decision.native.openFinish", section: S1, name: "1b floor: open + finish natively", unit: "µs", samples: d.go.OpenFinishNative });
  }
  if (d.v8) {
    res.add({ id: "decision.floor.js", section: S1, name: "1c floor: pure-JS exact-match allowlist (new URL + Set)", unit: "µs", samples: d.v8.floor,
      note: "The floor only checks scheme and exact host; it does not implement R3-R5, C5, the messages or the console line the module returns." });
  }

  const S2 = "2. Page runtime ready, from navigation start (demo preview, extension from extension/tools/harness.mjs)";
  // The stages of one navigation's way to ready, each in ms since navigation start.
  const stages = (key, label, marks) => {
    res.add({ id: `ready.${key}.documentStart`, section: S2, name: `… ${label}: document start (first script in the page runs)`, unit: "ms", samples: marks.map((m) => m.probe) });
    // The runtime's own milestones (mpnet.status().timings), ms since navigation start.
    for (const [k, what] of [["compileStarted", "the runtime (page.js, module embedded) has run: bytes decoded, compilation started"],
      ["asked", "the bridge asks the background for the configuration"], ["init", "the bridge's port reaches the runtime"], ["hello", "the configuration arrives from the background (bridge's hello)"],
      ["compiled", "the module is compiled"], ["instantiated", "an instance is running (pre-initialised snapshot)"], ["configured", "configured"]]) {
      const v = marks.map((m) => m.timings && m.timings[k]).filter((x) => typeof x === "number");
      if (v.length) res.add({ id: `ready.${key}.t.${k}`, section: S2, name: `… ${label}, runtime's timeline: ${what}`, unit: "ms", samples: v });
    }
    res.add({ id: `ready.${key}.referer`, section: S2, name: `… ${label}: Referer rule round trip to the background, skipped when the tab's rule is already right (configured → ready)`, unit: "ms", samples: marks.map((m) => m.ready - m.configured),
      note: "" });
  };
  if (d.cold && d.cold.ext.length) {
    const c = d.cold.ext;
    res.add({ id: "ready.cold", section: S2, name: "ready, cold profile (first navigation, fresh profile): mpnet.ready() resolved", unit: "ms", samples: c.map((m) => m.ready),
      comparison: d.cold.plain.length ? { name: "DOMContentLoaded without extension (fresh browser)", samples: d.cold.plain.map((m) => m.dcl) } : null,
      target: { text: "≤ 100 ms", max: 100 },
      note: "A fresh startStack() per trial (new profile, extension just installed, service worker running). Marks come from an init script in the page (MAIN world) that attaches to window.mpnet.ready() and listens for the bridge's init message; it changes nothing in the extension." });
    stages("cold", "cold", c);
  }
  if (d.warm && d.warm.ext.length) {
    const w = d.warm.ext;
    res.add({ id: "ready.warm", section: S2, name: "ready, warm (reload in the same browser): mpnet.ready() resolved", unit: "ms", samples: w.map((m) => m.ready),
      comparison: { name: "DOMContentLoaded without extension (reload)", samples: d.warm.plain.map((m) => m.dcl) }, target: { text: "≤ 30 ms", max: 30 } });
    stages("warm", "warm", w);
    res.add({ id: "ready.warm.dclWithExtension", section: S2, name: "DOMContentLoaded with the extension (reload)", unit: "ms", samples: w.map((m) => m.dcl),
      comparison: { name: "without", samples: d.warm.plain.map((m) => m.dcl) }, ratioKind: "overhead" });
  }
  if (d.v8) {
    res.add({ id: "module.compile", section: S2, name: "module compile alone: WebAssembly.compile(dist/mpnet.wasm)", unit: "ms", samples: d.v8.compile,
      note: `Fresh page per trial, bytes V8 has not compiled before (a unique custom section is appended, so its per-process module cache cannot answer). Compiling the same bytes again right away took ${ms(median(d.v8.again))} (median)${median(d.v8.again) < median(d.v8.compile) / 2 ? ": V8 answered from its cache" : ": no cache hit"}.` });
    res.add({ id: "module.instantiate", section: S2, name: "module instantiate + Go runtime start (MpnetModule.load of the compiled module)", unit: "ms", samples: d.v8.instantiate });
    res.add({ id: "module.configure", section: S2, name: "first configure on a fresh instance (the demo configuration)", unit: "ms", samples: d.v8.configure });
    const wasm = readFileSync(path.join(root, "dist/mpnet.wasm"));
    const gz = gzipSync(wasm, { level: 9 }).length;
    res.add({ id: "module.size", section: S2, name: "module size: dist/mpnet.wasm", unit: "MiB", samples: [wasm.length / 2 ** 20],
      comparison: { name: "gzip -9", samples: [gz / 2 ** 20] } });
  }

  const S3 = `3. Interception overhead: ${plan.stormN.toLocaleString("en-US")} fetches of the fixture server's https /json (allowed), first call to last body read`;
  if (d.storm && d.storm["batch10:none"] && d.storm["batch10:none"].length) {
    const label = { batch10: "batches of 10 awaited", all: "all at once" };
    // Per-trial ratios: the variants of one trial run back to back, so a
    // ratio within a trial is less exposed to the machine's drift.
    const paired = (mode, v) => {
      const r = d.storm[`${mode}:${v}`].map((x, i) => x / d.storm[`${mode}:none`][i]);
      const s = summarize(r.map((x) => (x - 1) * 100));
      return `Per-trial overhead ${s.median >= 0 ? "+" : ""}${s.median.toFixed(1)}% (${s.min.toFixed(1)}% to ${s.max.toFixed(1)}%)`;
    };
    for (const mode of MODES) {
      const base = { name: "no interception", samples: d.storm[`${mode}:none`] };
      const b = summarize(d.storm[`${mode}:none`]);
      res.add({ id: `storm.${mode}.none`, section: S3, name: `${label[mode]}: no interception (same page, Chromium without extension, own profile, same flags)`, unit: "ms", samples: d.storm[`${mode}:none`],
        note: `Spread of this baseline: ${(((b.max - b.min) / b.median) * 100).toFixed(0)}% of its median (min to max) — overheads smaller than that are within the noise of this machine.` });
      const w = d.storm.warm.extension || {};
      res.add({ id: `storm.${mode}.extension`, section: S3, name: `${label[mode]}: with the extension`, unit: "ms", samples: d.storm[`${mode}:extension`], comparison: base,
        ratioKind: "overhead", target: { text: "≤ +5%", max: 1.05, on: "ratio" },
        note: (mode === "all"
          ? `Not like for like: the extension carries out the client's queue (R7), so at most 10 requests are in flight (sampled in a warm-up storm: max ${w.maxInFlight} in flight, ${w.maxQueued} queued); without it Chromium sends all ${plan.stormN} at once over one HTTP/2 connection. `
          : "Each call: the page runtime's fetch wrapper, an open and a finish step through the module, records posted to the background, the Referer rule (declarativeNetRequest). ") + paired(mode, "extension") + "." });
      if (d.storm[`${mode}:uncovered`] && d.storm[`${mode}:uncovered`].length) {
        res.add({ id: `storm.${mode}.uncovered`, section: S3, name: `${label[mode]}: … of which the extension's mere presence: the same page on an origin mpnet does not cover, in the browser with the extension`, unit: "ms",
          samples: d.storm[`${mode}:uncovered`], comparison: base, ratioKind: "overhead",
          note: "No mpnet script runs in that page; the cost is Chromium's: an extension holding declarativeNetRequest (needed for the client's Referer, R8) routes every request through the browser process's rule matching. Measured separately: without that permission this row matched the baseline. " + paired(mode, "uncovered") + "." });
        res.add({ id: `storm.${mode}.ownJS`, section: S3, name: `${label[mode]}: … mpnet's own share: with the extension against the uncovered page`, unit: "ms",
          samples: d.storm[`${mode}:extension`], comparison: { name: "uncovered page", samples: d.storm[`${mode}:uncovered`] }, ratioKind: "overhead" });
      }
      res.add({ id: `storm.${mode}.msw`, section: S3, name: `${label[mode]}: @mswjs/interceptors FetchInterceptor, passthrough`, unit: "ms", samples: d.storm[`${mode}:msw`], comparison: base, ratioKind: "overhead",
        note: paired(mode, "msw") + "." });
      res.add({ id: `storm.${mode}.floor`, section: S3, name: `${label[mode]}: pure-JS allowlist wrapper (floor)`, unit: "ms", samples: d.storm[`${mode}:floor`], comparison: base, ratioKind: "overhead",
        note: paired(mode, "floor") + "." });
    }
    const extra = d.storm["batch10:extension"].map((x, i) => ((x - d.storm["batch10:none"][i]) * 1000) / plan.stormN);
    res.add({ id: "storm.batch10.extraPerCall", section: S3, name: "batches of 10: the extension's extra wall time per fetch (paired trials)", unit: "µs", samples: extra,
      comparison: d.v8 ? { name: "open + finish in V8", samples: d.v8.step } : null });
    if (d.cpu && d.cpu["batch10:none"].length) {
      const perFetch = (key, group) => d.cpu[key].map((u) => ((group ? u.byGroup[group] || 0 : u.total) * 1000) / plan.stormN);
      const cmpNone = (mode) => ({ name: "no interception", samples: perFetch(`${mode}:none`) });
      res.add({ id: "storm.cpu.batch10.none", section: S3, name: "CPU time per fetch, batches of 10: no interception (all processes)", unit: "µs", samples: perFetch("batch10:none"),
        note: "CPU time (user + system, from /proc) of every process taking part: both Chromiums' processes, the fixture server (hostsim serve) and this Node process (Playwright's client), divided by the number of fetches." });
      for (const v of ["extension", "msw", "floor"]) {
        res.add({ id: `storm.cpu.batch10.${v}`, section: S3, name: `CPU time per fetch, batches of 10: ${{ extension: "with the extension", msw: "msw passthrough", floor: "pure-JS floor" }[v]}`, unit: "µs", samples: perFetch(`batch10:${v}`), comparison: cmpNone("batch10") });
      }
      // Where the extension's CPU goes, by kind of process.
      const groups = new Set();
      for (const u of [...d.cpu["batch10:extension"], ...d.cpu["batch10:none"]]) Object.keys(u.byGroup).forEach((g) => groups.add(g));
      const total = median(perFetch("batch10:extension"));
      for (const g of [...groups].sort((x, y) => median(perFetch("batch10:extension", y)) - median(perFetch("batch10:extension", x)))) {
        const v = perFetch("batch10:extension", g);
        if (median(v) < total * 0.03) continue;
        res.add({ id: `storm.cpu.batch10.extension.${g.replace(/\W+/g, "_")}`, section: S3, name: `… with the extension, CPU in: ${g}`, unit: "µs", samples: v,
          comparison: { name: "no interception", samples: perFetch("batch10:none", g) } });
      }
      res.add({ id: "storm.cpu.all.extension", section: S3, name: "CPU time per fetch, all at once: with the extension", unit: "µs", samples: perFetch("all:extension"), comparison: cmpNone("all") });
    }
  }

  const S4 = "4. hostsim audit --json --config demo/mpnet.json of a generated Chromium HAR (output to /dev/null)";
  if (d.audit && d.audit.big.length) {
    const small = d.audit.small;
    const big = d.audit.big;
    const rssRatio = median(big.map((r) => r.maxRssMiB)) / median(small.map((r) => r.maxRssMiB));
    res.add({ id: "audit.100k.wall", section: S4, name: `${d.audit.bigHar.entries.toLocaleString("en-US")} entries (${(d.audit.bigHar.bytes / 2 ** 20).toFixed(0)} MiB): wall time`, unit: "s", samples: big.map((r) => r.wallS),
      comparison: { name: `${d.audit.smallHar.entries.toLocaleString("en-US")} entries`, samples: small.map((r) => r.wallS) }, target: { text: "< 5 s", max: 5, strict: true },
      note: `Entries shaped like demo/preview.har (xhr/fetch/image/websocket/script/stylesheet), calls 5-60 ms apart; the mix: ${Object.entries(d.audit.bigHar.mix).map(([k, v]) => `${k} ${v}`).join(", ")}. A ratio of 10x to the 10,000-entry HAR is linear scaling.` });
    res.add({ id: "audit.100k.rss", section: S4, name: `${d.audit.bigHar.entries.toLocaleString("en-US")} entries: max RSS`, unit: "MiB", samples: big.map((r) => r.maxRssMiB),
      comparison: { name: `${d.audit.smallHar.entries.toLocaleString("en-US")} entries`, samples: small.map((r) => r.maxRssMiB) },
      target: { text: "bounded (< 2x the 10k run for 10x the entries)", met: rssRatio < 2 }, note: `Measured with ${big[0].how}.` });
    res.add({ id: "audit.100k.perEntry", section: S4, name: "time per entry (100k run)", unit: "µs", samples: big.map((r) => (r.wallS * 1e6) / d.audit.bigHar.entries),
      comparison: d.go ? { name: "one check in wazero", samples: d.go.CheckWasm } : null });
  }

  const S5 = "5. Memory of the demo preview page (no target)";
  if (d.mem && d.mem.ext.length) {
    res.add({ id: "memory.jsHeap", section: S5, name: "JS heap used after forced GC (CDP JSHeapUsedSize), fresh load", unit: "MiB", samples: d.mem.ext,
      comparison: { name: "without extension", samples: d.mem.plain },
      note: "JSHeapUsedSize is the renderer isolate's heap (the page and the content scripts' worlds); it does not include ArrayBuffer backing stores such as the module's linear memory, reported separately." });
    if (d.mem.extAfterStorm !== undefined) res.add({ id: "memory.jsHeap.afterStorm", section: S5, name: "JS heap used after forced GC, after the storms", unit: "MiB", samples: [d.mem.extAfterStorm], comparison: { name: "fresh load", samples: d.mem.ext } });
    if (d.mem.active.length === d.mem.ext.length) {
      res.add({ id: "memory.total", section: S5, name: "JS heap + module linear memory (all instances), fresh load", unit: "MiB",
        samples: d.mem.ext.map((h, i) => h + d.mem.active[i] + (d.mem.spare[i] || 0)), comparison: { name: "JS heap without extension", samples: d.mem.plain } });
    }
    res.add({ id: "memory.linear.active", section: S5, name: "module linear memory, active instance (fresh load)", unit: "MiB", samples: d.mem.active });
    if (d.mem.activeAfterStorm !== undefined) res.add({ id: "memory.linear.activeAfterStorm", section: S5, name: "module linear memory, active instance after the storms", unit: "MiB", samples: [d.mem.activeAfterStorm], comparison: { name: "fresh load", samples: d.mem.active } });
    res.add({ id: "memory.linear.spare", section: S5, name: "module linear memory, spare instance (none: after a trap the runtime instantiates synchronously)", unit: "MiB", samples: d.mem.spare.filter((x) => x !== null) });
  }

  const S6 = "6. Where the module runs: in the page, or in the extension (a page whose CSP forbids WebAssembly)";
  if (d.placement) {
    res.add({ id: "placement.check.extension", section: S6, name: "one mpnet.check() (a module call and its answer), module in the extension (offscreen document, by messages)", unit: "µs",
      samples: d.placement.checks.extension, comparison: { name: "module in the page", samples: d.placement.checks.page },
      note: `${plan.placeChecks} sequential mpnet.check() calls per trial on the demo preview, once served with \`Content-Security-Policy: script-src 'self'\`; trials alternate the two pages. Every call's open step waits for one such round trip before it starts; later steps (response, finish) do not hold the call.` });
    res.add({ id: "placement.fetch.extension", section: S6, name: "one fetch in batches of 10 (the whole call), module in the extension", unit: "ms",
      samples: d.placement.fetches.extension, comparison: { name: "module in the page", samples: d.placement.fetches.page }, ratioKind: "overhead",
      note: `${plan.placeFetches} fetches of the valid fixture's /json per trial.` });
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
