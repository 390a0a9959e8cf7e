// The machine a run measured: CPU, cores, memory, OS and tool versions.

import { readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import os from "node:os";

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 20000, ...opts }).trim();
  } catch (e) {
    return "";
  }
}

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch (e) { /* not Linux */ }
  return os.cpus()[0] ? os.cpus()[0].model : "unknown";
}

function osName() {
  let pretty = "";
  if (existsSync("/etc/os-release")) {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m) pretty = m[1];
  }
  return `${pretty || os.type()} (${os.type()} ${os.release()} ${os.arch()})`;
}

/** machineInfo describes this machine; chromium is the launched browser's version. */
export function machineInfo({ root, chromium = "", date = new Date().toISOString() } = {}) {
  const commit = run("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root });
  const dirty = commit && run("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root }) !== "";
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    node: process.version,
    chromium: chromium || run("/usr/bin/chromium", ["--version"]).replace(/^Chromium\s*/, ""),
    go: run("go", ["version"]).replace(/^go version\s*/, ""),
    date,
    commit: commit ? commit + (dirty ? " (uncommitted changes)" : "") : "",
  };
}
