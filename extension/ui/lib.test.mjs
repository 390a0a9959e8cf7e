// Unit tests of the pages' pure helpers, and consistency checks of the
// pages and locale files. Run: node --test extension/ui/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";

// lib.js must load without chrome.* or a DOM.
assert.equal(typeof globalThis.chrome, "undefined");
const lib = await import("./lib.js");
const {
  formatTime, formatMs, fileStamp, hostsToAdd, hostsAsMpnetJSON, concurrencySeries, clipSeries, recordSpans, toHAR,
  matchesFilter, countRecords, verdictOf, problemLine, problemLocation, normalizeOrigin, originMatches, parseLan,
  buildOptionsFile, splitOptionsFile, sameFiles, upsertFile, t, tOr, RULES, OPTIONS_FILE, PASTE_NAMES,
} = lib;

const here = path.dirname(fileURLToPath(import.meta.url));
const extDir = path.resolve(here, "..");
const repo = path.resolve(extDir, "..");

// ------------------------------------------------------------------ time

test("formatTime gives local HH:MM:SS.mmm", () => {
  assert.equal(formatTime(new Date(2024, 0, 2, 3, 4, 5, 6).getTime()), "03:04:05.006");
  assert.equal(formatTime(new Date(2024, 11, 31, 23, 59, 59, 999).getTime()), "23:59:59.999");
  assert.equal(formatTime(new Date(2024, 5, 1, 12, 0, 0, 0).getTime()), "12:00:00.000");
});

test("formatTime and formatMs tolerate missing values", () => {
  for (const v of [undefined, null, NaN, Infinity, "12", {}, 8.64e16]) assert.equal(formatTime(v), "");
  assert.equal(formatMs(undefined), "");
  assert.equal(formatMs(-1), "");
  assert.equal(formatMs("5"), "");
  assert.equal(formatMs(0), "0");
  assert.equal(formatMs(12.6), "13");
});

test("fileStamp is YYYYMMDD-HHMMSS in local time", () => {
  assert.equal(fileStamp(new Date(2024, 0, 2, 3, 4, 5).getTime()), "20240102-030405");
});

// ---------------------------------------------------------- hosts to add

const f = (rule, list, entry, extra = {}) => ({ rule, severity: "error", message: "m", fix: "x", list, entry, ...extra });

test("hostsToAdd groups entries per list, in mpnet.json order, sorted and unique", () => {
  const records = [
    { id: "1", api: "connectSocket", findings: [f("R2", "domains.socket", "wss://push.example.com")] },
    { id: "2", api: "request", findings: [f("R2", "domains.request", "https://stats.example.net")] },
    { id: "3", api: "request", findings: [f("R2", "domains.request", "https://cdn.example.com"), f("R11", undefined, undefined)] },
    { id: "4", api: "request", findings: [f("R2", "domains.request", "https://stats.example.net")] },
    { id: "5", api: "downloadFile", findings: [f("R2", "domains.downloadFile", "https://api.example.com")] },
    { id: "6", api: "request", findings: [f("R1", "domains.request", "")] }, // http: URL: nothing to add
    { id: "7", api: "request", findings: [f("C5", "domains.request", "https://m.api.example.com", { severity: "warning" })] },
    { id: "8", api: "tcp", findings: [f("R2", "extra.list", "tcp://x")] },
  ];
  assert.deepEqual(hostsToAdd(records), [
    { list: "domains.request", entries: ["https://cdn.example.com", "https://m.api.example.com", "https://stats.example.net"] },
    { list: "domains.downloadFile", entries: ["https://api.example.com"] },
    { list: "domains.socket", entries: ["wss://push.example.com"] },
    { list: "extra.list", entries: ["tcp://x"] },
  ]);
});

test("hostsToAdd never throws on malformed records", () => {
  assert.deepEqual(hostsToAdd(undefined), []);
  assert.deepEqual(hostsToAdd([null, 1, "x", {}, { findings: null }, { findings: [null, 3, { list: 1, entry: 2 }] }]), []);
});

test("hostsAsMpnetJSON writes a domains object", () => {
  const groups = [
    { list: "domains.request", entries: ["https://a.example.com", "https://b.example.com"] },
    { list: "domains.socket", entries: ["wss://ws.example.com"] },
    { list: "other", entries: ["ignored"] },
  ];
  const json = JSON.parse(hostsAsMpnetJSON(groups));
  assert.deepEqual(json, { domains: { request: ["https://a.example.com", "https://b.example.com"], socket: ["wss://ws.example.com"] } });
  assert.deepEqual(JSON.parse(hostsAsMpnetJSON([])), { domains: {} });
  assert.deepEqual(JSON.parse(hostsAsMpnetJSON(null)), { domains: {} });
});

