// End-to-end tests: the real built extension in Debian's Chromium, on the
// demo preview page, against hostsim's real TLS and WebSocket fixture
// servers on loopback. Every rule the browser can observe is exercised
// through fetch, XHR and WebSocket, in enforce and report mode.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { startStack, openPreview, settled, root, REFERER, waitForAsync } from "../tools/harness.mjs";

let stack;
let page;
const artifacts = path.join(root, "test-results");

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startStack({ agent: true, testHooks: true });
  page = await openPreview(stack);
}, { timeout: 120000 });

after(async () => { if (stack) await stack.close(); });

const run = (name) => page.evaluate((n) => window.demo.run(n), name);

test("the runtime is ready with the baked configuration", async () => {
  const st = await page.evaluate(() => window.mpnet.status());
  assert.equal(st.state, "ready", JSON.stringify(st));
  assert.equal(st.mode, "enforce");
  assert.equal(st.appid, "wx0123456789abcdef");
  assert.equal(st.referer, REFERER);
  // hello carries the module host's answer to this configuration, so the
  // runtime is configured with it when hello arrives ("answered"), not a
  // round trip to the host later.
  assert.ok(st.timings.answered > 0 && st.timings.answered <= st.timings.configured, `the runtime was not configured from hello's answer: ${JSON.stringify(st.timings)}`);
});

test("R2: an unlisted host is blocked with the client's errMsg (fetch, XHR, WebSocket)", async () => {
  const port = new URL(stack.fx.byName.valid.url).port;
  const url = `https://stats.mpnet.test:${port}/collect`;
  const out = await page.evaluate(async (u) => {
    const f = await fetch(u).then(() => "resolved", (e) => `${e.name}: ${e.message}`);
    const x = await new Promise((res) => {
      const r = new XMLHttpRequest();
      r.open("GET", u);
      r.onerror = () => res(`error ${r.readyState} ${r.status} ${r.mpnetErrMsg}`);
      r.onload = () => res("load");
      r.send();
    });
    // A socket the client refuses at once fails at once: the constructor
    // throws the errMsg (wx.connectSocket's fail callback).
    let w;
    try {
      new WebSocket(u.replace("https:", "wss:"));
      w = "constructed";
    } catch (e) {
      w = `${e.name} ${e.errMsg} ${String(e)}`;
    }
    return { f, x, w };
  }, url);
  assert.equal(out.f, "TypeError: request:fail url not in domain list");
  assert.equal(out.x, "error 4 0 request:fail url not in domain list");
  assert.equal(out.w, "TypeError connectSocket:fail url not in domain list connectSocket:fail url not in domain list");
});

test("R1, R3, R5: http, local hosts and userinfo tricks are judged like the client", async () => {
  assert.equal((await run("plain http (R1)")).errMsg, "request:fail url not in domain list");
  assert.equal((await run("localhost mock (R3)")).errMsg, "request:fail url not in domain list");
  assert.equal((await run("userinfo trick (R5)")).errMsg, "request:fail url not in domain list");
  const d = await page.evaluate(() => window.mpnet.check({ api: "request", url: "https://0x7f.1/x" }));
  assert.equal(d.rule, "R3");
  assert.equal(d.host, "127.0.0.1");
});

test("R4: mpnet.check answers the same decision object as hostsim check", async () => {
  const d = await page.evaluate(() => window.mpnet.check({ api: "request", url: "https://192.168.1.20/status", timeout: 3000 }));
  assert.equal(d.allowed, true);
  assert.equal(d.timeoutMs, 3000);
  assert.equal(d.referer, REFERER);
  assert.deepEqual(d.warnings.map((w) => w.rule), ["R4"]);
  for (const k of ["allowed", "errMsg", "rule", "warnings", "timeoutMs", "referer"]) assert.ok(k in d, k);
});

