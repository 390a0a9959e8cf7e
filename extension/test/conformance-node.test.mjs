// The conformance vectors on the built module through the JS loader, in
// Node (the same loader and runner run in Chromium in e2e.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { MpnetModule } from "../../wasm/loader.js";
import { runVectors, match } from "../../conformance/run.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wasmPath = process.env.MPNET_WASM || path.join(root, "dist/mpnet.wasm");

test("conformance vectors pass on the module through the JS loader", async () => {
  const module = await WebAssembly.compile(readFileSync(wasmPath));
  const vectors = JSON.parse(readFileSync(path.join(root, "conformance/vectors.json"), "utf8"));
  const results = await runVectors(vectors, async () => {
    const m = await MpnetModule.load(module, { spare: false });
    return { configure: (b) => m.raw("configure", b), check: (b) => m.raw("check", b), step: (b) => m.raw("step", b), body: (b) => m.bodyRaw(b), judgeTLS: (b) => m.raw("judge_tls", b) };
  });
  const failed = results.filter((r) => r.problem);
  assert.ok(results.length >= 240, `only ${results.length} vectors ran`);
  assert.deepEqual(failed, []);
});

test("the JS matcher finds differences", () => {
  assert.equal(match({ a: 1 }, { a: 1, b: 2 }), "");
  assert.notEqual(match({ a: 1 }, { a: 2 }), "");
  assert.notEqual(match([1], [1, 2]), "");
  assert.equal(match(["R2"], [{ rule: "R2" }]), "");
  assert.notEqual(match(["R2"], [{ rule: "R3" }]), "");
  assert.notEqual(match({ "m~": "x" }, { m: "y" }), "");
  assert.equal(match({ a: null }, {}), "");
  assert.notEqual(match({ a: false }, {}), "");
});

test("a trap replaces the instance and restores the engine", async () => {
  const m = await MpnetModule.load(readFileSync(wasmPath));
  m.configure({ files: [{ name: "mpnet.json", content: '{"domains":{"request":["https://api.example.com"]}}' }] });
  for (let id = 1; id <= 11; id++) m.step({ type: "open", at: 0, id, api: "request", url: "https://api.example.com/" });
  await m.spareReady();
  let trapped = null;
  m.onTrap = (t) => { trapped = t; };
  assert.throws(() => m.debug(2), /trapped in mpnet_debug/);
  assert.ok(trapped && /deliberate trap/.test(trapped.stderr), "the trap carries the module's stderr");
  assert.equal(m.restarts, 1);
  const st = m.status();
  assert.equal(st.inFlight, 10);
  assert.equal(st.queued, 1);
  const r = m.step({ type: "finish", at: 5, id: 3 });
  assert.deepEqual(Array.from(r.actions, (a) => [a.type, a.id]), [["start", 11]]);
});

test("bad messages get bad_message errors", async () => {
  const m = await MpnetModule.load(readFileSync(wasmPath));
  assert.throws(() => m.check({ api: "request", url: "x" }), (e) => e.code === "not_configured");
  m.configure({ files: [{ name: "mpnet.json", content: '{"domains":{"request":["https://api.example.com"]}}' }] });
  assert.throws(() => m.check({ api: "fetch", url: "x" }), (e) => e.code === "bad_message" && /unknown api/.test(e.message));
  assert.throws(() => m.step({ type: "nope", at: 0 }), (e) => e.code === "bad_message");
  assert.equal(m.check({ api: "request", url: "https://api.example.com/" }).allowed, true);
});