// ------------------------------------------------------------ chart data

test("concurrencySeries counts the pool's running and queued calls", () => {
  const records = [];
  for (let i = 0; i < 10; i++) records.push({ id: String(i), api: i % 3 === 0 ? "uploadFile" : "request", state: "done", startedAt: 1000, queuedMs: 0, durationMs: 100 });
  // The 11th waits until the first slot frees at 1100, then runs 50 ms.
  records.push({ id: "10", api: "downloadFile", state: "done", startedAt: 1010, queuedMs: 90, durationMs: 50 });
  // Blocked calls never run; other APIs are not counted.
  records.push({ id: "b", api: "request", state: "blocked", startedAt: 1000, queuedMs: 0, durationMs: 0 });
  records.push({ id: "r", api: "resource", state: "done", startedAt: 1000, durationMs: 500 });
  const s = concurrencySeries(records, 5000);
  assert.deepEqual(s.points, [
    { t: 1000, running: 10, queued: 0, sockets: 0 },
    { t: 1010, running: 10, queued: 1, sockets: 0 },
    { t: 1100, running: 1, queued: 0, sockets: 0 },
    { t: 1150, running: 0, queued: 0, sockets: 0 },
  ]);
  assert.deepEqual(s.max, { running: 10, queued: 1, sockets: 0 });
  assert.equal(s.start, 1000);
  assert.equal(s.end, 1150);
});

test("concurrencySeries counts sockets and extends open calls to now", () => {
  const records = [
    { id: "s1", api: "connectSocket", state: "done", startedAt: 0, durationMs: 1000, status: 101 },
    { id: "s2", api: "connectSocket", state: "running", startedAt: 500 },
    { id: "q", api: "request", state: "queued", startedAt: 200 },
    { id: "w", api: "request", state: "running", startedAt: 300, queuedMs: 100 },
  ];
  const s = concurrencySeries(records, 2000);
  assert.deepEqual(s.points, [
    { t: 0, running: 0, queued: 0, sockets: 1 },
    { t: 200, running: 0, queued: 1, sockets: 1 },
    { t: 300, running: 0, queued: 2, sockets: 1 },
    { t: 400, running: 1, queued: 1, sockets: 1 },
    { t: 500, running: 1, queued: 1, sockets: 2 },
    { t: 1000, running: 1, queued: 1, sockets: 1 },
    { t: 2000, running: 0, queued: 0, sockets: 0 },
  ]);
  assert.deepEqual(s.max, { running: 1, queued: 2, sockets: 2 });
});

test("concurrencySeries of nothing is empty, and garbage is skipped", () => {
  assert.deepEqual(concurrencySeries([], 0), { points: [], start: null, end: null, max: { running: 0, queued: 0, sockets: 0 } });
  const s = concurrencySeries([null, {}, { api: "request" }, { api: "request", startedAt: "x" }, { api: "request", startedAt: 5, durationMs: -3, state: "done" }], 10);
  assert.deepEqual(s.points, []);
  assert.equal(recordSpans(null), null);
});

test("clipSeries keeps a window and starts it with the counts in force", () => {
  const s = { points: [
    { t: 0, running: 3, queued: 0, sockets: 1 },
    { t: 100, running: 10, queued: 2, sockets: 1 },
    { t: 200, running: 4, queued: 0, sockets: 0 },
    { t: 300, running: 0, queued: 0, sockets: 0 },
  ] };
  assert.deepEqual(clipSeries(s, 150, 250), {
    points: [{ t: 150, running: 10, queued: 2, sockets: 1 }, { t: 200, running: 4, queued: 0, sockets: 0 }],
    start: 150, end: 250, max: { running: 10, queued: 2, sockets: 1 },
  });
  assert.deepEqual(clipSeries(s, 400, 500).points, []);
  assert.deepEqual(clipSeries(s, -50, 50).points, [{ t: 0, running: 3, queued: 0, sockets: 1 }]);
  assert.deepEqual(clipSeries(null, 0, 1).points, []);
});

// ------------------------------------------------------------------- HAR

