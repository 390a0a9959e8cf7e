// 4: `hostsim audit` of large HARs: wall time and peak memory (max RSS).

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const TIME = "/usr/bin/time";

/**
 * auditOnce runs `dist/hostsim audit --json --config demo/mpnet.json HAR`
 * with its output to /dev/null; answers {wallS, maxRssMiB, exit, how}.
 * Max RSS comes from /usr/bin/time -v when present, else from polling
 * /proc/PID/status (VmHWM).
 */
export function auditOnce({ root, har }, cleanup) {
  const exe = path.join(root, "dist/hostsim");
  const args = ["audit", "--json", "--config", path.join(root, "demo/mpnet.json"), har];
  const useTime = existsSync(TIME);
  const [cmd, argv] = useTime ? [TIME, ["-v", exe, ...args]] : [exe, args];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    const stop = cleanup.add(() => { if (child.exitCode === null) child.kill("SIGKILL"); });
    let err = "";
    let hwm = 0;
    let poll = null;
    if (!useTime) {
      poll = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch (e) { /* exited */ }
      }, 5);
    }
    child.stderr.on("data", (d) => { err += d; if (err.length > 1 << 20) err = err.slice(-65536); });
    child.on("error", (e) => { stop(); reject(e); });
    child.on("exit", (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      stop();
      // hostsim audit exits 1 when something would fail on device (the mix
      // includes such calls); 2 is bad input.
      if (useTime) {
        const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
        const status = /Command exited with non-zero status (\d+)/.exec(err);
        const exit = status ? Number(status[1]) : code;
        if (exit > 1 || !rss) { reject(new Error(`hostsim audit exited ${exit}: ${err.slice(-1500)}`)); return; }
        resolve({ wallS, maxRssMiB: Number(rss[1]) / 1024, exit, how: "/usr/bin/time -v" });
      } else {
        if (code > 1) { reject(new Error(`hostsim audit exited ${code}: ${err.slice(-1500)}`)); return; }
        resolve({ wallS, maxRssMiB: hwm / 1024, exit: code, how: "/proc/PID/status VmHWM, polled every 5 ms" });
      }
    });
  });
}