test("R8: an allowed call reaches the server with the client's fixed Referer", async () => {
  const r = await run("referer set by code (R8)");
  assert.equal(r.errMsg, "request:ok");
  assert.equal(r.statusCode, 200);
  assert.equal(String(r.data.headers.Referer), REFERER);
  const r2 = await run("profile (allowed)");
  assert.equal(String(r2.data.headers.Referer), REFERER);
  assert.equal(String(r2.data.headers["X-Token"]), "t1");
});

test("R10: GBK is converted and one BOM removed (fetch and XHR)", async () => {
  assert.equal((await run("GBK notice (R10)")).data, "你好，世界");
  const bom = await run("BOM config (R10)");
  assert.deepEqual(bom.data, { ok: true });
  const x = await page.evaluate((u) => new Promise((res) => {
    const r = new XMLHttpRequest();
    r.open("GET", u);
    r.onload = () => res(r.responseText);
    r.send();
  }), stack.fx.byName.valid.url.replace(/\/$/, "") + "/gbk");
  assert.equal(x, "你好，世界");
  // The conversion is the browser's TextDecoder as it was at document
  // start: a page script replacing it later changes nothing.
  const y = await page.evaluate(async (u) => {
    const original = window.TextDecoder;
    window.TextDecoder = class { constructor() { throw new Error("a polyfill"); } };
    try {
      return await (await fetch(u)).text();
    } finally {
      window.TextDecoder = original;
    }
  }, stack.fx.byName.valid.url.replace(/\/$/, "") + "/gbk");
  assert.equal(y, "你好，世界");
});

test("R11: a 4xx/5xx answer is a success callback, with a reminder", async () => {
  const r = await run("missing page (R11)");
  assert.equal(r.errMsg, "request:ok");
  assert.equal(r.statusCode, 404);
  const seen = await page.evaluate(() => new Promise((res) => {
    const rules = [];
    const on = (e) => { for (const f of e.detail.findings) rules.push(f.rule); if (e.detail.state === "done") { window.mpnet.removeEventListener("verdict", on); res(rules); } };
    window.mpnet.addEventListener("verdict", on);
    fetch(window.FIXTURES["5xx"] + "x").then((r) => r.text());
  }));
  assert.ok(seen.includes("R11"), JSON.stringify(seen));
});

test("R6: the call's timeout fails it with request:fail timeout", async () => {
  const t0 = Date.now();
  const r = await run("slow report, 1 s timeout (R6)");
  assert.equal(r.errMsg, "request:fail timeout");
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 2500, `took ${took} ms`);
});

test("R7: the 11th and 12th requests wait in FIFO order; 10 run at once", async () => {
  const out = await page.evaluate(async (base) => {
    const events = [];
    const on = (e) => events.push([e.detail.url.split("i=")[1], e.detail.state]);
    window.mpnet.addEventListener("verdict", on);
    const done = [];
    await Promise.all(Array.from({ length: 12 }, (_, i) => fetch(`${base}slow?ms=400&i=${i}`).then((r) => r.text()).then(() => done.push(i))));
    window.mpnet.removeEventListener("verdict", on);
    return { events, done };
  }, stack.fx.byName.valid.url);
  const queued = out.events.filter(([, s]) => s === "queued").map(([i]) => i);
  assert.deepEqual(queued, ["10", "11"]);
  const startedLate = out.events.filter(([i, s]) => s === "running" && (i === "10" || i === "11")).map(([i]) => i);
  assert.deepEqual(startedLate, ["10", "11"], "queued calls start in FIFO order");
  assert.ok(out.done.indexOf(10) >= 9 && out.done.indexOf(11) >= 10, JSON.stringify(out.done));
});

