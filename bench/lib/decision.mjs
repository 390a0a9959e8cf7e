// 1a/1c: decisions through the module in V8 (Chromium), next to a pure-JS
// allowlist check on the same URLs; and the module's start-up costs
// (compile, instantiate, first configure) measured alone in a page.

import { launchPlain } from "./browser.mjs";
import { startModulePage, root } from "./pages.mjs";
import { readFileSync } from "node:fs";
import path from "node:path";
import { demoConfig } from "../../extension/tools/harness.mjs";

// The configuration and URLs hostsim/bench_test.go decides (allowed,
// allowed, R2, R1, R3, C5), so that V8, wazero and native decide the same
// calls: one file, bench/decision.json.
const CASE = JSON.parse(readFileSync(path.join(root, "bench/decision.json"), "utf8"));
export const BENCH_URLS = CASE.urls;

/**
 * measureV8 answers {raw, api, step, floor: [µs per call, one per trial],
 * compile, again, instantiate, configure: [ms, one per trial], memory, chromium}.
 */
export async function measureV8(plan, cleanup) {
  const server = await startModulePage();
  const closeServer = cleanup.add(() => server.close());
  const browser = await launchPlain();
  const closeBrowser = cleanup.add(() => browser.close());
  try {
    const out = { raw: [], distinct: [], api: [], step: [], floor: [], compile: [], again: [], instantiate: [], configure: [], firstCall: [], secondCall: [], instantiate2: [], configure2: [], firstCall2: [], chromium: browser.version(), wasmBytes: server.wasmBytes };
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.evaluate((a) => window.__bench.setup(a), { wasmURL: "/mpnet.wasm", config: CASE.config });
    // Warm up until V8 has tiered the module's hot code up (dynamic tiering).
    await page.evaluate((a) => window.__bench.decisions(a), { urls: BENCH_URLS, config: CASE.config, n: plan.v8Calls, warmup: plan.v8Calls });
    for (let t = 0; t < plan.v8Trials; t++) {
      const r = await page.evaluate((a) => window.__bench.decisions(a), { urls: BENCH_URLS, config: CASE.config, n: plan.v8Calls, warmup: 50 });
      for (const k of ["raw", "distinct", "api", "step", "floor"]) out[k].push(r[k]);
    }
    await page.close();
    // Start-up costs, each trial in a fresh page and with bytes V8 has not
    // seen (a unique custom section), as a preview page's first load.
    for (let t = 0; t < plan.compileTrials; t++) {
      const p = await browser.newPage();
      await p.goto(server.url);
      const r = await p.evaluate((a) => window.__bench.compile(a), { wasmURL: "/mpnet.wasm", tag: `bench-${process.pid}-${Date.now()}-${t}`, config: demoConfig({}) });
      for (const k of ["compile", "again", "instantiate", "configure", "firstCall", "secondCall", "instantiate2", "configure2", "firstCall2"]) out[k].push(r[k === "compile" ? "fresh" : k]);
      out.memory = r.memory;
      await p.close();
    }
    return out;
  } finally {
    await closeBrowser();
    await closeServer();
  }
}
