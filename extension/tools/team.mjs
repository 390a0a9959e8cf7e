// The team service for the browser tests and the demo: dist/mpnet-team on
// a SQLite file in a temporary directory, on a loopback port, with one
// project, its configuration and a member token.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { root } from "./harness.mjs";

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

function serve(db, listen, appid) {
  const exe = path.join(root, "dist/mpnet-team");
  if (!existsSync(exe)) throw new Error("dist/mpnet-team is missing: run go run ./build first");
  const child = spawn(exe, ["serve", "--db", db, "--listen", listen, "--project", appid, "--json", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    child.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      resolve({ child, doc: JSON.parse(out.slice(0, nl)) });
    });
    child.on("exit", (code) => reject(new Error(`mpnet-team exited ${code}: ${err}`)));
  });
}

/**
 * startTeam starts the service for appid with config (an mpnet.json
 * object) and resolves with its URL, the admin and a member token, and
 * stop/start to take it down and bring it back on the same port and
 * database (an outage).
 */
export async function startTeam(dir, appid, config) {
  const db = path.join(dir, "team.db");
  let { child, doc } = await serve(db, "127.0.0.1:0", appid);
  const url = doc.url;
  const admin = doc.projectAdminTokens[appid];
  const put = await api(url, admin, "PUT", `/v1/projects/${appid}/config?message=${encodeURIComponent("first version")}`, JSON.stringify(config, null, 2) + "\n");
  if (put.status !== 201) throw new Error(`PUT config: ${put.status} ${put.text}`);
  const tok = await api(url, admin, "POST", `/v1/projects/${appid}/tokens`, { name: "alice", role: "member" });
  if (tok.status !== 201) throw new Error(`POST token: ${tok.status} ${tok.text}`);
  const team = {
    url, appid, admin, member: tok.body.token, dashboard: `${url}/dashboard/`,
    async stop() {
      if (!child) return;
      const c = child;
      child = null;
      await new Promise((r) => { c.on("exit", r); c.kill("SIGTERM"); });
    },
    async start() {
      if (child) return;
      ({ child } = await serve(db, new URL(url).host, appid));
    },
    summary: async () => (await api(url, admin, "GET", `/v1/projects/${appid}/summary`)).body,
  };
  return team;
}