const sample = [
  {
    id: "0-2", api: "uploadFile", method: "POST", url: "https://upload.example.com/put?x=1&y=2", frame: "http://localhost:10086/",
    startedAt: Date.UTC(2024, 0, 2, 3, 4, 5, 600), state: "done", verdict: "ok", rule: "", errMsg: "",
    findings: [], queuedMs: 40, durationMs: 120, status: 200, mode: "enforce",
  },
  {
    id: "0-1", api: "request", method: "GET", url: "https://cdn.example.com/config.json",
    startedAt: Date.UTC(2024, 0, 2, 3, 4, 5, 6), state: "blocked", verdict: "fail", rule: "R2",
    errMsg: "request:fail url not in domain list", proceeded: false,
    findings: [f("R2", "domains.request", "https://cdn.example.com", { console: "https://cdn.example.com/config.json 不在以下 request 合法域名列表中" })],
    queuedMs: 0, durationMs: 0, mode: "enforce",
  },
  { id: "0-3", api: "connectSocket", url: "wss://ws.example.com/chat", startedAt: Date.UTC(2024, 0, 2, 3, 4, 6), state: "running", verdict: "ok", status: 101 },
  { id: "0-4", api: "downloadFile", url: "https://cdn.example.com/a.png" }, // no time, no method, no verdict
];

test("toHAR writes a HAR 1.2 log, one entry per record, in start order", () => {
  const har = toHAR(sample, { version: "1.2.3" });
  assert.equal(har.log.version, "1.2");
  assert.deepEqual(har.log.creator, { name: "mpnet", version: "1.2.3" });
  assert.ok(Array.isArray(har.log.pages));
  const e = har.log.entries;
  assert.equal(e.length, 4);
  // The record without a start time keeps its place after the one before it.
  assert.deepEqual(e.map((x) => x._mpnet.id), ["0-1", "0-2", "0-3", "0-4"]);
  const byId = Object.fromEntries(e.map((x) => [x._mpnet.id, x]));
  const up = byId["0-2"];
  assert.equal(up.startedDateTime, "2024-01-02T03:04:05.600Z");
  assert.equal(up.time, 160);
  assert.deepEqual(up.timings, { blocked: 40, dns: -1, connect: -1, send: 0, wait: 120, receive: 0, ssl: -1 });
  assert.deepEqual(up.request.method, "POST");
  assert.equal(up.request.url, "https://upload.example.com/put?x=1&y=2");
  assert.deepEqual(up.request.headers, []);
  assert.deepEqual(up.request.queryString, [{ name: "x", value: "1" }, { name: "y", value: "2" }]);
  assert.equal(up.response.status, 200);
  assert.deepEqual(up.response.headers, []);
  assert.equal(up._resourceType, "fetch");
  assert.equal(up._mpnet.api, "uploadFile");
  const blocked = byId["0-1"];
  assert.equal(blocked.response.status, 0);
  assert.equal(blocked.time, 0);
  assert.deepEqual(blocked._mpnet.findings, sample[1].findings);
  assert.equal(blocked._mpnet.verdict, "fail");
  assert.equal(blocked._mpnet.rule, "R2");
  assert.equal(blocked._mpnet.errMsg, "request:fail url not in domain list");
  assert.equal(byId["0-3"]._resourceType, "websocket");
  assert.equal(byId["0-3"].response.status, 101);
  assert.equal(byId["0-3"].request.method, "GET");
  const bare = byId["0-4"];
  assert.equal(bare.request.method, "GET");
  assert.equal(bare.startedDateTime, "2024-01-02T03:04:06.000Z");
  assert.equal(bare._mpnet.api, "downloadFile");
  assert.equal(bare._mpnet.verdict, "");
  for (const x of e) {
    for (const k of ["startedDateTime", "time", "request", "response", "cache", "timings"]) assert.ok(k in x, k);
    for (const k of ["method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"]) assert.ok(k in x.request, k);
    for (const k of ["status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize"]) assert.ok(k in x.response, k);
    assert.equal(typeof x.time, "number");
    assert.ok(!Number.isNaN(Date.parse(x.startedDateTime)));
  }
  // Serialisable as is.
  assert.deepEqual(JSON.parse(JSON.stringify(har)).log.entries.length, 4);
});

test("toHAR leaves out the dev server's own traffic (R15 tooling records)", () => {
  const e = toHAR([{ id: "a", startedAt: 1, url: "https://api.example.com/x" }, { id: "b", startedAt: 2, url: "ws://localhost:5173/", tooling: true }]).log.entries;
  assert.deepEqual(e.map((x) => x.request.url), ["https://api.example.com/x"]);
});

