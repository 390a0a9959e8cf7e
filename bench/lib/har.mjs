// Writes a large HAR shaped like Chromium's "Save all as HAR" export (the
// same fields as demo/preview.har), streaming it to disk so that memory stays
// flat however many entries are asked for. The URLs are a deterministic mix
// of calls demo/mpnet.json allows and calls a phone would refuse.

import { openSync, writeSync, closeSync, statSync } from "node:fs";

// A small deterministic PRNG (mulberry32), so every run audits the same file.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAGE = "http://localhost:10086/";

// Each kind: weight, and a function (random, index) -> entry facts.
// "expect" is what the audit should say; it documents the mix, the audit is
// not checked against it.
const KINDS = [
  { w: 46, expect: "ok", make: (r, i) => ({ type: r() < 0.5 ? "xhr" : "fetch", method: "GET", url: `https://api.example.com/goods/${i % 977}?page=${i % 13}`, status: 200, ct: "application/json; charset=utf-8", time: 20 + r() * 180 }) },
  { w: 8, expect: "ok", make: (r, i) => ({ type: "fetch", method: "POST", url: "https://api.example.com/order/create", status: 200, ct: "application/json", time: 40 + r() * 260 }) },
  { w: 4, expect: "warn R11", make: (r, i) => ({ type: "fetch", method: "POST", url: "https://api.example.com/order/create", status: 500, ct: "application/json; charset=utf-8", time: 30 + r() * 200 }) },
  { w: 6, expect: "ok (resource)", make: (r, i) => ({ type: "image", method: "GET", url: `https://cdn.example.com/img/${i % 3001}.png`, status: 200, ct: "image/png", time: 10 + r() * 90 }) },
  { w: 6, expect: "fail R2", make: (r, i) => ({ type: "fetch", method: "POST", url: "https://stats.example.net/collect", status: 204, ct: "", time: 15 + r() * 60 }) },
  { w: 3, expect: "fail R2 (subdomain)", make: (r, i) => ({ type: "fetch", method: "GET", url: "https://m.api.example.com/home", status: 200, ct: "application/json", time: 30 + r() * 100 }) },
  { w: 4, expect: "fail R1", make: (r, i) => ({ type: "fetch", method: "GET", url: "http://api.example.com/legacy/notice", status: 200, ct: "text/plain", time: 20 + r() * 60 }) },
  { w: 3, expect: "fail R3", make: (r, i) => ({ type: "xhr", method: "GET", url: `http://localhost:3000/mock/goods/list?i=${i % 50}`, status: 200, ct: "application/json", time: 5 + r() * 20 }) },
  { w: 2, expect: "fail R4", make: (r, i) => ({ type: "fetch", method: "GET", url: "https://192.168.1.20:8443/device/status", status: 200, ct: "application/json", time: 20 + r() * 40 }) },
  { w: 2, expect: "warn R10", make: (r, i) => ({ type: "xhr", method: "GET", url: "https://api.example.com/legacy/gbk-notice", status: 200, ct: "text/plain; charset=gbk", time: 40 + r() * 80 }) },
  { w: 0.2, expect: "fail R6", make: (r, i) => ({ type: "xhr", method: "GET", url: "https://api.example.com/report/slow", status: 200, ct: "application/json", time: 10500 + r() * 3000 }) },
  { w: 1, expect: "ok (socket)", make: (r, i) => ({ type: "websocket", method: "GET", url: "wss://ws.example.com/chat", status: 101, ct: "", time: 1000 + r() * 4000 }) },
  { w: 1, expect: "fail R2 (socket)", make: (r, i) => ({ type: "websocket", method: "GET", url: "wss://push.example.com/live", status: 101, ct: "", time: 500 + r() * 2000 }) },
  { w: 8, expect: "skipped (page asset)", make: (r, i) => ({ type: r() < 0.5 ? "script" : "stylesheet", method: "GET", url: `${PAGE}static/${r() < 0.5 ? "js" : "css"}/chunk-${i % 211}.${r() < 0.5 ? "js" : "css"}`, status: 200, ct: "application/javascript", time: 5 + r() * 30 }) },
  { w: 5, expect: "ok", make: (r, i) => ({ type: "fetch", method: "GET", url: `https://api.example.com/user/profile?uid=${i}`, status: 200, ct: "application/json; charset=utf-8", time: 25 + r() * 120 }) },
];
const TOTAL_W = KINDS.reduce((s, k) => s + k.w, 0);

