// The message schemas of the trust boundary (src/schema.js), in Node: what
// the bridge and the background take from the page, and what they refuse.

import { test } from "node:test";
import assert from "node:assert/strict";
import { check, FROM_PAGE, FROM_EXTENSION, TO_PAGE, LIMITS } from "../src/schema.js";

const record = (extra = {}) => ({
  id: "ab-1", api: "request", method: "GET", url: "https://a.example/", frame: "http://localhost/", startedAt: 1, state: "done",
  verdict: "ok", rule: "", errMsg: "", proceeded: false, findings: [], queuedMs: 0, durationMs: 3, status: 200, mode: "enforce", ...extra,
});

test("a valid message is rebuilt from its schema: unknown fields, a tabId among them, are dropped", () => {
  const c = check(FROM_PAGE, { type: "records", tabId: 7, records: [record({ secret: "x" })], replyTo: "r1" });
  assert.equal(c.ok, true, c.error);
  assert.equal("tabId" in c.value, false);
  assert.equal("secret" in c.value.records[0], false);
  assert.equal(c.value.replyTo, "r1");
  assert.deepEqual(c.value.records[0], record());
});

test("unknown types, wrong types, missing fields and oversized values are refused, naming the field", () => {
  assert.match(check(FROM_PAGE, { type: "setTab", tabId: 1 }).error, /unknown message type "setTab"/);
  assert.match(check(FROM_PAGE, { type: "getRecords" }).error, /unknown message type/);
  assert.match(check(FROM_PAGE, null).error, /no type/);
  assert.match(check(FROM_PAGE, { type: "__proto__" }).error, /unknown message type/);
  assert.match(check(FROM_PAGE, { type: "records", records: [record({ verdict: "great" })] }).error, /records\[0\]\.verdict: want one of ok, warn, fail/);
  assert.match(check(FROM_PAGE, { type: "records", records: [record({ url: "x".repeat(LIMITS.url + 1) })] }).error, /records\[0\]\.url: 8193 characters, at most 8192/);
  assert.match(check(FROM_PAGE, { type: "records", records: Array(LIMITS.records + 1).fill(record()) }).error, /records: 501 elements, at most 500/);
  assert.match(check(FROM_PAGE, { type: "records", records: [record({ findings: "x" })] }).error, /findings: want a list, got string/);
  const { id, ...noId } = record();
  assert.match(check(FROM_PAGE, { type: "records", records: [noId] }).error, /records\[0\]\.id: missing/);
  assert.equal(id, "ab-1");
});

test("the Referer rule message takes only the client's format, and no hosts", () => {
  const ok = { type: "referer", referer: "https://appservice.wx.com/wx0123456789abcdef/0/page-frame.html", mode: "enforce" };
  assert.equal(check(FROM_PAGE, ok).ok, true);
  assert.match(check(FROM_PAGE, { ...ok, referer: "https://evil.example/" }).error, /not the client's Referer/);
  // The hosts are the background's reading of the configuration: a page's are dropped.
  assert.deepEqual(check(FROM_PAGE, { ...ok, hosts: ["evil.example"] }).value, ok);
  assert.match(check(FROM_PAGE, { type: "tlsVerdict", server: "a.example/x:1" }).error, /want host:port/);
});

test("the extension's pages name tabs as integers; engine messages carry bounded JSON or bytes", () => {
  assert.equal(check(FROM_EXTENSION, { type: "getTab", tabId: 3 }).ok, true);
  assert.match(check(FROM_EXTENSION, { type: "getTab", tabId: "3" }).error, /tabId: want an integer/);
  assert.match(check(FROM_EXTENSION, { type: "setTab", tabId: 3, mode: "sleep" }).error, /mode: want one of/);
  const engine = (...batch) => check(FROM_PAGE, { type: "engine", batch });
  assert.equal(engine({ seq: 1, op: "step", data: "{}" }, { seq: 2, op: "body", data: new Uint8Array(4) }).ok, true);
  assert.match(engine({ seq: 3, op: "eval", data: "{}" }).error, /batch\[0\]\.op: want one of/);
  assert.match(engine({ seq: 1, op: "step", data: "{}" }, { seq: 4, op: "step", data: {} }).error, /batch\[1\]\.data: want bytes/);
  // A verdict as Go writes it (empty lists as null) reaches the page.
  const v = { host: "a.example", port: 443, ok: true, errMsg: "", findings: null, ios: { ok: true, fails: null }, android: { ok: true, fails: [] } };
  assert.equal(check(TO_PAGE, { type: "tls", verdict: v }).ok, true);
});
