// The team service for the browser tests and the demo: dist/mpnet-team on
// a SQLite file in a temporary directory, on a loopback port, with one
// project, its configuration and a member token.

import path from "node:path";
import { startProcess } from "./harness.mjs";

/** api calls the service with a token; resolves with {status, headers, body}. */
export async function api(base, token, method, p, body, headers = {}) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: "Bearer " + token, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: json, text };
}

/** serve runs dist/mpnet-team serve on db (startProcess) and resolves with {child, doc, close}. */
function serve(db, listen, appid) {
  return startProcess("mpnet-team", ["serve", "--db", db, "--listen", listen, "--project", appid, "--json", "--quiet"]);
}

/**
 * startTeam starts the service for appid with config (an mpnet.json
 * object) and resolves with its URL, the admin and a member token, and
 * stop/start to take it down and bring it back on the same port and
 * database (an outage).
 */
export async function startTeam(dir, appid, config) {
  const db = path.join(dir, "team.db");
  let { doc, close } = await serve(db, "127.0.0.1:0", appid);
  const url = doc.url;
  const admin = doc.projectAdminTokens[appid];
  const put = await api(url, admin, "PUT", `/v1/projects/${appid}/config?message=${encodeURIComponent("first version")}`, JSON.stringify(config, null, 2) + "\n");
  if (put.status !== 201) throw new Error(`PUT config: ${put.status} ${put.text}`);
  const tok = await api(url, admin, "POST", `/v1/projects/${appid}/tokens`, { name: "alice", role: "member" });
  if (tok.status !== 201) throw new Error(`POST token: ${tok.status} ${tok.text}`);
  const team = {
    url, appid, admin, member: tok.body.token, dashboard: `${url}/dashboard/`,
    async stop() {
      if (!close) return;
      const c = close;
      close = null;
      await c();
    },
    async start() {
      if (close) return;
      ({ close } = await serve(db, new URL(url).host, appid));
    },
    summary: async () => (await api(url, admin, "GET", `/v1/projects/${appid}/summary`)).body,
  };
  return team;
}

/**
 * connectExtension connects the stack's extension to the team service in
 * its options page, as a developer would, and resolves with the
 * background's team status.
 */
export async function connectExtension(stack, team) {
  const options = await stack.context.newPage();
  await options.goto(`chrome-extension://${stack.extensionId}/ui/options.html`);
  await options.fill("#teamURL", team.url);
  await options.fill("#teamToken", team.member);
  await options.click("#teamConnect");
  await options.waitForFunction((appid) => document.getElementById("teamStatus").innerText.includes(appid), team.appid, { timeout: 15000 });
  const status = await options.evaluate(() => chrome.runtime.sendMessage({ type: "teamGet" }));
  await options.close();
  return status;
}

/**
 * showTeam waits until the service has counted what the extension
 * reported, prints the project's summary as the dashboard shows it, and
 * screenshots the dashboard into out (English and Chinese).
 */
export async function showTeam(stack, team, out) {
  const end = Date.now() + 20000;
  let s = await team.summary();
  for (let last = -1; Date.now() < end; s = await team.summary()) {
    const n = s.violations.reduce((a, v) => a + v.count, 0);
    if (n > 0 && n === last) break; // the queue has drained
    last = n;
    await new Promise((r) => setTimeout(r, 1500));
  }
  console.log(`\nthe team service (${team.url}, project ${team.appid}, configuration version ${s.config ? s.config.version : "-"}):`);
  console.log(`release gate: ${s.gate.pass ? "PASS" : "FAIL"}; open violations by rule: ${Object.entries(s.openByRule).map(([r, n]) => `${r}=${n}`).join(" ") || "none"}`);
  for (const v of s.violations) console.log(`  ${v.open ? "open " : "fixed"} ${v.rule.padEnd(4)} ${v.list.padEnd(22)} ${(v.host || "(invalid URL)").padEnd(34)} ${String(v.count).padStart(4)} call(s), by ${v.reporters.map((r) => r.name).join(", ")}`);
  for (const [list, hosts] of Object.entries(s.hostsToAdd)) console.log(`  add to ${list}: ${hosts.join(", ")}`);
  const dash = await stack.context.newPage();
  await dash.setViewportSize({ width: 1300, height: 1000 });
  for (const lang of ["en", "zh_CN"]) {
    await dash.goto(`${team.dashboard}?lang=${lang}#token=${team.member}`);
    await dash.waitForFunction(() => document.getElementById("violations").innerText.length > 0, null, { timeout: 15000 });
    await dash.screenshot({ path: path.join(out, `dashboard-${lang}.png`), fullPage: true });
  }
  await dash.close();
  console.log(`dashboard: ${team.dashboard} (token: a member token; screenshots dashboard-en.png, dashboard-zh_CN.png)`);
}