function pick(r) {
  let x = r() * TOTAL_W;
  for (const k of KINDS) {
    if ((x -= k.w) < 0) return k;
  }
  return KINDS[0];
}

function entryJSON(f, started) {
  const mime = f.ct.split(";")[0].trim();
  const wait = Math.max(0, f.time - 1.2);
  const e = {
    _initiator: { type: "script" },
    _priority: f.type === "image" ? "Low" : "High",
    _resourceType: f.type,
    cache: {},
    connection: "443",
    request: {
      method: f.method,
      url: f.url,
      httpVersion: "http/2.0",
      headers: [
        { name: "Accept", value: f.type === "image" ? "image/avif,image/webp,*/*" : "*/*" },
        { name: "Referer", value: PAGE },
        { name: "User-Agent", value: "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36" },
        ...(f.method === "POST" ? [{ name: "Content-Type", value: "application/json" }] : []),
      ],
      queryString: [],
      cookies: [],
      headersSize: -1,
      bodySize: f.method === "POST" ? 64 : 0,
      ...(f.method === "POST" ? { postData: { mimeType: "application/json", text: '{"goods":[1,2,3],"coupon":""}' } } : {}),
    },
    response: {
      status: f.status,
      statusText: "",
      httpVersion: "http/2.0",
      headers: [{ name: "content-type", value: f.ct }, { name: "content-length", value: "512" }],
      cookies: [],
      content: { size: 512, mimeType: mime },
      redirectURL: "",
      headersSize: -1,
      bodySize: 512,
      _transferSize: 700,
      _error: null,
    },
    serverIPAddress: "203.0.113.10",
    startedDateTime: new Date(started).toISOString(),
    time: Math.round(f.time * 10) / 10,
    timings: { blocked: 1, dns: -1, ssl: -1, connect: -1, send: 0.2, wait: Math.round(wait * 10) / 10, receive: 0.8, _blocked_queueing: 0.5 },
  };
  if (f.type === "websocket") e._webSocketMessages = [{ type: "send", time: 1.0, opcode: 1, data: "hello" }];
  return JSON.stringify(e, null, 1);
}

/**
 * writeHAR writes a HAR with `entries` entries to file and answers
 * {file, entries, bytes, mix} (mix: how many entries of each expected verdict).
 */
export function writeHAR(file, entries, seed = 5) {
  const r = rng(seed);
  const fd = openSync(file, "w");
  const mix = {};
  try {
    const head = { version: "1.2", creator: { name: "WebInspector", version: "537.36" },
      pages: [{ startedDateTime: "2026-11-24T08:00:00.000Z", id: "page_1", title: PAGE, pageTimings: { onContentLoad: 300, onLoad: 400 } }] };
    const opening = JSON.stringify({ log: head }, null, 1);
    writeSync(fd, opening.slice(0, opening.lastIndexOf("}")).replace(/\s*}\s*$/, "") + ',\n "entries": [\n');
    let t = Date.parse("2026-11-24T08:00:00.000Z");
    let buf = "";
    for (let i = 0; i < entries; i++) {
      const k = pick(r);
      mix[k.expect] = (mix[k.expect] || 0) + 1;
      // Calls arrive 5-60 ms apart, with a burst (1 ms apart) now and then.
      t += r() < 0.05 ? 1 : 5 + Math.floor(r() * 55);
      buf += (i ? ",\n" : "") + entryJSON(k.make(r, i), t);
      if (buf.length > 1 << 20) { writeSync(fd, buf); buf = ""; }
    }
    writeSync(fd, buf + "\n ]\n}}\n");
  } finally {
    closeSync(fd);
  }
  return { file, entries, bytes: statSync(file).size, mix };
}