test("R7: the 6th socket is refused; a closed one frees a place", async () => {
  const r = await run("6 sockets (R7)");
  const parts = r.errMsg.split(" | ");
  assert.deepEqual(parts.slice(0, 5), Array(5).fill("connectSocket:ok"));
  assert.equal(parts[5], "connectSocket:fail exceed max task count");
  // The scenario closes its sockets; a socket counts until its close
  // completes (the server's close frame), so wait for that first.
  await page.waitForFunction(() => window.mpnet.status().sockets === 0, null, { timeout: 5000 });
  const echo = await page.evaluate((u) => new Promise((res) => {
    const s = new WebSocket(u);
    s.binaryType = "arraybuffer";
    s.onopen = () => s.send("ping");
    s.onmessage = (e) => { res([e.data, s.protocol, s.readyState, s instanceof WebSocket]); s.close(); };
    s.onerror = () => res("error");
  }), stack.fx.byName.wss.url);
  assert.deepEqual(echo, ["ping", "", 1, true]);
});

test("R9: in the background a running call fails with interrupted after 5 s; new calls wait", async () => {
  const out = await page.evaluate(async (base) => {
    const t0 = performance.now();
    const p = fetch(`${base}slow?ms=8000`).then(() => "ok", (e) => e.message);
    await new Promise((r) => setTimeout(r, 100));
    window.mpnet.setBackground(true);
    let later = "pending";
    const q = fetch(`${base}json`).then(() => { later = "done"; }, (e) => { later = e.message; });
    const first = await p;
    const at = performance.now() - t0;
    const whileHidden = later;
    window.mpnet.setBackground(false);
    await q;
    return { first, at, whileHidden, later };
  }, stack.fx.byName.valid.url);
  assert.equal(out.first, "request:fail interrupted");
  assert.ok(out.at >= 5000 && out.at < 7000, `interrupted at ${out.at}`);
  assert.equal(out.whileHidden, "pending", "a call made in the background does not start");
  assert.equal(out.later, "done");
});

test("fetch keeps Request bodies, AbortSignal and streaming", async () => {
  const out = await page.evaluate(async (base) => {
    const echo = await fetch(new Request(`${base}echo`, { method: "POST", body: "hello", headers: { "Content-Type": "text/plain" } })).then((r) => r.json());
    const ac = new AbortController();
    const p = fetch(`${base}slow?ms=3000`, { signal: ac.signal }).then(() => "resolved", (e) => e.name);
    setTimeout(() => ac.abort(), 50);
    const aborted = await p;
    const big = await fetch(`${base}big?bytes=300000`).then(async (r) => [r.status, r.url.includes("/big"), (await r.arrayBuffer()).byteLength]);
    return { body: echo.body, method: echo.method, aborted, big, st: window.mpnet.status() };
  }, stack.fx.byName.valid.url);
  assert.equal(out.body, "hello");
  assert.equal(out.method, "POST");
  assert.equal(out.aborted, "AbortError");
  assert.deepEqual(out.big, [200, true, 300000]);
  assert.equal(out.st.inFlight, 0, "every finished call freed its slot");
});

