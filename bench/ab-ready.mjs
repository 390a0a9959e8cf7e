// ab-ready: two trees side by side, for judging one change to the page's
// load path or to the per-call cost (docs/BENCHMARKS.md, "Changes and their
// effect"). The other tree's extension (its harness, bundle and module)
// against this one's, trials alternated, in one run:
//
//   node bench/ab-ready.mjs --old <other checkout> [--warm 15] [--cold 5]
//        [--pages demo,taro] [--storm 0] [--latency 0] [--n 1000]
//        [--write docs/BENCHMARKS.md] [--old-rev REV]
//
// - warm: reloads of each page (bench/lib/pageload.mjs: the demo preview and
//   the bundled Taro app) in one browser per tree, and in a browser without
//   the extension: DOMContentLoaded and its ratio to the page without
//   mpnet, when the runtime is ready, the wait of a call made at the first
//   script and at DOMContentLoaded, the runtime's timeline. Each tree's
//   browser also reloads the page on an origin mpnet does not cover
//   (127.0.0.1): the extension is present, none of its scripts run in the
//   page, so covered / uncovered is mpnet's own share of the load. The five
//   kinds of trial take turns in balanced orders (balancedOrders); a
//   multiple of 10 reloads completes the design.
// - cold: the same on a fresh profile and browser per trial.
// - storm (--storm N trials): 1,000 fetches in batches of 10 from the demo
//   preview (covered) and the same page on an uncovered origin, in each
//   tree's browser, and the page in a browser without the extension:
//   mpnet's own share (covered / uncovered) and the whole extension's
//   (covered / without) per tree, per-trial ratios.
// - --latency N: the same storm, N trials, with each response delayed
//   20-50 ms (the valid fixture's /slow), as a real API server answers.
// - --write FILE: the rows, as a Markdown table, replace the part of FILE
//   between "<!-- ab-ready:begin -->" and "<!-- ab-ready:end -->" (the
//   bench's section of docs/BENCHMARKS.md).
//
// The other checkout needs its own `go run ./build` (dist/mpnet.wasm) and
// node_modules, e.g. `git worktree add ../old <commit>`, then `npm ci` and
// `go run ./build` there.

import path from "node:path";
import { pathToFileURL } from "node:url";
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { execFileSync } from "node:child_process";
import { READY_PROBE, launchPlain, uncoveredURL } from "./lib/browser.mjs";
import { PAGES, taroAppJS, pageFiles, fillPages, pageURL, loadMarks } from "./lib/pageload.mjs";
import { storm } from "./lib/storm.mjs";
import { median } from "./lib/stats.mjs";

