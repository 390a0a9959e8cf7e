// Chromium for the benchmarks: the plain browser (no extension) and the
// probes the pages run.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startStack } from "../../extension/tools/harness.mjs";

export const CHROMIUM = "/usr/bin/chromium";
export const BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
// What extension/tools/harness.mjs adds for the browser with the extension;
// the browser without it gets the same, so that the two differ only by the
// extension.
export const STACK_ARGS = ["--disable-sync", "--disable-quic", "--disable-renderer-backgrounding", "--disable-background-timer-throttling"];

/**
 * launchPlain launches Chromium without the extension, like the stack's: a
 * persistent profile of its own and the same flags (an ephemeral context
 * fetched ~10% faster in the storm than a profile on disk, which made the
 * comparison unfair) and the same init script (READY_PROBE) as the
 * browsers with the extension get. fx: the fixtures, to map *.mpnet.test to loopback.
 * Answers {context, newPage(), version(), close()}.
 */
export async function launchPlain(fx = null) {
  const dir = mkdtempSync(path.join(tmpdir(), "mpnet-bench-plain-"));
  const args = [...BASE_ARGS];
  if (fx) args.push(`--host-resolver-rules=${fx.hostResolverRules}, MAP *.mpnet.test 127.0.0.1`, ...STACK_ARGS);
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args, ignoreHTTPSErrors: true });
  // The same instrument as the browsers with the extension carry.
  await context.addInitScript(READY_PROBE);
  const first = context.pages()[0] || await context.newPage();
  const cdp = await context.newCDPSession(first);
  const { product } = await cdp.send("Browser.getVersion");
  await cdp.detach();
  let firstUsed = false;
  return {
    context,
    // The profile's first tab is handed out first, so no idle tab is left.
    newPage: async () => { if (!firstUsed) { firstUsed = true; return first; } return context.newPage(); },
    version: () => product.replace(/^[^/]*\//, ""),
    close: async () => {
      try { await context.close(); } finally { rmSync(dir, { recursive: true, force: true }); }
    },
  };
}

/**
 * uncoveredURL is url on an origin mpnet does not cover: 127.0.0.1 for the
 * stack's localhost, the same server. The extension is present there, none
 * of its scripts run in the page.
 */
export function uncoveredURL(url) {
  const out = url.replace("//localhost:", "//127.0.0.1:");
  if (out === url) throw new Error(`${url} is not on localhost: no uncovered twin`);
  return out;
}

/** openStack is startStack that also removes its temporary directory (profile, bundle) on close. */
export async function openStack() {
  const stack = await startStack();
  const close = stack.close;
  stack.close = async () => {
    try { await close.call(stack); } finally { rmSync(stack.dir, { recursive: true, force: true }); }
  };
  return stack;
}

// READY_PROBE runs as an init script in the preview page's MAIN world before
// the page's own scripts, in the browsers with the extension and, the same
// script, in the browser without it (launchPlain), so that both carry the
// same instrument. It touches nothing of the extension: it listens for the
// bridge's init message (its port handed to the page) and attaches to
// window.mpnet.ready() as soon as window.mpnet exists (the promise resolves
// exactly when the runtime is ready); "configured" is the runtime's own
// mark. It does not poll: an earlier probe polled mpnet.status() with
// setTimeout(0) until the runtime was configured, and that polling put the
// extension's DOMContentLoaded on the demo page 1.39x -> 1.92x behind the
// page without the extension (bench/README.md, "The probe").
// Every mark is performance.now(): milliseconds since navigation start.
export const READY_PROBE = `(() => {
  const m = { probe: performance.now(), initMsg: -1, configured: -1, ready: -1, state: "" };
  Object.defineProperty(window, "__benchReady", { value: m });
  let hooked = false;
  const hook = () => {
    if (hooked || !window.mpnet) return;
    hooked = true;
    window.mpnet.ready().then((s) => {
      m.ready = performance.now();
      m.state = s.state;
      m.timings = s.timings || {};
      m.configured = typeof m.timings.configured === "number" ? m.timings.configured : m.ready;
    });
  };
  hook();
  window.addEventListener("message", (e) => {
    if (m.initMsg < 0 && e.source === window && e.data && e.data.__mpnet === "init") { m.initMsg = performance.now(); hook(); }
  }, true);
  document.addEventListener("DOMContentLoaded", hook);
})();`;

/** readyMarks waits for the probe's ready mark and answers the marks with the page's navigation timing. */
export async function readyMarks(page) {
  await page.waitForFunction(() => window.__benchReady && window.__benchReady.ready >= 0, null, { timeout: 30000, polling: 50 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { ...window.__benchReady, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
}

/** navTiming answers DOMContentLoaded and load (ms since navigation start) once the page has loaded. */
export async function navTiming(page) {
  await page.waitForFunction(() => { const n = performance.getEntriesByType("navigation")[0]; return n && n.loadEventEnd > 0; }, null, { timeout: 30000, polling: 50 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
}