test("report mode: violations proceed and are reported", async () => {
  const popup = await stack.context.newPage();
  await popup.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
  const tabId = await popup.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url && t.url.startsWith(url)).id, stack.preview.url);
  await popup.evaluate(async (id) => chrome.runtime.sendMessage({ type: "setTab", tabId: id, mode: "report" }), tabId);
  await page.waitForFunction(() => window.mpnet.status().mode === "report");
  const out = await page.evaluate(async (base) => {
    const rec = [];
    const on = (e) => rec.push(e.detail);
    window.mpnet.addEventListener("verdict", on);
    const r = await fetch(window.FIXTURES["5xx"] + "x").then((x) => x.status, (e) => e.message);
    const blockedHost = await fetch(base.replace("valid.", "wss.")).then((x) => "proceeded " + x.status, (e) => "network " + e.message);
    window.mpnet.removeEventListener("verdict", on);
    return { r, blockedHost, last: rec.filter((x) => x.url.includes("wss.")).pop() };
  }, stack.fx.byName.valid.url);
  assert.equal(out.r, 503);
  assert.match(out.blockedHost, /^(proceeded|network)/);
  assert.equal(out.last.verdict, "fail");
  assert.equal(out.last.rule, "R2");
  assert.equal(out.last.proceeded, true);
  const rule = () => popup.evaluate(async (id) => (await chrome.declarativeNetRequest.getSessionRules()).find((r) => r.id === id) || null, tabId);
  assert.equal(await rule(), null, "report mode sets no Referer");
  await popup.evaluate(async (id) => chrome.runtime.sendMessage({ type: "setTab", tabId: id, mode: "enforce" }), tabId);
  await page.waitForFunction(() => window.mpnet.status().mode === "enforce");
  // Back in enforce mode the runtime asks for the Referer rule again; the
  // background scopes it to the configuration's API hosts.
  await waitForAsync(popup, async (id) => (await chrome.declarativeNetRequest.getSessionRules()).some((r) => r.id === id), tabId);
  const r = await rule();
  assert.equal(r.action.requestHeaders[0].value, REFERER);
  assert.deepEqual([...r.condition.requestDomains].sort(), ["5xx.mpnet.test", "expired.mpnet.test", "missing-intermediate.mpnet.test", "slow.mpnet.test", "valid.mpnet.test", "wss.mpnet.test"]);
  await popup.close();
});

test("the conformance vectors pass on the same module in Chromium", async () => {
  const bundlePath = path.join(stack.dir, "conformance-bundle.js");
  await build({
    stdin: { contents: "import { MpnetModule } from './wasm/loader.js'; import { runVectors } from './conformance/run.mjs'; window.__conformance = { MpnetModule, runVectors };", resolveDir: root },
    bundle: true, format: "iife", outfile: bundlePath, logLevel: "warning",
  });
  const p = await stack.context.newPage();
  await p.goto("about:blank");
  await p.addScriptTag({ content: readFileSync(bundlePath, "utf8") });
  const wasm = [...readFileSync(path.join(root, "dist/mpnet.wasm"))];
  const vectors = JSON.parse(readFileSync(path.join(root, "conformance/vectors.json"), "utf8"));
  const results = await p.evaluate(async ({ wasm, vectors }) => {
    const { MpnetModule, runVectors } = window.__conformance;
    const module = await WebAssembly.compile(new Uint8Array(wasm));
    return runVectors(vectors, async () => {
      const m = await MpnetModule.load(module, { spare: false });
      return { configure: (b) => m.raw("configure", b), check: (b) => m.raw("check", b), step: (b) => m.raw("step", b), body: (b) => m.bodyRaw(b), judgeTLS: (b) => m.raw("judge_tls", b) };
    });
  }, { wasm, vectors });
  await p.close();
  assert.ok(results.length >= 240, `${results.length} vectors`);
  assert.deepEqual(results.filter((r) => r.problem), []);
});

