import { startStack, openPreview } from "./extension/tools/harness.mjs";
import { storm } from "./bench/lib/storm.mjs";
import fs from "node:fs";
const stack = await startStack({});
try {
  const page = await openPreview(stack);
  await page.waitForFunction(() => window.mpnet && window.mpnet.status().state === "ready");
  await storm(page, { n: 300, mode: "batch10" });
  const cdp = await stack.context.newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  const r = await storm(page, { n: 1000, mode: "batch10" });
  const { profile } = await cdp.send("Profiler.stop");
  fs.writeFileSync("/tmp/prof/storm.cpuprofile", JSON.stringify(profile));
  console.log("storm ms", r.ms.toFixed(0));
} finally { await stack.close(); }
