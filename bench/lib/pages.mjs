// What the benchmarks load into pages: bundles (esbuild, in memory) and a
// loopback server for the module benchmark page.

import { build } from "esbuild";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pageDir = path.join(root, "bench/page");

/** bundleIIFE bundles one entry of bench/page for the browser; answers the code. */
export async function bundleIIFE(entry) {
  const r = await build({
    entryPoints: [path.join(pageDir, entry)], bundle: true, format: "iife", platform: "browser",
    target: "chrome120", write: false, minify: false, logLevel: "warning", legalComments: "none",
    absWorkingDir: root,
  });
  return r.outputFiles[0].text;
}

/** floorFetchScript is the pure-JS allowlist fetch wrapper for these hosts. */
export function floorFetchScript(hosts) {
  return readFileSync(path.join(pageDir, "floor-fetch.js"), "utf8").replace("/*HOSTS*/[]", JSON.stringify(hosts));
}

/** startModulePage serves the module benchmark page on http://127.0.0.1:PORT/. */
export async function startModulePage() {
  const js = await bundleIIFE("module-bench.js");
  const wasm = readFileSync(path.join(root, "dist/mpnet.wasm"));
  const server = createServer((req, res) => {
    const u = new URL(req.url, "http://127.0.0.1");
    if (u.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end('<!doctype html><meta charset="utf-8"><title>mpnet bench</title><script src="/bench.js"></script>');
    } else if (u.pathname === "/bench.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(js);
    } else if (u.pathname === "/mpnet.wasm") {
      res.writeHead(200, { "content-type": "application/wasm" });
      res.end(wasm);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/`, wasmBytes: wasm.length, close: () => new Promise((r) => server.close(r)) };
}
