// CPU time by process, from /proc (Linux): which Chromium process (page
// renderer, the extension's process, browser, network service), the fixture
// server and this Node process spent the CPU of a measurement.

import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

let HZ = 100;
try { HZ = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100; } catch (e) { /* default */ }

function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    return { pid, ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]), cmd };
  } catch (e) {
    return null; // exited
  }
}

/** available tells whether /proc can be read. */
export function available() {
  try { readFileSync("/proc/self/stat"); return true; } catch (e) { return false; }
}

/** snapshot answers every process visible in /proc: Map pid -> {ppid, ticks, cmd}. */
export function snapshot() {
  const m = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const p = readProc(Number(d));
    if (p) m.set(p.pid, p);
  }
  m.set("node", { ticks: ((process.cpuUsage().user + process.cpuUsage().system) / 1e6) * HZ });
  return m;
}

function kind(cmd) {
  if (!/--type=/.test(cmd)) return "browser process";
  if (/--type=renderer/.test(cmd)) return /--extension-process/.test(cmd) ? "extension process (service worker, bridge)" : "page renderer";
  if (/NetworkService/.test(cmd)) return "network service";
  if (/--type=gpu/.test(cmd)) return "gpu";
  return "other";
}

/**
 * usage answers the CPU milliseconds spent between two snapshots by every
 * Chromium this Node process started (both browsers: the idle one adds
 * little), the fixture server and this process, grouped by kind of process:
 * {total, byGroup: {"page renderer": ms, ...}}. Playwright enables CDP's
 * Network domain on every page, so its client sees an event per request:
 * that cost is in every variant alike.
 */
export function usage(before, after) {
  const children = new Map();
  for (const p of after.values()) {
    if (p.ppid === undefined) continue;
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(p);
  }
  const byGroup = {};
  const add = (g, p) => {
    const b = before.get(p.pid);
    const d = ((p.ticks - (b && b.cmd === p.cmd ? b.ticks : 0)) * 1000) / HZ;
    if (d > 0) byGroup[g] = (byGroup[g] || 0) + d;
  };
  for (const root of children.get(process.pid) || []) {
    if (/hostsim serve/.test(root.cmd)) { add("fixture server (hostsim serve)", root); continue; }
    if (!/chromium/.test(root.cmd)) continue;
    const stack = [root];
    while (stack.length) {
      const p = stack.pop();
      add(kind(p.cmd), p);
      stack.push(...(children.get(p.pid) || []));
    }
  }
  byGroup["Node (this process: Playwright client)"] = ((after.get("node").ticks - before.get("node").ticks) * 1000) / HZ;
  const total = Object.values(byGroup).reduce((s, x) => s + x, 0);
  return { total, byGroup };
}