test("toHAR keeps records without a start time after their predecessor", () => {
  const e = toHAR([{ id: "a", startedAt: 5000 }, { id: "b" }, { id: "c", startedAt: 4000 }]).log.entries;
  assert.deepEqual(e.map((x) => x._mpnet.id), ["c", "a", "b"]);
  assert.equal(e[2].startedDateTime, new Date(5000).toISOString());
});

test("toHAR of nothing or garbage is an empty log", () => {
  assert.deepEqual(toHAR(undefined).log.entries, []);
  assert.deepEqual(toHAR([null, 3, "x"]).log.entries, []);
  assert.equal(toHAR([]).log.creator.version, "0");
});

const hostsim = path.join(repo, "dist", "hostsim");
test("hostsim audit reads the exported HAR and keeps each record's API", { skip: !existsSync(hostsim) && "dist/hostsim not built" }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "mpnet-ui-"));
  try {
    const cfg = path.join(dir, "mpnet.json");
    writeFileSync(cfg, JSON.stringify({ domains: { request: ["https://api.example.com"], uploadFile: ["https://upload.example.com"], socket: ["wss://ws.example.com"] } }));
    const file = path.join(dir, "x.har");
    writeFileSync(file, JSON.stringify(toHAR(sample, { version: "test" }), null, 2));
    const r = spawnSync(hostsim, ["audit", "--json", "--config", cfg, file], { encoding: "utf8" });
    assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    const apis = out.entries.map((x) => x.api).sort();
    assert.deepEqual(apis, ["connectSocket", "downloadFile", "request", "uploadFile"]);
    assert.ok(out.entries.every((x) => x.recorded && x.recorded.api === x.api));
    assert.deepEqual(out.summary.hostsToAdd["domains.request"], ["https://cdn.example.com"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- filters

test("matchesFilter filters by text, API and verdict", () => {
  const r = sample[1];
  assert.ok(matchesFilter(r, {}));
  assert.ok(matchesFilter(r, { text: "CDN.example" }));
  assert.ok(matchesFilter(r, { text: "r2 not in domain" }));
  assert.ok(!matchesFilter(r, { text: "cdn -config" }));
  assert.ok(matchesFilter(r, { api: "request", verdict: "fail" }));
  assert.ok(matchesFilter(r, { verdict: "all" }));
  assert.ok(!matchesFilter(r, { api: "uploadFile" }));
  assert.ok(!matchesFilter(r, { verdict: "ok" }));
  assert.ok(!matchesFilter(sample[3], { verdict: "ok" }));
  assert.ok(!matchesFilter(null, {}));
  assert.ok(matchesFilter({}, { text: "" }));
});

test("countRecords and verdictOf", () => {
  assert.deepEqual(countRecords(sample), { calls: 4, fail: 1, warn: 0 });
  assert.deepEqual(countRecords(null), { calls: 0, fail: 0, warn: 0 });
  assert.equal(verdictOf({ verdict: "nope" }), "");
  assert.equal(verdictOf(undefined), "");
});

// ------------------------------------------------------- configuration

test("problemLine formats file:line:col RULE severity message — fix", () => {
  const p = { rule: "C3", severity: "error", file: "domains.json", line: 4, col: 48, entry: "https://s.example.com:8443", message: "carries a port", fix: "write \"https://s.example.com\"" };
  assert.equal(problemLine(p), "domains.json:4:48 C3 error carries a port — write \"https://s.example.com\"");
  assert.equal(problemLine({ severity: "warning", message: "m" }), "warning m");
  assert.equal(problemLocation({ file: "a.json", line: 3 }), "a.json:3");
  assert.equal(problemLocation({ line: 3, col: 2 }), "3:2");
  assert.equal(problemLine(null), "");
});

test("normalizeOrigin accepts what developers type", () => {
  assert.equal(normalizeOrigin("http://localhost:10086"), "http://localhost:10086");
  assert.equal(normalizeOrigin("  localhost:5173/#/pages/index "), "http://localhost:5173");
  assert.equal(normalizeOrigin("HTTPS://Preview.Example.com:443/x"), "https://preview.example.com");
  assert.equal(normalizeOrigin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  assert.equal(normalizeOrigin("http://[::1]:8080/"), "http://[::1]:8080");
  for (const bad of ["", "   ", "ftp://x.com", "chrome://extensions", "file:///tmp/a.html", "http://", null, undefined]) {
    assert.equal(normalizeOrigin(bad), null, String(bad));
  }
});

test("originMatches follows Chrome's match patterns", () => {
  const yes = [
    ["http://localhost:10086", "http://localhost/*"],
    ["http://localhost:10086", "http://localhost:10086/*"],
    ["http://localhost:10086", "*://localhost/*"],
    ["https://a.b.example.com", "https://*.example.com/*"],
    ["https://example.com", "https://*.example.com/*"],
    ["http://127.0.0.1:5173", "http://127.0.0.1:*/*"],
    ["http://[::1]:8080", "http://[::1]:8080/*"],
    ["https://x.test", "https://x.test:443/*"],
    ["http://anything.test:1", "http://*/*"],
  ];
  for (const [o, p] of yes) assert.ok(originMatches(o, p), `${o} ~ ${p}`);
  const no = [
    ["http://localhost:10086", "http://localhost:8080/*"],
    ["https://localhost", "http://localhost/*"],
    ["https://badexample.com", "https://*.example.com/*"],
    ["http://x.test", "not a pattern"],
    ["ftp://x.test", "*://x.test/*"],
    ["http://x.test", undefined],
  ];
  for (const [o, p] of no) assert.ok(!originMatches(o, p), `${o} !~ ${p}`);
});

test("buildOptionsFile writes only the settings given, and splitOptionsFile reads them back", () => {
  assert.equal(buildOptionsFile({}), null);
  assert.equal(buildOptionsFile({ mode: "", legacy: false, lan: " , ", lanOff: false, timeoutFrom: "" }), null);
  const adv = { mode: "report", legacy: true, lan: "10.0.0.0/8, 192.168.1.0/24\nfd00::/8", lanOff: false, timeoutFrom: "start" };
  const file = buildOptionsFile(adv);
  assert.equal(file.name, OPTIONS_FILE);
  assert.deepEqual(JSON.parse(file.content), { domains: {}, mode: "report", concurrency: "legacy", lan: ["10.0.0.0/8", "192.168.1.0/24", "fd00::/8"], timeoutFrom: "start" });
  assert.deepEqual(JSON.parse(buildOptionsFile({ lanOff: true, lan: "10.0.0.0/8" }).content), { domains: {}, lan: false });
  const project = { name: "project.config.json", content: "{}" };
  const back = splitOptionsFile([project, file, null]);
  assert.deepEqual(back.files, [project]);
  assert.deepEqual(back.adv, { mode: "report", legacy: true, lan: "10.0.0.0/8, 192.168.1.0/24, fd00::/8", lanOff: false, timeoutFrom: "start" });
  assert.deepEqual(splitOptionsFile([{ name: OPTIONS_FILE, content: "not json" }]).adv.mode, "");
  assert.equal(splitOptionsFile([buildOptionsFile({ lanOff: true })]).adv.lanOff, true);
  assert.deepEqual(parseLan("a; b  c,,d"), ["a", "b", "c", "d"]);
});

test("sameFiles and upsertFile", () => {
  const a = [{ name: "a.json", content: "1" }];
  assert.ok(sameFiles(a, [{ name: "a.json", content: "1" }]));
  assert.ok(!sameFiles(a, [{ name: "a.json", content: "2" }]));
  assert.ok(!sameFiles(a, []));
  assert.ok(sameFiles(undefined, []));
  const b = upsertFile(a, { name: "b.json", content: "2" });
  assert.deepEqual(b.map((x) => x.name), ["a.json", "b.json"]);
  const c = upsertFile(b, { name: "a.json", content: "3" });
  assert.deepEqual(c, [{ name: "a.json", content: "3" }, { name: "b.json", content: "2" }]);
  assert.equal(a[0].content, "1");
});

test("t falls back to the key outside an extension page", () => {
  assert.equal(t("save"), "save");
  assert.equal(tOr("save", "fallback"), "fallback");
});

// ------------------------------------------------ pages and locale files

function readJSON(p) {
  return JSON.parse(readFileSync(p, "utf8"));
}

const locales = Object.fromEntries(["en", "zh_CN"].map((l) => [l, readJSON(path.join(extDir, "_locales", l, "messages.json"))]));
const pages = readdirSync(here).filter((n) => n.endsWith(".html"));
const scripts = readdirSync(here).filter((n) => n.endsWith(".js"));

function usedKeys() {
  const keys = new Set();
  for (const n of pages) {
    const s = readFileSync(path.join(here, n), "utf8");
    for (const m of s.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)) keys.add(m[1]);
  }
  for (const n of scripts) {
    const s = readFileSync(path.join(here, n), "utf8");
    for (const m of s.matchAll(/\bt(?:Or)?\("([A-Za-z0-9_@]+)"\s*[,)]/g)) keys.add(m[1]);
  }
  // Keys built at run time from a prefix and a value.
  for (const s of ["loading", "ready", "failed", "none"]) keys.add("status_" + s);
  for (const s of ["waiting", "queued", "running", "done", "blocked", "failed"]) keys.add("state_" + s);
  for (const v of ["ok", "warn", "fail"]) keys.add("verdict_" + v), keys.add("verdictShort_" + v);
  for (const s of ["error", "warning", "info"]) keys.add("sev_" + s);
  for (const m of ["enforce", "report", "off"]) keys.add("mode_" + m);
  for (const r of RULES) keys.add("rule_" + r);
  for (const n of PASTE_NAMES) keys.add("pasteName_" + n.replace(/\W/g, "_"));
  keys.add("extName");
  keys.add("extDescription");
  return keys;
}

test("both locales define every key the pages use, with the same placeholders", () => {
  const keys = usedKeys();
  for (const [l, msgs] of Object.entries(locales)) {
    for (const k of keys) {
      assert.ok(msgs[k] && typeof msgs[k].message === "string" && msgs[k].message.trim(), `${l}: missing ${k}`);
    }
  }
  assert.deepEqual(Object.keys(locales.zh_CN).sort(), Object.keys(locales.en).sort());
  for (const k of Object.keys(locales.en)) {
    assert.match(k, /^[A-Za-z0-9_@]+$/);
    const ph = (l) => JSON.stringify(locales[l][k].placeholders || {});
    assert.equal(ph("zh_CN"), ph("en"), `placeholders of ${k}`);
    for (const l of Object.keys(locales)) {
      const m = locales[l][k].message;
      for (const p of m.matchAll(/\$([A-Za-z0-9_@]+)\$/g)) {
        assert.ok(locales[l][k].placeholders && locales[l][k].placeholders[p[1].toLowerCase()], `${l} ${k}: undefined placeholder ${p[1]}`);
      }
    }
  }
  assert.ok(locales.en.extName.message.length <= 75);
  assert.ok(locales.en.extDescription.message.length <= 132);
  assert.ok(locales.zh_CN.extDescription.message.length <= 132);
  assert.ok(/[\u4e00-\u9fff]/.test(locales.zh_CN.rule_R2.message), "zh_CN is Chinese");
});

test("the pages load only module scripts from files and have no inline handlers", () => {
  for (const n of pages) {
    const s = readFileSync(path.join(here, n), "utf8");
    const tags = [...s.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(tags.length >= 1, `${n} loads a script`);
    for (const [, attrs, body] of tags) {
      assert.match(attrs, /type="module"/, n);
      assert.match(attrs, /src="[^"]+\.js"/, n);
      assert.equal(body.trim(), "", `${n}: inline script`);
      const src = attrs.match(/src="([^"]+)"/)[1];
      assert.ok(existsSync(path.join(here, src)), `${n}: ${src} exists`);
    }
    assert.doesNotMatch(s, /\son[a-z]+="/i, `${n}: inline event handler`);
    assert.doesNotMatch(s, /javascript:/i, n);
  }
});

test("the pages' rule IDs are docs/RULES.md's, in its order (the one source of the rule texts)", () => {
  const md = readFileSync(path.join(here, "../../docs/RULES.md"), "utf8");
  const ids = [...md.matchAll(/^### <a id="([CR]\d+)"><\/a>/gm)].map((m) => m[1]);
  assert.deepEqual(RULES, ids);
});

test("Node loads the ES modules it imports without guessing their type (no MODULE_TYPELESS_PACKAGE_JSON)", () => {
  for (const f of ["../../wasm/loader.js", "./lib.js", "../src/background.js"]) {
    const url = new URL(f, import.meta.url).href;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(url)}).catch((e) => { if (!/chrome|document|window|self/.test(String(e))) throw e; });`], { encoding: "utf8" });
    assert.doesNotMatch(r.stderr, /MODULE_TYPELESS_PACKAGE_JSON|Module type of/, `${f}: ${r.stderr}`);
  }
});
