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
const MEDIA = new Set(["img", "image", "video", "audio", "input"]);
const MAX_SEEN = 2000;

export function installResources(rt) {
  if (typeof PerformanceObserver !== "function") return;
  const seen = new Set(); // URLs judged in this frame
  const hosts = new Set(); // https origins recorded
  let pending = []; // entries that came before the module was ready

  function judge(url, kind) {
    if (seen.has(url)) return;
    if (seen.size >= MAX_SEEN) seen.clear();
    seen.add(url);
    let d;
    try {
      d = rt.engine.check({ api: "resource", url });
    } catch (e) {
      return;
    }
    // The extension-hosted module (strict-CSP pages) answers later.
    if (d && typeof d.then === "function") d.then((v) => record(url, kind, v), () => {});
    else record(url, kind, d);
  }

  function record(url, kind, d) {
    let origin = "";
    try { origin = new URL(url).origin; } catch (e) { /* judged invalid */ }
    if (d.allowed) {
      if (!origin.startsWith("https:") || hosts.has(origin)) return;
      hosts.add(origin);
    }
    const record = {
      id: `${rt.frameTag}-r${++rt.nextId}`, api: "resource", kind, method: "GET", url, frame: rt.frame, startedAt: Date.now(),
      state: "done", verdict: d.allowed ? "ok" : "fail", rule: d.rule || "", errMsg: "", proceeded: true,
      findings: d.allowed ? [] : [{ rule: d.rule, severity: "error", message: d.message, fix: d.fix, console: "", list: "", entry: "" }],
      queuedMs: 0, durationMs: 0, status: 0, mode: rt.mode, transport: kind, tooling: false,
    };
    rt.emit(record);
  }

  function take(entries) {
    for (const e of entries) {
      if (!MEDIA.has(e.initiatorType) || !/^https?:/i.test(e.name)) continue;
      if (rt.state !== "ready" || !rt.active()) {
        if (rt.state === "loading" && pending.length < 500) pending.push([e.name, e.initiatorType]);
        continue;
      }
      judge(e.name, e.initiatorType);
    }
  }

  try {
    new PerformanceObserver((list) => take(list.getEntries())).observe({ type: "resource", buffered: true });
  } catch (e) {
    return;
  }
  rt.ready.then(() => {
    const p = pending;
    pending = [];
    if (rt.state === "ready" && rt.active()) for (const [url, kind] of p) judge(url, kind);
  });
}