function parseArgs(argv) {
  const o = { old: "", oldRev: "", warm: 15, cold: 5, pages: PAGES, storm: 0, latency: 0, n: 1000, write: "" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--old") o.old = path.resolve(next());
    else if (a === "--write") o.write = path.resolve(next());
    else if (a === "--old-rev") o.oldRev = next();
    else if (a === "--warm" || a === "--cold" || a === "--storm" || a === "--latency" || a === "--n") {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: want a whole number, got ${argv[i]}`);
      o[a.slice(2)] = n;
    } else if (a === "--pages") {
      o.pages = next().split(",").filter(Boolean);
      for (const p of o.pages) if (!PAGES.includes(p)) throw new Error(`--pages: ${p} is not one of ${PAGES.join(", ")}`);
    } else throw new Error(`unknown argument ${a} (usage: --old <checkout> [--warm N] [--cold N] [--pages demo,taro] [--storm N] [--latency N] [--n N] [--write FILE])`);
  }
  if (!o.old) throw new Error("--old <checkout> is required");
  for (const f of ["extension/tools/harness.mjs", "dist/mpnet.wasm", "node_modules"]) {
    if (!existsSync(path.join(o.old, f))) throw new Error(`${o.old} has no ${f}: build it there first (see the top of this file)`);
  }
  return o;
}

const TREES = ["old", "new"];

// balancedOrders answers the orders in which one round of trials loads each
// kind of page: a Williams design, where each kind follows each other kind
// equally often over the rounds (for an odd count, the square and its
// mirror). A fixed or merely alternated order let what one browser still
// did after its trial (its module host preparing the next instance, its
// records, its storage writes) fall on the trial that followed it: with
// ["plain", "old", "new"] / ["new", "old", "plain"] an extension's trial
// always followed an extension's trial, and the page without the extension
// never followed the old tree (docs/RATIONALE.md, "Page load measured
// again").
function balancedOrders(kinds) {
  const n = kinds.length;
  const first = [0];
  for (let i = 1, lo = 1, hi = n - 1; i < n; i++) first.push(i % 2 ? lo++ : hi--);
  const rows = [];
  for (let r = 0; r < n; r++) rows.push(first.map((x) => kinds[(x + r) % n]));
  if (n % 2) for (let r = 0; r < n; r++) rows.push([...rows[r]].reverse());
  return rows;
}
const TIMELINE = ["documentStart", "init", "hello", "compiled", "instantiated", "configured", "ready", "localAsked", "bytes", "warmed", "switched"];
const f1 = (x) => (x === undefined || x === null || Number.isNaN(x) ? "     –" : x.toFixed(1).padStart(6));

// rows: what --write puts in the table, in the order measured.
const rows = [];
const fmt = (x) => (x === undefined || x === null || Number.isNaN(x) ? "–" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) + "x" : "–");

function row(title, label, o, n, plain) {
  const mo = median(o);
  const mn = median(n);
  const mp = plain ? median(plain) : null;
  let s = `  ${label.padEnd(26)} old ${f1(mo)}  new ${f1(mn)}  new/old ${mo ? (mn / mo).toFixed(2) : "  – "}`;
  if (mp) s += `   without mpnet ${f1(mp)}  old/without ${(mo / mp).toFixed(2)}  new/without ${(mn / mp).toFixed(2)}`;
  console.log(s);
  rows.push([title, label, `${fmt(mo)} ms`, `${fmt(mn)} ms`, ratio(mn, mo), mp ? `${fmt(mp)} ms` : "", mp ? ratio(mo, mp) : "", mp ? ratio(mn, mp) : "", String(n.length)]);
}

function report(title, res) {
  console.log(`${title} (median of ${res.new.length}, ms since navigation start)`);
  const get = (k, f) => res[k].map(f).filter((x) => typeof x === "number");
  const plain = res.plain.map((m) => m.dcl);
  row(title, "DOMContentLoaded", get("old", (m) => m.dcl), get("new", (m) => m.dcl), plain);
  if (res["uncovered-new"]) {
    // The same page, in each tree's browser, on an origin mpnet does not
    // cover: what the extension's mere presence costs the load; and the
    // share of mpnet's own scripts (covered / uncovered, same browser).
    const u = { old: res["uncovered-old"].map((m) => m.dcl), new: res["uncovered-new"].map((m) => m.dcl) };
    row(title, "DCL, uncovered origin", u.old, u.new, plain);
    const own = (k) => median(get(k, (m) => m.dcl)) / median(u[k]);
    console.log(`  ${"own share (cov/uncov)".padEnd(26)} old ${own("old").toFixed(2)}x new ${own("new").toFixed(2)}x`);
    rows.push([title, "mpnet's scripts' own share: covered / uncovered origin, same browser", own("old").toFixed(2) + "x", own("new").toFixed(2) + "x", "", "", "", "", String(u.new.length)]);
  }
  row(title, "load", get("old", (m) => m.load), get("new", (m) => m.load), res.plain.map((m) => m.load));
  row(title, "ready (against DCL without)", get("old", (m) => m.ready), get("new", (m) => m.ready), plain);
  row(title, "wait: call at first script", get("old", (m) => m.waits.first), get("new", (m) => m.waits.first), null);
  row(title, "wait: call at DCL", get("old", (m) => m.waits.dcl), get("new", (m) => m.waits.dcl), null);
  for (const k of TIMELINE) {
    const o = get("old", (m) => m.timings && m.timings[k]);
    const n = get("new", (m) => m.timings && m.timings[k]);
    if (o.length || n.length) row(title, `timeline: ${k}`, o, n, null);
  }
  const errors = Object.values(res).flat().flatMap((m) => m.errors);
  if (errors.length) console.log(`  calls that failed: ${[...new Set(errors)].join("; ")}`);
}

// write replaces the bench's section of a Markdown file with the rows.
function write(file, o, head) {
  const begin = "<!-- ab-ready:begin -->";
  const end = "<!-- ab-ready:end -->";
  const text = readFileSync(file, "utf8");
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no "${begin}" ... "${end}" section to write into`);
  const args = process.argv.slice(2).map((x) => (x === o.old ? "<main checkout>" : x === o.write ? path.relative(process.cwd(), x) : x)).join(" ");
  const table = [
    head,
    "",
    "`node bench/ab-ready.mjs " + args + "`; medians, n per tree; \"old\" is the other checkout, \"new\" this tree, \"without\" a browser without the extension, alternated with them. Times in ms from navigation start; ratios from the same run.",
    "",
    "| page, start | measurement | old | new | new/old | without | old/without | new/without | n |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => "| " + r.join(" | ") + " |"),
  ].join("\n");
  writeFileSync(file, text.slice(0, a + begin.length) + "\n" + table + "\n" + text.slice(b));
  console.log(`wrote ${rows.length} rows to ${file}`);
}

async function openTree(harness, files) {
  const stack = await harness.startStack({ files });
  fillPages(files, stack.fx);
  await stack.context.addInitScript(READY_PROBE);
  return stack;
}

// openPlain: the browser without the extension, with preview and fixture
// servers of its own (the new tree's), so that no tree's servers serve two
// browsers: when it loaded its pages from the "new" stack's servers, an A/A
// run (one commit in both slots) measured the "new" slot 1.29-1.44x slower
// to its first content script (docs/BENCHMARKS.md).
async function openPlain(harness, files) {
  const dir = mkdtempSync(path.join(tmpdir(), "mpnet-bench-plain-servers-"));
  const fx = await harness.startFixtures(dir);
  const preview = await harness.startPreview(fx, files);
  fillPages(files, fx);
  const browser = await launchPlain(fx);
  return {
    fx, preview, browser,
    newPage: () => browser.newPage(),
    async close() {
      await browser.close();
      await preview.close();
      await fx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const harness = {
    old: await import(pathToFileURL(path.join(o.old, "extension/tools/harness.mjs")).href),
    new: await import("../extension/tools/harness.mjs"),
  };
  const taro = await taroAppJS();
  console.log(`Taro app: ${(taro.length / 1e6).toFixed(2)} MB of JavaScript`);

  if (o.warm > 0) {
    const stacks = {};
    let plain = null;
    try {
      for (const k of TREES) stacks[k] = await openTree(harness[k], pageFiles(taro));
      plain = await openPlain(harness.new, pageFiles(taro));
      // "uncovered-old", "uncovered-new": the same page on an origin mpnet
      // does not cover (127.0.0.1 instead of localhost) in each tree's
      // browser: the extension is there, none of mpnet's scripts run in the
      // page. Each browser holds two tabs, so that neither is favoured.
      const tabs = { old: {}, new: {}, plain: {}, "uncovered-old": {}, "uncovered-new": {} };
      const covered = (k) => k === "old" || k === "new";
      for (const p of o.pages) {
        for (const k of TREES) {
          tabs[k][p] = await stacks[k].context.newPage();
          await tabs[k][p].goto(pageURL(stacks[k].preview, p));
          await loadMarks(tabs[k][p], { extension: true });
        }
        tabs.plain[p] = await plain.newPage();
        await tabs.plain[p].goto(pageURL(plain.preview, p));
        await loadMarks(tabs.plain[p], { extension: false });
        for (const k of TREES) {
          const u = tabs["uncovered-" + k][p] = await stacks[k].context.newPage();
          await u.goto(uncoveredURL(pageURL(stacks[k].preview, p)));
          await loadMarks(u, { extension: false });
          if (await u.evaluate(() => !!window.mpnet)) throw new Error("the uncovered page has mpnet's runtime");
        }
      }
      for (const p of o.pages) {
        const res = { old: [], new: [], plain: [], "uncovered-old": [], "uncovered-new": [] };
        const orders = balancedOrders(Object.keys(res));
        for (let t = 0; t < o.warm; t++) {
          for (const k of orders[t % orders.length]) {
            await tabs[k][p].reload();
            res[k].push(await loadMarks(tabs[k][p], { extension: covered(k) }));
          }
        }
        report(`${p}, warm (reload)`, res);
      }
    } finally {
      if (plain) await plain.close();
      for (const s of Object.values(stacks)) await s.close();
    }
  }

  if (o.cold > 0) {
    for (const p of o.pages) {
      const res = { old: [], new: [], plain: [] };
      for (let t = 0; t < o.cold; t++) {
        for (const k of t % 2 ? ["new", "old"] : ["old", "new"]) {
          const s = await openTree(harness[k], pageFiles(taro));
          try {
            const page = s.context.pages()[0] || await s.context.newPage();
            await page.goto(pageURL(s.preview, p));
            res[k].push(await loadMarks(page, { extension: true }));
            if (k === "new") {
              const b = await launchPlain(s.fx);
              try {
                const q = await b.newPage();
                await q.goto(pageURL(s.preview, p));
                res.plain.push(await loadMarks(q, { extension: false }));
              } finally { await b.close(); }
            }
          } finally { await s.close(); }
        }
      }
      report(`${p}, cold (fresh profile)`, res);
    }
  }

  for (const [trials, latency] of [[o.storm, false], [o.latency, true]]) {
    if (trials > 0) await stormAB(harness, o, trials, latency);
  }

  if (o.write) {
    const rev = (dir) => { try { return execFileSync("git", ["-C", dir, "rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).trim(); } catch { return "?"; } };
    write(o.write, o, `${new Date().toISOString()} · old ${o.oldRev || rev(o.old)} · new ${rev(".")}${rev(".") === "?" ? "" : " + working tree"}`);
  }
}

// stormAB: 1,000 fetches in batches of 10, per tree: the covered preview,
// the same page on an uncovered origin in the same browser, and the page in
// a browser without the extension; trials alternated.
async function stormAB(harness, o, trials, latency) {
  const stacks = {};
  let plainBrowser = null;
  try {
    const pages = {};
    for (const k of TREES) {
      stacks[k] = await harness[k].startStack();
      const covered = await harness[k].openPreview(stacks[k]);
      const uncovered = await stacks[k].context.newPage();
      await uncovered.goto(uncoveredURL(stacks[k].preview.url));
      pages[k] = { covered, uncovered };
    }
    plainBrowser = await openPlain(harness.new, {});
    const plain = await plainBrowser.newPage();
    await plain.goto(plainBrowser.preview.url);
    for (const k of TREES) for (const v of ["covered", "uncovered"]) await storm(pages[k][v], { n: 200, mode: "batch10", latency });
    await storm(plain, { n: 200, mode: "batch10", latency });
    const own = { old: [], new: [] };
    const whole = { old: [], new: [] };
    const ms = { old: { covered: [], uncovered: [] }, new: { covered: [], uncovered: [] }, plain: [] };
    for (let t = 0; t < trials; t++) {
      const p = (await storm(plain, { n: o.n, mode: "batch10", latency })).ms;
      ms.plain.push(p);
      for (const k of t % 2 ? ["new", "old"] : ["old", "new"]) {
        const r = {};
        for (const v of t % 2 ? ["uncovered", "covered"] : ["covered", "uncovered"]) {
          r[v] = (await storm(pages[k][v], { n: o.n, mode: "batch10", latency })).ms;
          ms[k][v].push(r[v]);
        }
        own[k].push(r.covered / r.uncovered);
        whole[k].push(r.covered / p);
      }
      console.log(`storm ${t + 1}/${trials}: without ${p.toFixed(0)} | ` + TREES.map((k) => `${k} covered ${ms[k].covered.at(-1).toFixed(0)} uncovered ${ms[k].uncovered.at(-1).toFixed(0)}`).join(" | "));
    }
    const title = `storm, ${o.n} fetches in batches of 10, ${latency ? "20-50 ms per response" : "loopback"}`;
    console.log(`${title} (median of ${trials})`);
    const pct = (x) => `${((median(x) - 1) * 100).toFixed(1)}%`;
    for (const k of TREES) {
      console.log(`  ${k}: covered ${median(ms[k].covered).toFixed(0)} ms, uncovered ${median(ms[k].uncovered).toFixed(0)} ms, without ${median(ms.plain).toFixed(0)} ms; mpnet's own share (covered/uncovered) ${pct(own[k])}, whole extension (covered/without) ${pct(whole[k])}`);
    }
    const pr = (label, o2, n2) => rows.push([title, label, o2, n2, "", "", "", "", String(trials)]);
    pr("covered page (ms)", `${fmt(median(ms.old.covered))} ms`, `${fmt(median(ms.new.covered))} ms`);
    pr("uncovered page, same browser (ms)", `${fmt(median(ms.old.uncovered))} ms`, `${fmt(median(ms.new.uncovered))} ms`);
    rows.push([title, "without the extension (ms)", "", "", "", `${fmt(median(ms.plain))} ms`, "", "", String(trials)]);
    pr("mpnet's own share: covered / uncovered - 1 (per-trial)", pct(own.old), pct(own.new));
    pr("whole extension: covered / without - 1 (per-trial)", pct(whole.old), pct(whole.new));
  } finally {
    if (plainBrowser) await plainBrowser.close();
    for (const s of Object.values(stacks)) await s.close();
  }
}

main().catch((e) => { console.error(`ab-ready: ${e.stack || e.message}`); process.exit(1); });
