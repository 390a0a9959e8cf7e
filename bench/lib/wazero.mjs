// 1b: the module under wazero and the policy compiled natively, through the
// Go benchmarks that already exist (hostsim/bench_test.go).

import { spawn } from "node:child_process";
import path from "node:path";

/** runGoBench answers {CheckWasm: [µs/op per -count], CheckNative, CheckWasmDistinct, CheckNativeDistinct, OpenFinishWasm, OpenFinishNative: [...], command}. */
export function runGoBench({ root, benchtime, count }, cleanup) {
  const args = ["test", "-run", "x", "-bench", "CheckWasm|CheckNative|OpenFinish", "-benchtime", `${benchtime}x`, "-count", String(count), "./hostsim/"];
  const env = { ...process.env, MPNET_WASM: path.join(root, "dist/mpnet.wasm") };
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    // go test runs the test binary as its own child: stop the whole group.
    const stop = cleanup.add(() => { if (child.exitCode === null) try { process.kill(-child.pid, "SIGTERM"); } catch (e) { /* gone */ } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    child.on("error", (e) => { stop(); reject(e); });
    child.on("exit", (code) => {
      stop();
      if (code !== 0) { reject(new Error(`go ${args.join(" ")} exited ${code}: ${(err || out).slice(-2000)}`)); return; }
      const res = { CheckWasm: [], CheckNative: [], CheckWasmDistinct: [], CheckNativeDistinct: [], OpenFinishWasm: [], OpenFinishNative: [], command: `MPNET_WASM=dist/mpnet.wasm go ${args.join(" ")}`, allocs: {} };
      for (const line of out.split("\n")) {
        const m = /^Benchmark(\w+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns\/op(?:\s+([\d.]+) B\/op\s+([\d.]+) allocs\/op)?/.exec(line);
        if (m && res[m[1]]) {
          res[m[1]].push(Number(m[3]) / 1000);
          if (m[4]) res.allocs[m[1]] = { bytesPerOp: Number(m[4]), allocsPerOp: Number(m[5]) };
        }
      }
      if (!res.CheckWasm.length || !res.CheckNative.length) { reject(new Error("no benchmark figures in go test's output:\n" + out.slice(-2000))); return; }
      resolve(res);
    });
  });
}
