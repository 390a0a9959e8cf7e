// Page load with and without the extension (measurement 2): on the demo
// preview and on a realistic app page (a Taro H5 app of about 1 MB of
// JavaScript, bundled at bench time from the real @tarojs/taro-h5 and
// @tarojs/components), the page's DOMContentLoaded and load, when mpnet's
// runtime is ready, and how long a call made at the page's first script and
// one made at DOMContentLoaded wait before they go out.
//
// Each page starts with the same inline script (FIRST_SCRIPT), the first
// thing the page runs: it makes one fetch at once and one in a
// DOMContentLoaded listener, each to a URL of its own on the valid fixture
// (allowed by the demo configuration). A call's wait is the time from the
// fetch() call to the moment the browser started the request (its Resource
// Timing entry's startTime): with mpnet, the time the runtime held it
// (waiting for ready, then the module's open step); without, ~0.

import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { root } from "./pages.mjs";

export const PAGES = ["demo", "taro"];

const FIRST_SCRIPT = `<script>(() => {
  const b = { calls: {} };
  Object.defineProperty(window, "__benchLoad", { value: b });
  const call = (tag) => {
    const url = String(window.FIXTURES.valid).replace(/\\/$/, "") + "/json?bench=" + tag + "-" + Math.random().toString(36).slice(2);
    const c = b.calls[tag] = { url, t: performance.now(), done: -1, error: "" };
    fetch(url).then((r) => r.text()).then(() => { c.done = performance.now(); }, (e) => { c.error = String(e); c.done = performance.now(); });
  };
  call("first");
  document.addEventListener("DOMContentLoaded", () => call("dcl"));
})();</script>`;

/**
 * taroAppJS bundles bench/page/taro-app.js with esbuild as a Taro dev build
 * would (unminified, process.env as Taro's H5 runner defines it), importing
 * every @tarojs/components element by name except the video players.
 * Answers the code.
 */
export async function taroAppJS() {
  const index = readFileSync(path.join(root, "node_modules/@tarojs/components/dist/components/index.js"), "utf8");
  const names = [...new Set([...index.matchAll(/defineCustomElement as (defineCustomElementTaro\w+Core)\b/g)].map((m) => m[1]))]
    .filter((n) => !/Video|LivePlayer/.test(n));
  if (names.length < 50) throw new Error(`@tarojs/components exports ${names.length} elements: not the package this benchmark expects`);
  const entry = `import { ${names.join(", ")} } from "@tarojs/components/dist/components";
import { start } from "./bench/page/taro-app.js";
start([${names.join(", ")}]);`;
  const out = await build({
    stdin: { contents: entry, resolveDir: root, loader: "js", sourcefile: "taro-entry.js" }, bundle: true, format: "iife", write: false,
    logLevel: "error", target: "chrome120", minify: false, legalComments: "none", absWorkingDir: root,
    define: { "process.env.NODE_ENV": '"development"', "process.env.TARO_ENV": '"h5"', "process.env.TARO_PLATFORM": '"web"', "process.env.FRAMEWORK": '"react"' },
  });
  return out.outputFiles[0].text;
}

/**
 * pageFiles answers the preview server's extra files for the two pages
 * (startStack({files})). The pages need the fixtures' URLs, known once the
 * stack runs: fillPages adds them then (the server looks files up per
 * request).
 */
export function pageFiles(taroJS) {
  return { "/bench/taro-app.js": { type: "text/javascript", body: taroJS } };
}

/** fillPages writes the two pages, with the stack's fixture URLs inline, into files. */
export function fillPages(files, fx) {
  const fixtures = `<script>window.FIXTURES = ${JSON.stringify(Object.fromEntries(fx.faults.map((f) => [f.name, f.url])))};</script>`;
  const head = `<meta charset="utf-8">${fixtures}${FIRST_SCRIPT}`;
  // The demo preview as it is, with the first script (and the fixtures
  // inline instead of fixtures.js, so that the first script can use them).
  const demo = readFileSync(path.join(root, "demo/preview/index.html"), "utf8")
    .replace(/<meta charset="utf-8">/, head).replace(/<script src="fixtures.js"><\/script>/, "").replace(/(href|src)="(?!\/)/g, '$1="/');
  if (!demo.includes("__benchLoad")) throw new Error("demo/preview/index.html changed: the benchmark could not add its first script");
  files["/bench/demo.html"] = { type: "text/html; charset=utf-8", body: demo };
  // The Taro app: its bundle in the head, deferred, as html-webpack-plugin
  // injects it in a Taro H5 build.
  files["/bench/taro.html"] = {
    type: "text/html; charset=utf-8",
    body: `<!doctype html><html><head>${head}<meta name="viewport" content="width=device-width,initial-scale=1"><title>Taro app</title>` +
      `<script defer src="/bench/taro-app.js"></script></head><body><div id="app"></div></body></html>`,
  };
  return files;
}

/** pageURL is the page's address on the stack's preview server. */
export function pageURL(preview, name) { return new URL(`bench/${name}.html`, preview.url).href; }

/**
 * loadMarks waits until the page has loaded and both calls are done (and,
 * with the extension, the runtime is ready), then answers {dcl, load,
 * waits: {first, dcl}, errors, ready?, timings?, state?, placement?} in ms
 * since navigation start.
 */
export async function loadMarks(page, { extension }) {
  await page.waitForFunction((ext) => {
    const n = performance.getEntriesByType("navigation")[0];
    const b = window.__benchLoad;
    if (!n || !(n.loadEventEnd > 0) || !b || !b.calls.dcl) return false;
    if (Object.values(b.calls).some((c) => c.done < 0)) return false;
    return !ext || (window.__benchReady && window.__benchReady.ready >= 0);
  }, extension, { timeout: 30000, polling: 50 });
  // With the hybrid engine: until the page's own module has taken over
  // (the runtime's timings then include "switched").
  if (extension) {
    await page.waitForFunction(() => !(window.mpnet && window.mpnet.status().switching), null, { timeout: 15000, polling: 50 }).catch(() => {});
  }
  return page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    const out = { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, waits: {}, errors: [] };
    for (const [tag, c] of Object.entries(window.__benchLoad.calls)) {
      const e = performance.getEntriesByName(c.url)[0];
      if (c.error || !e) out.errors.push(`${tag}: ${c.error || "no resource timing entry"}`);
      else out.waits[tag] = e.startTime - c.t;
    }
    const r = window.__benchReady;
    if (r) {
      const st = window.mpnet && window.mpnet.status();
      Object.assign(out, { ready: r.ready, timings: { ...(st && st.timings), ...r.timings }, state: r.state, placement: st && st.placement });
    }
    return out;
  });
}
