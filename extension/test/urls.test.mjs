// The URL differential (conformance/urlcorpus): generated URLs judged by the
// built module in V8 through the JS loader must match the native policy byte
// for byte, and Chromium's own URL parser, in a real page, must read the same
// host as the policy, except for the deviations listed below (each documented
// in policy/urlhost). The same corpus runs under wazero in hostsim's tests.
// MPNET_URL_CORPUS_N sets the size (3000 here; 240000 for a long run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { MpnetModule } from "../../wasm/loader.js";
import { root, chromiumPath } from "../tools/harness.mjs";

const wasmPath = process.env.MPNET_WASM || `${root}/dist/mpnet.wasm`;
const size = Number(process.env.MPNET_URL_CORPUS_N || 3000);

function corpus() {
  const out = execFileSync("go", ["run", "./conformance/urlcorpus/gen", "-n", String(size)], { cwd: root, maxBuffer: 1 << 30 });
  return JSON.parse(out);
}

const knownChromiumDefects = new Set(["https://^\u0308\u{1D173}\u0EB37ca)-++/ /"]);

const special = new Set(["http:", "https:", "ws:", "wss:", "ftp:"]);

/**
 * deviation names the documented reason why Chromium reads a URL otherwise
 * than the policy, or "" when there is none (a bug on one side).
 */
export function deviation(k, chromiumHost) {
  const ours = k.host || null;
  // Chromium percent-escapes a space or '*' inside a host ("a%20b.de") where
  // the standard refuses the space and keeps the '*' (Chromium's escape can
  // then combine with a following mark, or fail).
  if ((chromiumHost && /%20|%2a/i.test(chromiumHost) && ours === null) || (ours && ours.includes("*"))) return "space-or-star";
  // A code point first assigned in Unicode 16 or 17 (or U+1806): Chromium's
  // IDNA data is newer than x/net/idna's.
  if (chromiumHost && ours === null && k.unicode16) return "unicode16";
  // Seen once in 240,000 URLs: Chromium 156 answers a host that is not any
  // mapping of the input (the punycode decodes to "Ćwᇽca)-++ᇜ"); the
  // standard, and the policy, refuse the '^'.
  if (knownChromiumDefects.has(k.url)) return "chromium-defect";
  return "";
}

test("the URL differential: V8 answers every generated call as the policy does natively", async () => {
  const c = corpus();
  assert.equal(c.cases.length, size);
  const m = await MpnetModule.load(readFileSync(wasmPath), { spare: false });
  m.configure({ files: [{ name: "mpnet.json", content: c.config }] });
  const enc = new TextEncoder();
  const bad = [];
  for (const k of c.cases) {
    const out = m.raw("check", enc.encode(JSON.stringify({ api: k.api, url: k.url })));
    const hash = createHash("sha256").update(out).digest("hex").slice(0, 16);
    if (hash !== k.decision) bad.push(`${k.api} ${JSON.stringify(k.url)}: ${new TextDecoder().decode(out)}`);
  }
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${c.cases.length} calls judged differently in V8`);
});

test("the URL differential: Chromium's new URL reads the policy's host", async () => {
  const c = corpus();
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>urls</title>");
    const answers = [];
    for (let i = 0; i < c.cases.length; i += 20000) {
      const urls = c.cases.slice(i, i + 20000).map((k) => k.url);
      answers.push(...await page.evaluate((urls) => urls.map((u) => {
        try { const x = new URL(u); return [x.protocol, x.hostname]; } catch { return null; }
      }), urls));
    }
    const classes = {};
    const bad = [];
    let compared = 0;
    c.cases.forEach((k, i) => {
      const a = answers[i];
      // Non-special schemes: Chromium keeps an opaque host; the policy reads
      // tcp/udp hosts as domains on purpose (policy/urlhost).
      if (a ? !special.has(a[0]) : !k.special && k.host) return;
      compared++;
      const ch = a ? a[1] : null;
      if (ch === (k.host || null)) return;
      const why = deviation(k, ch);
      if (why) classes[why] = (classes[why] || 0) + 1;
      else bad.push(`${JSON.stringify(k.url)}: policy ${JSON.stringify(k.host || null)}, Chromium ${JSON.stringify(ch)}`);
    });
    assert.ok(compared > c.cases.length / 2, `only ${compared} URLs compared`);
    assert.deepEqual(bad.slice(0, 20), [], `${bad.length} URLs read differently by Chromium (documented deviations: ${JSON.stringify(classes)})`);
  } finally {
    await browser.close();
  }
});

test("the differential's deviations are narrow", () => {
  assert.equal(deviation({ host: "a*b.de" }, "a%2Ab.de"), "space-or-star");
  assert.equal(deviation({ host: "" }, "a%20b.de"), "space-or-star");
  assert.equal(deviation({ host: "" , unicode16: true }, "xn--ab-tcf.de"), "unicode16");
  assert.equal(deviation({ host: "" }, "xn--ab-tcf.de"), "");
  assert.equal(deviation({ host: "fass.de" }, "xn--fa-hia.de"), "");
  assert.equal(deviation({ host: "a.de" }, "a%2Ab.de"), "");
  assert.equal(deviation({ host: "" }, "a.de"), "");
});
