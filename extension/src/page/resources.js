// R13 in the browser: images, audio and video the preview loads. The
// browser reports every resource it fetched to a PerformanceObserver
// (asynchronously, in batches: nothing waits on the page's loads); the
// module judges each media URL as api "resource" (http, local hosts), and
// each record goes to the panel like a call's, where the background adds
// the R12 verdict of its https host (hostsim agent). A media URL is judged
// once per frame; of the https ones that pass, one per host is recorded,
// enough for its R12 verdict, so the panel is not flooded with every image.

// Resource Timing's initiator types for images, audio and video. CSS
// backgrounds come as "css", like fonts and imports, with nothing telling
// them apart, so they are not judged (README: what is not covered).
import { list, SafeSet, ArrayPrototypePush, ArrayPrototypeIncludes, RegExpTest, StringPrototypeStartsWith, DateNow, PromisePrototypeThen } from "./intrinsics.js";
import { when } from "./engine.js";

const MEDIA = list("img", "image", "video", "audio", "input");
const MAX_SEEN = 2000;

export function installResources(rt) {
  if (typeof PerformanceObserver !== "function") return;
  const seen = new SafeSet(); // URLs judged in this frame
  const hosts = new SafeSet(); // https origins recorded
  let pending = list(); // entries that came before the module was ready

  function judge(url, kind) {
    if (seen.has(url)) return;
    if (seen.size >= MAX_SEEN) seen.clear();
    seen.add(url);
    let d;
    try {
      // The extension-hosted module (strict-CSP pages) answers later.
      when(rt.engine.check({ __proto__: null, api: "resource", url }), (v) => record(url, kind, v), () => {});
    } catch (e) {
      return;
    }
  }

  function record(url, kind, d) {
    let origin = "";
    try { origin = new URL(url).origin; } catch (e) { /* judged invalid */ }
    if (d.allowed) {
      if (!StringPrototypeStartsWith(origin, "https:") || hosts.has(origin)) return;
      hosts.add(origin);
    }
    const record = {
      __proto__: null,
      id: `${rt.frameTag}-r${++rt.nextId}`, api: "resource", kind, method: "GET", url, frame: rt.frame, startedAt: DateNow(),
      state: "done", verdict: d.allowed ? "ok" : "fail", rule: d.rule || "", errMsg: "", proceeded: true,
      findings: d.allowed ? list() : list({ __proto__: null, rule: d.rule, severity: "error", message: d.message, fix: d.fix, console: "", list: "", entry: "" }),
      queuedMs: 0, durationMs: 0, status: 0, mode: rt.mode, transport: kind, tooling: false,
    };
    rt.emit(record);
  }

  function take(entries) {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (!ArrayPrototypeIncludes(MEDIA, e.initiatorType) || !RegExpTest(/^https?:/i, e.name)) continue;
      if (rt.state !== "ready" || !rt.active()) {
        if (rt.state === "loading" && pending.length < 500) ArrayPrototypePush(pending, list(e.name, e.initiatorType));
        continue;
      }
      judge(e.name, e.initiatorType);
    }
  }

  try {
    new PerformanceObserver((entries) => take(entries.getEntries())).observe({ __proto__: null, type: "resource", buffered: true });
  } catch (e) {
    return;
  }
  PromisePrototypeThen(rt.ready, () => {
    const p = pending;
    pending = list();
    if (rt.state === "ready" && rt.active()) for (let i = 0; i < p.length; i++) judge(p[i][0], p[i][1]);
  });
}
