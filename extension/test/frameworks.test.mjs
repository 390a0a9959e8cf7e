// The real H5 runtimes of Taro (@tarojs/taro-h5) and uni-app
// (@dcloudio/uni-h5) and axios, bundled from npm into test pages, in real
// Chromium with the real extension, against hostsim's fixture servers:
// each call is judged under its real API (R15) and the app's callbacks get
// the client's errMsg; the page's own blob: reads pass; redirects are
// judged where they end (R14); media over http are reported (R13); a
// synchronous XHR made while the module loads fails with a record.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { startStack, settled, root, APPID, waitForAsync } from "../tools/harness.mjs";

let stack;
let redir;

// bundle builds an app entry with esbuild, as the frameworks' own
// bundlers would: uni-h5 wants `vue` to be its own build of Vue.
async function bundle(contents, { alias = {}, define = {} } = {}) {
  const out = await build({
    stdin: { contents, resolveDir: root, loader: "js" }, bundle: true, format: "iife", write: false, logLevel: "error",
    alias, define: { "process.env.NODE_ENV": '"development"', ...define }, target: "chrome120",
  });
  return out.outputFiles[0].text;
}

const html = (script) => `<!doctype html><meta charset="utf-8"><title>${script}</title><body><script src="/fixtures.js"></script><script src="/t.js"></script><script src="/${script}"></script>`;

// The test pages' helper: call(fw, api, opts) runs a framework API with
// callbacks and as a promise, and answers what each got; recorded(fn)
// collects the records of the calls fn makes.
const helper = `window.t = {
  call(fw, api, opts) {
    return new Promise((resolve) => {
      const out = { cb: "", settled: "", t0: performance.now() };
      let pr;
      try {
        pr = fw[api]({ ...opts, success: (r) => { out.cb = "success " + r.errMsg; out.res = r; }, fail: (r) => { out.cb = "fail " + r.errMsg; } });
      } catch (e) {
        out.settled = "threw " + String(e);
        return resolve(out);
      }
      Promise.resolve(pr).then(() => { out.settled = "resolved"; }, (e) => { out.settled = "rejected " + (e && (e.errMsg || e.message)); })
        .then(() => new Promise((r) => setTimeout(r, 50))).then(() => { out.ms = Math.round(performance.now() - out.t0); resolve(out); });
    });
  },
  promise(fw, api, opts) {
    return new Promise((resolve) => {
      let pr;
      try { pr = fw[api](opts); } catch (e) { return resolve("threw " + String(e)); }
      Promise.resolve(pr).then((r) => resolve("resolved " + (r && r.errMsg)), (e) => resolve("rejected " + (e && (e.errMsg || e.message))));
    });
  },
  async recorded(fn) {
    const recs = new Map();
    const on = (e) => {
      const d = e.detail;
      const was = recs.get(d.id);
      recs.set(d.id, { ...d, queued: !!(was && was.queued) || d.state === "queued" });
    };
    window.mpnet.addEventListener("verdict", on);
    try {
      const out = await fn();
      await new Promise((r) => setTimeout(r, 100));
      return { out, records: [...recs.values()].map((r) => ({ api: r.api, url: r.url, state: r.state, queued: r.queued, verdict: r.verdict, rule: r.rule, errMsg: r.errMsg, tooling: r.tooling, hops: r.hops, kind: r.kind })) };
    } finally {
      window.mpnet.removeEventListener("verdict", on);
    }
  },
  file: (text) => URL.createObjectURL(new Blob([text], { type: "text/plain" })),
};`;

