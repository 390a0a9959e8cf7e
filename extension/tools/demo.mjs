// The browser demo (`go run ./build demo`): hostsim's fixture servers, the
// demo preview page with the built extension loaded in Chromium, every
// scenario run once, and what mpnet said about each call, printed and
// captured as screenshots. The extension is connected to the team service
// (dist/mpnet-team with the demo project), whose configuration it syncs
// and whose dashboard lists what the preview found.
//
//   node extension/tools/demo.mjs [--out DIR] [--headed]

import { mkdirSync } from "node:fs";
import path from "node:path";
import { startStack, openPreview, root, demoConfig, APPID } from "./harness.mjs";
import { startTeam, connectExtension, showTeam } from "./team.mjs";

const args = process.argv.slice(2);
const out = path.resolve(args.includes("--out") ? args[args.indexOf("--out") + 1] : path.join(root, "dist/demo"));
const headed = args.includes("--headed");
mkdirSync(out, { recursive: true });

const stack = await startStack({ headless: !headed, agent: true });
let team;
try {
  team = await startTeam(stack.dir, APPID, demoConfig(stack.fx));
  const ts = await connectExtension(stack, team);
  console.log(`team service ${team.url}: the extension synced project ${ts.appid}'s configuration (version ${ts.config.version})`);
  const page = await openPreview(stack);
  console.log(`demo preview ${stack.preview.url} with the mpnet extension (${stack.extensionId})`);
  const results = await page.evaluate(() => window.demo.runAll());
  await page.waitForTimeout(1500); // R12 reports from hostsim agent
  await page.screenshot({ path: path.join(out, "preview.png"), fullPage: true });
  const ext = await stack.context.newPage();
  await ext.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
  const tabId = await ext.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url && t.url.startsWith(url)).id, stack.preview.url);
  const records = await ext.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId);
  await ext.close();
  const panel = await stack.context.newPage();
  await panel.setViewportSize({ width: 1400, height: 900 });
  await panel.goto(`chrome-extension://${stack.extensionId}/ui/panel.html?tab=${tabId}`);
  await panel.waitForTimeout(1000);
  await panel.screenshot({ path: path.join(out, "panel.png") });

  console.log("\nscenario                              outcome in the preview (as on a phone)");
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(38)}${r.errMsg}${r.statusCode ? ` (${r.statusCode})` : ""}`);
  }
  console.log("\nwhat mpnet recorded (DevTools > mpnet shows each with its rule and fix)");
  for (const r of records) {
    if (r.verdict === "ok") continue;
    const url = r.url.replace(/:\d+\//, "/").slice(0, 58);
    console.log(`${r.verdict.toUpperCase().padEnd(5)} ${(r.rule || "").padEnd(4)} ${r.api.padEnd(14)}${url.padEnd(60)}${r.errMsg || ""}`);
  }
  const st = await page.evaluate(() => window.mpnet.status());
  console.log(`\nruntime: ${st.state}, mode ${st.mode}, Referer ${st.referer}`);
  console.log(`screenshots: ${path.relative(process.cwd(), out)}/preview.png, panel.png`);
  await showTeam(stack, team, out);
} finally {
  await stack.close();
  if (team) await team.stop();
}