test("R12 in the browser: the first call to a server waits for its verdict and fails as on a phone; the faults appear in the panel (via hostsim agent)", async () => {
  const out = await page.evaluate(async () => {
    const a = await window.demo.run("expired certificate (R12)");
    const b = await window.demo.run("missing intermediate (R12)");
    return [a.errMsg, b.errMsg];
  });
  // The browser under test ignores certificate errors; the device would
  // not, and neither does the preview: the engine held each first call
  // until hostsim agent's verdict came.
  assert.deepEqual(out, ["request:fail ssl hand shake error", "request:fail ssl hand shake error"]);
  const popup = await stack.context.newPage();
  await popup.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
  const tabId = await popup.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url && t.url.startsWith(url)).id, stack.preview.url);
  await popup.close();
  const panel = await stack.context.newPage();
  await panel.goto(`chrome-extension://${stack.extensionId}/ui/panel.html?tab=${tabId}`);
  await panel.waitForFunction(() => document.body.innerText.includes("R12"), null, { timeout: 20000 });
  await panel.getByText("expired.mpnet.test").first().click();
  await panel.waitForFunction(() => document.body.innerText.includes("expired on"), null, { timeout: 10000 });
  await panel.getByText("missing-intermediate.mpnet.test").first().click();
  await panel.waitForFunction(() => document.body.innerText.includes("does not send the intermediate"), null, { timeout: 10000 });
  await panel.waitForFunction(() => document.body.innerText.toLowerCase().includes("phones"), null, { timeout: 10000 });
  const text = await panel.evaluate(() => document.body.innerText);
  const lower = text.toLowerCase(); // headings are styled in capitals
  assert.ok(text.includes("full chain"), "the fix is shown");
  // The R12 view shows what hostsim cert shows: suites per version, phones, ALPN, SNI.
  for (const s of ["Certificates and TLS (R12): missing-intermediate.mpnet.test", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "iOS 9–12.1", "Android 5–6",
    "connects in practice by fetching the intermediate from the AIA URL", "h2 (HTTP/2", "the same certificate"]) {
    assert.ok(lower.includes(s.toLowerCase()), `the R12 view lacks "${s}"`);
  }
  // The rule links to its full text, rendered from docs/RULES.md.
  const href = await panel.evaluate(() => { const a = document.querySelector('.rule-help a.rule-link[href$="#R12"]'); return a && a.href; });
  assert.match(href || "", /\/ui\/rules\.html#R12$/);
  const rulesPage = await stack.context.newPage();
  await rulesPage.goto(href);
  assert.ok(await rulesPage.evaluate(() => document.getElementById("R12").innerText.includes("Certificates and TLS")), "the rules page has R12");
  await rulesPage.close();
  await panel.screenshot({ path: path.join(artifacts, "panel-r12.png") });
  await panel.close();
  // Now that the verdict is known, the preview fails calls to that server as the device does.
  const again = await page.evaluate(() => window.demo.run("expired certificate (R12)"));
  assert.equal(again.errMsg, "request:fail ssl hand shake error");
});

test("every frame is covered: a srcdoc iframe's calls are judged too", async () => {
  const r = await page.evaluate(async (port) => {
    const f = document.createElement("iframe");
    f.srcdoc = `<script>fetch('https://stats.mpnet.test:${port}/x').then(() => parent.postMessage({srcdoc: 'resolved'}, '*'), (e) => parent.postMessage({srcdoc: e.message}, '*'))<\/script>`;
    const got = new Promise((res) => window.addEventListener("message", (e) => { if (e.data && e.data.srcdoc) res(e.data.srcdoc); }));
    document.body.append(f);
    const out = await got;
    f.remove();
    return out;
  }, new URL(stack.fx.byName.valid.url).port);
  assert.equal(r, "request:fail url not in domain list");
});