// startRedirector serves https://redir.mpnet.test:PORT/to?u=URL, a 302 to
// URL, with the fixtures' CORS answers: a server that redirects (R14).
async function startRedirector(dir) {
  const key = path.join(dir, "redir.key");
  const crt = path.join(dir, "redir.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=redir.mpnet.test"], { stdio: "ignore" });
  const server = createServer({ key: readFileSync(key), cert: readFileSync(crt) }, (req, res) => {
    const u = new URL(req.url, "https://redir.mpnet.test");
    const cors = { "access-control-allow-origin": req.headers.origin || "*", "access-control-allow-credentials": "true", "access-control-allow-headers": req.headers["access-control-request-headers"] || "*" };
    if (req.method === "OPTIONS") { res.writeHead(204, cors); res.end(); return; }
    res.writeHead(302, { ...cors, location: u.searchParams.get("u") || "/" });
    res.end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

before(async () => {
  const taro = await bundle(`import { request, uploadFile, downloadFile, connectSocket } from "@tarojs/taro-h5";
    window.Taro = { request, uploadFile, downloadFile, connectSocket };`,
  // What Taro's webpack runner defines for an H5 build.
  { define: { "process.env.TARO_ENV": '"h5"', "process.env.TARO_PLATFORM": '"web"', "process.env.FRAMEWORK": '"react"' } });
  // uni's Vite plugin publishes the API object as window.uni in a
  // dev-server preview (its generated pages.json module); the page does the same.
  const uni = await bundle(`import { uni } from "@dcloudio/uni-h5";
    window.__uniConfig = { router: { base: "/" }, networkTimeout: { request: 60000, connectSocket: 60000, uploadFile: 60000, downloadFile: 60000 } };
    window.uni = uni;`, {
    alias: { vue: "@dcloudio/uni-h5-vue" },
    // What uni's Vite plugin defines for an H5 build.
    define: { __VUE_OPTIONS_API__: "true", __VUE_PROD_DEVTOOLS__: "false", __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false", __UNI_FEATURE_WX__: "true", __UNI_FEATURE_WXS__: "false", __UNI_FEATURE_PAGES__: "true", __UNI_FEATURE_TABBAR__: "false" },
  });
  const axios = await bundle(`import axios from "axios"; window.axios = axios;`);
  const js = (body) => ({ type: "text/javascript", body });
  const page = (s) => ({ type: "text/html; charset=utf-8", body: html(s) });
  stack = await startStack({
    config: () => ({
      appid: APPID,
      domains: {
        request: ["https://valid.mpnet.test", "https://redir.mpnet.test"],
        uploadFile: ["https://upload.mpnet.test"],
        downloadFile: ["https://cdn.mpnet.test"],
        socket: ["wss://wss.mpnet.test"],
      },
    }),
    files: {
      "/t.js": js(helper),
      "/taro.html": page("taro.js"), "/taro.js": js(taro),
      "/uni.html": page("uni.js"), "/uni.js": js(uni),
      "/axios.html": page("axios.js"), "/axios.js": js(axios),
      "/early.html": { type: "text/html; charset=utf-8", body: `<!doctype html><head><script src="/fixtures.js"></script><script>
        window.__early = (() => {
          const state = window.mpnet ? window.mpnet.status().state : "no runtime";
          try {
            const x = new XMLHttpRequest();
            x.open("GET", window.FIXTURES.valid + "json", false);
            x.send();
            return { state, out: "sent " + x.status };
          } catch (e) {
            return { state, out: e.name + ": " + e.message };
          }
        })();
      </script></head><body>early</body>` },
    },
  });
  redir = await startRedirector(stack.dir);
}, { timeout: 180000 });

after(async () => {
  if (redir) await redir.close();
  if (stack) await stack.close();
});

async function open(name) {
  const p = await stack.context.newPage();
  p.on("pageerror", (e) => console.error(`[${name}] page error:`, e.message));
  await p.goto(stack.preview.url + name);
  await settled(p);
  return p;
}

// u names a URL on the valid fixture's server under another fixture name
// (every *.mpnet.test name resolves to loopback; the host is what is judged).
function u(host, p, scheme = "https") {
  const port = new URL(stack.fx.byName[scheme === "wss" ? "wss" : "valid"].url).port;
  return `${scheme}://${host}.mpnet.test:${port}${p}`;
}

const NOT_LISTED = "url not in domain list";

test("Taro H5: each API is judged against its own list, shares the pool, and its callbacks and promises get the client's errMsg", async () => {
  const p = await open("taro.html");
  try {
    const { out, records } = await p.evaluate((u) => t.recorded(async () => {
      const file = t.file("hello mpnet");
      return {
        request: await t.call(Taro, "request", { url: u.validJSON }),
        requestToUpload: await t.call(Taro, "request", { url: u.uploadJSON }),
        upload: await t.call(Taro, "uploadFile", { url: u.upload, filePath: file, name: "f", formData: { k: "v" } }),
        uploadToRequestHost: await t.call(Taro, "uploadFile", { url: u.uploadOnValid, filePath: file, name: "f" }),
        download: await t.call(Taro, "downloadFile", { url: u.download }),
        downloadFromRequestHost: await t.call(Taro, "downloadFile", { url: u.downloadOnValid }),
        socket: await t.call(Taro, "connectSocket", { url: u.push }),
      };
    }), {
      validJSON: u("valid", "/json"), uploadJSON: u("upload", "/json"), upload: u("upload", "/upload"), uploadOnValid: u("valid", "/upload"),
      download: u("cdn", "/download/a.txt?bytes=5"), downloadOnValid: u("valid", "/download/a.txt?bytes=5"), push: u("push", "/live", "wss"),
    });
    assert.equal(out.request.cb, "success undefined"); // Taro's request answers statusCode and data, no errMsg
    assert.equal(out.request.res.statusCode, 200);
    assert.equal(out.requestToUpload.cb, `fail request:fail ${NOT_LISTED}`);
    assert.equal(out.requestToUpload.settled, `rejected request:fail ${NOT_LISTED}`);
    // uploadFile reads the chosen file back from its blob: URL, then posts it: it completes.
    assert.equal(out.upload.cb, "success uploadFile:ok");
    assert.equal(out.upload.res.statusCode, 200);
    assert.match(String(out.upload.res.data), /"ok":true/);
    assert.equal(out.uploadToRequestHost.cb, `fail uploadFile:fail ${NOT_LISTED}`);
    assert.equal(out.uploadToRequestHost.settled, `rejected uploadFile:fail ${NOT_LISTED}`);
    assert.equal(out.download.cb, "success downloadFile:ok");
    assert.match(out.download.res.tempFilePath, /^blob:/);
    assert.equal(out.downloadFromRequestHost.cb, `fail downloadFile:fail ${NOT_LISTED}`);
    // Taro's connectSocket calls success right after new WebSocket(); the
    // constructor throws the errMsg, so the promise rejects with it and
    // success is never called (Taro calls no fail for it).
    assert.equal(out.socket.cb, "");
    assert.equal(out.socket.settled, `rejected connectSocket:fail ${NOT_LISTED}`);
    const apis = records.filter((r) => !r.url.startsWith("blob:")).map((r) => [r.api, r.verdict, r.url.split("/")[2].split(".")[0]]);
    assert.deepEqual(apis, [
      ["request", "ok", "valid"], ["request", "fail", "upload"], ["uploadFile", "ok", "upload"], ["uploadFile", "fail", "valid"],
      ["downloadFile", "ok", "cdn"], ["downloadFile", "fail", "valid"], ["connectSocket", "fail", "push"],
    ]);
    assert.ok(!records.some((r) => r.url.startsWith("blob:")), "the page's own blob: read is not a call");
  } finally {
    await p.close();
  }
});

test("Taro H5: uploadFile and downloadFile share the pool of 10 with request (R7)", async () => {
  const p = await open("taro.html");
  try {
    const { records } = await p.evaluate((u) => t.recorded(async () => {
      const file = t.file("x");
      const all = [];
      for (let i = 0; i < 4; i++) all.push(t.call(Taro, "downloadFile", { url: u.slowDownload + i }));
      for (let i = 0; i < 3; i++) all.push(t.call(Taro, "uploadFile", { url: u.slowUpload + i, filePath: file, name: "f" }));
      for (let i = 0; i < 4; i++) all.push(t.call(Taro, "request", { url: u.slowRequest + i }));
      return Promise.all(all);
    }), { slowDownload: u("cdn", "/slow?ms=600&i="), slowUpload: u("upload", "/slow?ms=600&i="), slowRequest: u("valid", "/slow?ms=600&i=") });
    const calls = records.filter((r) => !r.url.startsWith("blob:"));
    const count = (api) => calls.filter((r) => r.api === api).length;
    assert.deepEqual([count("downloadFile"), count("uploadFile"), count("request")], [4, 3, 4], JSON.stringify(calls));
    // Ten in flight across the three APIs: the eleventh waited.
    // (uploadFile opens its XHR once it has read the file back, so which call comes eleventh varies.)
    assert.equal(calls.filter((r) => r.queued).length, 1, JSON.stringify(calls));
    assert.ok(calls.every((r) => r.state === "done" && r.verdict === "ok"), JSON.stringify(calls));
    assert.equal((await p.evaluate(() => window.mpnet.status())).inFlight, 0);
  } finally {
    await p.close();
  }
});

test("uni-app H5: each API is judged against its own list, and fail callbacks and promises get the client's errMsg (uni drops it; mpnet's interceptor restores it)", async () => {
  const p = await open("uni.html");
  try {
    const { out, records } = await p.evaluate((u) => t.recorded(async () => {
      const file = t.file("hello uni");
      return {
        request: await t.call(uni, "request", { url: u.validJSON }),
        requestToUpload: await t.call(uni, "request", { url: u.uploadJSON }),
        requestPromise: await t.promise(uni, "request", { url: u.uploadJSON }),
        upload: await t.call(uni, "uploadFile", { url: u.upload, filePath: file, name: "f", formData: { k: "v" } }),
        uploadToRequestHost: await t.call(uni, "uploadFile", { url: u.uploadOnValid, filePath: file, name: "f" }),
        download: await t.call(uni, "downloadFile", { url: u.download }),
        downloadFromRequestHost: await t.call(uni, "downloadFile", { url: u.downloadOnValid }),
        socket: await t.call(uni, "connectSocket", { url: u.push }),
        socketOK: await t.call(uni, "connectSocket", { url: u.echo }),
      };
    }), {
      validJSON: u("valid", "/json"), uploadJSON: u("upload", "/json"), upload: u("upload", "/upload"), uploadOnValid: u("valid", "/upload"),
      download: u("cdn", "/download/a.txt?bytes=5"), downloadOnValid: u("valid", "/download/a.txt?bytes=5"),
      push: u("push", "/live", "wss"), echo: u("wss", "/echo", "wss"),
    });
    assert.equal(out.request.cb, "success request:ok");
    assert.equal(out.request.res.statusCode, 200);
    assert.equal(out.requestToUpload.cb, `fail request:fail ${NOT_LISTED}`);
    assert.equal(out.requestPromise, `rejected request:fail ${NOT_LISTED}`);
    assert.equal(out.upload.cb, "success uploadFile:ok", JSON.stringify(out.upload));
    assert.match(String(out.upload.res.data), /"ok":true/);
    assert.equal(out.uploadToRequestHost.cb, `fail uploadFile:fail ${NOT_LISTED}`);
    assert.equal(out.download.cb, "success downloadFile:ok");
    assert.equal(out.downloadFromRequestHost.cb, `fail downloadFile:fail ${NOT_LISTED}`);
    assert.equal(out.socket.cb, `fail connectSocket:fail ${NOT_LISTED}`);
    assert.equal(out.socketOK.cb, "success connectSocket:ok");
    const apis = records.map((r) => [r.api, r.verdict, r.url.split("/")[2].split(".")[0]]);
    assert.deepEqual(apis, [
      ["request", "ok", "valid"], ["request", "fail", "upload"], ["request", "fail", "upload"], ["uploadFile", "ok", "upload"], ["uploadFile", "fail", "valid"],
      ["downloadFile", "ok", "cdn"], ["downloadFile", "fail", "valid"], ["connectSocket", "fail", "push"], ["connectSocket", "ok", "wss"],
    ]);
  } finally {
    await p.close();
  }
});

test("axios' XHR adapter: a refused call rejects with the reason as the error's message and the errMsg on its event and request", async () => {
  const p = await open("axios.html");
  try {
    const out = await p.evaluate((url) => axios.get(url).then(() => "resolved", (e) => ({ message: e.message, code: e.code, event: e.event && e.event.errMsg, request: e.request && e.request.mpnetErrMsg })), u("upload", "/json"));
    assert.deepEqual(out, { message: NOT_LISTED, code: "ERR_NETWORK", event: `request:fail ${NOT_LISTED}`, request: `request:fail ${NOT_LISTED}` });
  } finally {
    await p.close();
  }
});

test("an app's own wrapper names the API: fetch's init.mpnetApi and xhr.mpnetApi (nothing is sent); a wrong name is a clear error", async () => {
  const p = await open("axios.html");
  try {
    const { out, records } = await p.evaluate((u) => t.recorded(async () => {
      const f = await fetch(u.cdn, { mpnetApi: "downloadFile" }).then((r) => r.status, (e) => e.message);
      const x = await new Promise((res) => {
        const r = new XMLHttpRequest();
        r.open("GET", u.echoOnUpload);
        r.mpnetApi = "uploadFile";
        r.onload = () => res([r.status, JSON.parse(r.responseText).headers["Mpnetapi"] || "no header"]);
        r.onerror = () => res("error " + r.mpnetErrMsg);
        r.send();
      });
      let bad;
      try { new XMLHttpRequest().mpnetApi = "upload"; } catch (e) { bad = e.message; }
      const badFetch = await fetch(u.cdn, { mpnetApi: "connectSocket" }).then(() => "resolved", (e) => e.message);
      return { f, x, bad, badFetch };
    }), { cdn: u("cdn", "/json"), echoOnUpload: u("upload", "/echo") });
    assert.equal(out.f, 200);
    assert.deepEqual(out.x, [200, "no header"]);
    assert.match(out.bad, /xhr\.mpnetApi is "upload"; want "request", "uploadFile" or "downloadFile"/);
    assert.match(out.badFetch, /init\.mpnetApi is "connectSocket"/);
    assert.deepEqual(records.map((r) => [r.api, r.verdict]), [["downloadFile", "ok"], ["uploadFile", "ok"]]);
  } finally {
    await p.close();
  }
});

test("R14: fetch and XHR judge the URL a redirect ends at before the app sees the response; the record keeps the hop", async () => {
  const p = await open("axios.html");
  try {
    const to = (target) => `https://redir.mpnet.test:${redir.port}/to?u=${encodeURIComponent(target)}`;
    const port = new URL(stack.fx.byName.valid.url).port;
    const { out, records } = await p.evaluate((c) => t.recorded(async () => {
      const viaFetch = (url) => fetch(url).then((r) => "ok " + r.status + " " + r.redirected, (e) => e.message);
      const viaXHR = (url) => new Promise((res) => {
        const r = new XMLHttpRequest();
        r.open("GET", url);
        r.onload = () => res("ok " + r.status);
        r.onerror = () => res(r.mpnetErrMsg || "network error");
        r.send();
      });
      return {
        listed: await viaFetch(c.listed), unlisted: await viaFetch(c.unlisted), local: await viaFetch(c.local),
        xhrListed: await viaXHR(c.listed), xhrUnlisted: await viaXHR(c.unlisted),
      };
    }), { listed: to(`https://valid.mpnet.test:${port}/json`), unlisted: to(`https://stats.mpnet.test:${port}/json`), local: to(`https://127.0.0.1:${port}/json`) });
    assert.deepEqual(out, {
      listed: "ok 200 true", unlisted: `request:fail ${NOT_LISTED}`, local: `request:fail ${NOT_LISTED}`,
      xhrListed: "ok 200", xhrUnlisted: `request:fail ${NOT_LISTED}`,
    });
    const r = records.map((x) => [x.verdict, x.rule, (x.hops || []).map((h) => h.split("/")[2])]);
    assert.deepEqual(r, [
      ["ok", "", [`valid.mpnet.test:${port}`]], ["fail", "R14", [`stats.mpnet.test:${port}`]], ["fail", "R14", [`127.0.0.1:${port}`]],
      ["ok", "", [`valid.mpnet.test:${port}`]], ["fail", "R14", [`stats.mpnet.test:${port}`]],
    ]);
    // Two hops: the page sees where the call ended; the background (webRequest) fills in every hop for the panel.
    const twoHops = to(to(`https://valid.mpnet.test:${port}/json?two`));
    assert.equal(await p.evaluate((url) => fetch(url).then((r) => r.status, (e) => e.message), twoHops), 200);
    const popup = await stack.context.newPage();
    await popup.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
    const tabId = await popup.evaluate(async (href) => (await chrome.tabs.query({})).find((t) => t.url === href).id, p.url());
    const chain = await waitForAsync(popup, async ({ id, url }) => {
      const r = (await chrome.runtime.sendMessage({ type: "getRecords", tabId: id })).find((x) => x.url === url);
      return r && r.hopsComplete && r.hops;
    }, { id: tabId, url: twoHops });
    await popup.close();
    assert.deepEqual(chain.map((h) => new URL(h).host), [`redir.mpnet.test:${redir.port}`, `valid.mpnet.test:${port}`]);
  } finally {
    await p.close();
  }
});

test("R13: an image and audio over http are recorded with the rule and the fix; https ones are not violations", async () => {
  const p = await open("axios.html");
  try {
    const port = new URL(stack.fx.byName.valid.url).port;
    const got = await p.evaluate(({ http, https }) => new Promise((resolve) => {
      const recs = [];
      window.mpnet.addEventListener("verdict", (e) => { if (e.detail.api === "resource") recs.push(e.detail); });
      for (const src of [http + "/pic.png", https + "/pic.png"]) {
        const img = new Image();
        img.src = src;
        document.body.append(img);
      }
      const audio = new Audio(http + "/song.mp3");
      audio.preload = "auto";
      setTimeout(() => resolve(recs.map((r) => ({ url: r.url, kind: r.kind, verdict: r.verdict, rule: r.rule, fix: r.findings[0] && r.findings[0].fix }))), 2500);
    }), { http: `http://localhost:${new URL(stack.preview.url).port}`, https: `https://valid.mpnet.test:${port}` });
    const bad = got.filter((r) => r.verdict === "fail");
    assert.deepEqual(bad.map((r) => [r.kind, r.rule, new URL(r.url).pathname]).sort(), [["audio", "R13", "/song.mp3"], ["img", "R13", "/pic.png"]]);
    assert.ok(bad.every((r) => /https/.test(r.fix)), JSON.stringify(bad));
    assert.deepEqual(got.filter((r) => r.verdict !== "fail").map((r) => new URL(r.url).host), [`valid.mpnet.test:${port}`]);
  } finally {
    await p.close();
  }
});

test("a synchronous XHR made while the module is still loading fails with a record, never goes out unchecked", async () => {
  const p = await stack.context.newPage();
  try {
    // The page's first inline script runs some 20-35 ms after navigation
    // start, the module is ready after ~65 ms or more: it meets a runtime
    // still loading (the page says so; a rare fast load is tried again).
    let early;
    for (let i = 0; i < 3; i++) {
      await p.goto(stack.preview.url + "early.html");
      await p.waitForFunction(() => window.mpnet && window.mpnet.status().state === "ready", null, { timeout: 20000 });
      early = await p.evaluate(() => window.__early);
      if (early.state === "loading") break;
    }
    assert.equal(early.state, "loading", "the page's first script ran before the module was ready");
    assert.match(early.out, /^NetworkError: .*request:fail mpnet is still loading/);
    const recs = [];
    const popup = await stack.context.newPage();
    await popup.goto(`chrome-extension://${stack.extensionId}/ui/popup.html`);
    const tabId = await popup.evaluate(async (href) => (await chrome.tabs.query({})).find((t) => t.url === href).id, p.url());
    await waitForAsync(popup, async (id) => (await chrome.runtime.sendMessage({ type: "getRecords", tabId: id })).some((r) => r.rule === "sync"), tabId);
    recs.push(...(await popup.evaluate((id) => chrome.runtime.sendMessage({ type: "getRecords", tabId: id }), tabId)));
    await popup.close();
    const rec = recs.find((r) => r.rule === "sync");
    assert.equal(rec.state, "failed");
    assert.equal(rec.verdict, "fail");
    assert.match(rec.findings[0].message, /still loading/);
  } finally {
    await p.close();
  }
});
