// 3: a storm of fetches from the demo preview page to the fixture `valid`
// server's /json (https, listed in the demo configuration, so allowed), timed
// from the first call to the last body read, in four browsers' worth of
// pages: with the extension, without any interception, with
// @mswjs/interceptors' FetchInterceptor in passthrough mode, and with the
// pure-JS allowlist wrapper (the floor).

import { demoConfig } from "../../extension/tools/harness.mjs";
import { bundleIIFE, floorFetchScript } from "./pages.mjs";
import { READY_PROBE, readyMarks, navTiming, uncoveredURL } from "./browser.mjs";

export const VARIANTS = ["none", "extension", "uncovered", "msw", "floor"];
export const MODES = ["batch10", "all"];

/**
 * openStormPages opens the preview page once per variant: "extension" and
 * "uncovered" in the stack's browser, the others each in a page of the
 * browser without the extension. Answers {variant: page}.
 */
export async function openStormPages(stack, plain) {
  const pages = {};
  await stack.context.addInitScript(READY_PROBE);
  pages.extension = await stack.context.newPage();
  await pages.extension.goto(stack.preview.url);
  const marks = await readyMarks(pages.extension);
  if (marks.state !== "ready") throw new Error(`the extension's runtime is ${marks.state}, not ready`);

  // The same preview on an origin mpnet does not cover (127.0.0.1 instead
  // of localhost), in the browser with the extension: no content script
  // runs there, so its overhead is what merely having the extension costs.
  pages.uncovered = await stack.context.newPage();
  await pages.uncovered.goto(uncoveredURL(stack.preview.url));
  await navTiming(pages.uncovered);
  if (await pages.uncovered.evaluate(() => !!window.mpnet || !window.FIXTURES)) throw new Error("the uncovered page has mpnet's runtime, or no fixtures");

  const hosts = demoConfig({}).domains.request.map((d) => new URL(d).hostname);
  const scripts = { none: null, msw: await bundleIIFE("msw-fetch.js"), floor: floorFetchScript(hosts) };
  for (const [name, script] of Object.entries(scripts)) {
    const page = await plain.newPage();
    if (script) await page.addInitScript(script);
    await page.goto(stack.preview.url);
    await navTiming(page);
    const { which, patched } = await page.evaluate(() => ({ which: window.__benchInterceptor || "none", patched: !/\[native code\]/.test(String(window.fetch)) }));
    if (which !== name || patched !== (name !== "none")) throw new Error(`the ${name} page has interceptor ${which}, fetch ${patched ? "" : "not "}patched`);
    pages[name] = page;
  }
  return pages;
}

/**
 * storm fires n fetches: "batch10" awaits batches of 10, "all" starts all
 * at once. With latency, the server answers each after 20-50 ms (the valid
 * fixture's /slow?ms=N, N spread evenly over the calls), as a real API
 * server would rather than loopback. Answers {ms, opened (calls the
 * extension's runtime saw), bytes, maxQueued, maxInFlight (sampled every
 * 5 ms when sample is set)}.
 */
export function storm(page, { n, mode, sample = false, latency = false }) {
  return page.evaluate(async ({ n, mode, sample, latency }) => {
    const base = String(window.FIXTURES.valid).replace(/\/$/, "");
    const urlOf = latency ? (i) => `${base}/slow?ms=${20 + ((i * 7) % 31)}` : () => `${base}/json`;
    const opened = () => (window.mpnet ? window.mpnet.status().calls : 0);
    const opened0 = opened();
    let maxQueued = 0;
    let maxInFlight = 0;
    let timer = null;
    if (sample && window.mpnet) {
      timer = setInterval(() => {
        const s = window.mpnet.status();
        maxQueued = Math.max(maxQueued, s.queued);
        maxInFlight = Math.max(maxInFlight, s.inFlight);
      }, 5);
    }
    let bytes = 0;
    let next = 0;
    const one = () => fetch(urlOf(next++)).then((r) => {
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      return r.text();
    }).then((t) => { bytes += t.length; });
    const t0 = performance.now();
    if (mode === "batch10") {
      for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, one));
    } else {
      await Promise.all(Array.from({ length: n }, one));
    }
    const ms = performance.now() - t0;
    if (timer) clearInterval(timer);
    return { ms, bytes, opened: window.mpnet ? opened() - opened0 : null, maxQueued, maxInFlight };
  }, { n, mode, sample, latency });
}