test("R9 through the Page Visibility API: a hidden page interrupts running calls", async () => {
  // Headless Chromium never hides a page, so the test plays the browser's
  // part: it reports the page hidden through the standard event.
  const out = await page.evaluate(async (base) => {
    const p = fetch(`${base}slow?ms=8000`).then(() => "ok", (e) => e.message);
    await new Promise((r) => setTimeout(r, 100));
    Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    const hidden = window.mpnet.status().hidden;
    const first = await p;
    Object.defineProperty(document, "visibilityState", { get: () => "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    return { hidden, first, after: window.mpnet.status().hidden };
  }, stack.fx.byName.valid.url);
  assert.deepEqual(out, { hidden: true, first: "request:fail interrupted", after: false });
});

test("a trap in the page replaces the instance at once (no spare kept): the call it trapped on fails with a clear errMsg and a record, later calls are still judged", async () => {
  const out = await page.evaluate(async (base) => {
    const before = window.mpnet.status().restarts;
    const recs = [];
    const on = (e) => recs.push(e.detail);
    window.mpnet.addEventListener("verdict", on);
    // The module call for the next "open" traps (a real trap: mpnet_debug(2)).
    window.mpnet.test.trapNext("open");
    const trapped = await Promise.race([
      fetch(`${base}json`).then(() => "resolved", (e) => e.message),
      new Promise((r) => setTimeout(() => r("still pending after 5 s"), 5000)),
    ]);
    const blocked = await fetch(base.replace("valid.", "stats.") + "collect").then(() => "proceeded", (e) => e.message);
    const ok = await fetch(`${base}json`).then((r) => r.status, (e) => e.message);
    window.mpnet.removeEventListener("verdict", on);
    const st = window.mpnet.status();
    return { trapped, rec: recs.find((r) => r.state === "failed" && /policy module failed/.test(r.errMsg)), restarts: st.restarts - before, state: st.state, inFlight: st.inFlight, blocked, ok };
  }, stack.fx.byName.valid.url);
  assert.match(out.trapped, /^request:fail mpnet's policy module failed on this call \(the mpnet module trapped in mpnet_debug/);
  assert.ok(out.rec, "the trapped call has a record");
  assert.match(out.rec.findings.at(-1).message, /was not judged/);
  assert.equal(out.restarts, 1);
  assert.equal(out.state, "ready");
  assert.equal(out.inFlight, 0, "the failed call holds no slot");
  assert.equal(out.blocked, "request:fail url not in domain list");
  assert.equal(out.ok, 200);
  // No spare instance is kept, and nothing of the runtime is reachable.
  const globals = await page.evaluate(() => Object.getOwnPropertyNames(window).filter((k) => /mpnet/i.test(k)));
  assert.deepEqual(globals, ["mpnet"]);
});

test("the page's CSP and its fetch cannot keep the module from the page: a strict connect-src page, and a page whose fetch refuses extension URLs, are judged and get the in-page module", async () => {
  const judged = (p) => p.evaluate(async (base) => {
    const blocked = await fetch(base.replace("valid.", "stats.") + "collect").then(() => "proceeded", (e) => e.message);
    const ok = await fetch(`${base}json`).then((r) => r.status, (e) => e.message);
    return { blocked, ok };
  }, stack.fx.byName.valid.url);
  // The page may connect only to its own and the fixtures' origins.
  const strict = await openPreview(stack, "?csp=strict");
  try {
    const st = await strict.evaluate(() => window.mpnet.status());
    assert.equal(st.state, "ready", st.error);
    assert.equal(st.placement, "page", JSON.stringify(st.timings));
    assert.deepEqual(await judged(strict), { blocked: "request:fail url not in domain list", ok: 200 });
  } finally {
    await strict.close();
  }
  // Page code that replaced fetch before mpnet's runtime ran (an init
  // script here) and fails every chrome-extension: URL.
  const p = await stack.context.newPage();
  try {
    await p.addInitScript(() => {
      const f = window.fetch;
      window.fetch = function (input, init) {
        if (String(input && input.url || input).startsWith("chrome-extension:")) return Promise.reject(new TypeError("Failed to fetch"));
        return f.call(this, input, init);
      };
    });
    await p.goto(stack.preview.url);
    await settled(p);
    const st = await p.evaluate(() => window.mpnet.status());
    assert.equal(st.state, "ready", st.error);
    // The bridge fetched the bytes in its own world; the page's module took
    // the engine over from the extension's.
    assert.equal(st.placement, "page", JSON.stringify(st.timings));
    assert.ok(st.timings.switched > st.timings.ready, JSON.stringify(st.timings));
    assert.deepEqual(await judged(p), { blocked: "request:fail url not in domain list", ok: 200 });
    // The module's per-session address did not reach the page.
    assert.deepEqual(await p.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name).filter((n) => !/^https?:/.test(n))), []);
  } finally {
    await p.close();
  }
});

test("when checks cannot run, calls proceed but every record, the badge and the status say checks are OFF", async () => {
  const ext = await stack.context.newPage();
  await ext.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
  const origin = new URL(stack.preview.url).origin;
  const tabId = await ext.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url && t.url.startsWith(url)).id, stack.preview.url);
  await ext.evaluate((o) => chrome.runtime.sendMessage({ type: "saveOrigin", origin: o, files: [{ name: "mpnet.json", content: "{ broken" }] }), origin);
  try {
    await page.reload();
    await page.waitForFunction(() => window.mpnet && window.mpnet.status().state === "failed", null, { timeout: 20000 });
    const st = await page.evaluate(() => window.mpnet.status());
    assert.match(st.error, /configuration error/);
    const rec = await page.evaluate(async (port) => {
      const got = new Promise((res) => window.mpnet.addEventListener("verdict", (e) => res(e.detail), { once: true }));
      const r = await fetch(`https://stats.mpnet.test:${port}/x`).then(() => "proceeded", (e) => "network: " + e.message);
      return { r, rec: await got };
    }, new URL(stack.fx.byName.valid.url).port);
    assert.notEqual(rec.r, "network: request:fail url not in domain list", "no decision was made");
    assert.match(rec.rec.findings[0].message, /checks are OFF/);
    await waitForAsync(ext, async (id) => (await chrome.action.getBadgeText({ tabId: id })) === "OFF", tabId);
  } finally {
    await ext.evaluate((o) => chrome.runtime.sendMessage({ type: "removeOrigin", origin: o }), origin);
    await ext.close();
    await page.reload();
    await settled(page);
  }
});

test("XHR keeps upload progress and events; sync XHR is judged and reported; WebSocket keeps binary frames", async () => {
  const out = await page.evaluate(async ({ base, ws, port }) => {
    const events = [];
    const upload = [];
    const xhr = await new Promise((res) => {
      const x = new XMLHttpRequest();
      x.open("POST", `${base}echo`);
      x.upload.onprogress = (e) => upload.push(["progress", e.loaded > 0]);
      x.upload.onload = () => upload.push(["load"]);
      for (const t of ["loadstart", "load", "loadend"]) x.addEventListener(t, (e) => events.push([t, e.target === x]));
      x.onreadystatechange = () => events.push(["rs", x.readyState]);
      x.onloadend = () => res([x.status, JSON.parse(x.responseText).body.length, x instanceof XMLHttpRequest, XMLHttpRequest.DONE]);
      x.send("x".repeat(200000));
    });
    let sync;
    try {
      const s = new XMLHttpRequest();
      s.open("GET", `https://stats.mpnet.test:${port}/x`, false);
      s.send();
      sync = "sent";
    } catch (e) {
      sync = `${e.name}: ${e.message}`;
    }
    const bin = await new Promise((res) => {
      const s = new WebSocket(ws);
      s.binaryType = "arraybuffer";
      s.onopen = () => s.send(new Uint8Array([1, 2, 3]));
      s.onmessage = (e) => { res([e.data instanceof ArrayBuffer, [...new Uint8Array(e.data)], s.bufferedAmount]); s.close(); };
      s.onerror = () => res("error");
    });
    return { xhr, events, upload, sync, bin };
  }, { base: stack.fx.byName.valid.url, ws: stack.fx.byName.wss.url, port: new URL(stack.fx.byName.valid.url).port });
  assert.deepEqual(out.xhr, [200, 200000, true, 4]);
  assert.deepEqual(out.events.filter(([t]) => t !== "rs"), [["loadstart", true], ["load", true], ["loadend", true]]);
  assert.deepEqual(out.events.filter(([t]) => t === "rs").map(([, s]) => s).at(-1), 4);
  assert.ok(out.upload.some(([t]) => t === "load"), JSON.stringify(out.upload));
  assert.match(out.sync, /^NetworkError: .*request:fail url not in domain list/);
  assert.deepEqual(out.bin, [true, [1, 2, 3], 0]);
});
