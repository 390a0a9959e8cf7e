// Unit tests of the team service client's pure logic (extension/src/teamcore.js).
// Run: node --test extension/test/teamcore.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  serviceURL, validToken, checkMessage, isTeamMessage, fromExtensionPage, reportable, recordKey,
  emptyQueue, queued, enqueue, formBatch, backoff, outcome, freshness, ago,
  QUEUE_MAX, BATCH_MAX, BACKOFF_MIN, BACKOFF_MAX,
} from "../src/teamcore.js";

const EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";

test("serviceURL takes a base or project URL, https or loopback http only", () => {
  assert.deepEqual(serviceURL("https://team.example.com/"), { url: "https://team.example.com", appid: "" });
  assert.deepEqual(serviceURL("https://team.example.com/mpnet/v1/projects/wx0123456789abcdef/config"), { url: "https://team.example.com/mpnet", appid: "wx0123456789abcdef" });
  assert.deepEqual(serviceURL(" http://127.0.0.1:7470/v1 "), { url: "http://127.0.0.1:7470", appid: "" });
  assert.deepEqual(serviceURL("http://localhost:7470/dashboard/"), { url: "http://localhost:7470/dashboard", appid: "" });
  for (const bad of ["http://team.example.com", "ftp://x", "not a url", "", "https://u:p@team.example.com", "https://team.example.com/?token=x", "javascript:alert(1)"]) {
    assert.ok(serviceURL(bad).error, bad);
  }
});

test("validToken", () => {
  assert.ok(validToken("mpnet_abcdefghijklmnop_" + "A".repeat(43)));
  for (const bad of ["", "mpnet_short_x", "Bearer mpnet_abcdefghijklmnop_" + "A".repeat(43), "mpnet_ABCDEFGHIJKLMNOP_" + "A".repeat(43), null, 42]) {
    assert.ok(!validToken(bad), String(bad));
  }
});

test("team messages are checked against their schema", () => {
  assert.equal(checkMessage({ type: "teamGet" }), "");
  assert.equal(checkMessage({ type: "teamConnect", url: "https://x", token: "t" }), "");
  assert.match(checkMessage({ type: "teamConnect", url: "https://x" }), /missing field "token"/);
  assert.match(checkMessage({ type: "teamConnect", url: "https://x", token: 5 }), /token: want a string/);
  assert.match(checkMessage({ type: "teamGet", tabId: 3 }), /unexpected field "tabId"/);
  assert.match(checkMessage({ type: "teamConnect", url: "x".repeat(5000), token: "t" }), /too long/);
  assert.match(checkMessage({ type: "teamToString" }), /unknown message type/);
  assert.match(checkMessage({ type: "teamconstructor" }), /unknown message type/);
  assert.match(checkMessage({ type: "hasOwnProperty" }), /not a team message/);
  assert.ok(isTeamMessage({ type: "teamGet" }) && !isTeamMessage({ type: "hello" }) && !isTeamMessage(null) && !isTeamMessage("teamGet"));
});

test("only the extension's own pages may send team messages", () => {
  assert.ok(fromExtensionPage({ url: EXT + "/ui/options.html", origin: EXT }, EXT));
  assert.ok(fromExtensionPage({ url: EXT + "/ui/panel.html?tab=3" }, EXT));
  // A content script: the sender is the web page.
  assert.ok(!fromExtensionPage({ url: "http://localhost:10086/", origin: "http://localhost:10086", tab: { id: 3 } }, EXT));
  assert.ok(!fromExtensionPage({ url: EXT + "/ui/options.html", origin: "http://evil.example" }, EXT));
  assert.ok(!fromExtensionPage({ url: "chrome-extension://otherotherotherotherotherother/x.html" }, EXT));
  assert.ok(!fromExtensionPage({}, EXT));
  assert.ok(!fromExtensionPage(undefined, EXT));
});

test("reportable keeps finished calls found wrong, as {api, url, at}", () => {
  const r = { id: "f-1", api: "request", url: "https://x.example.com/a", state: "blocked", verdict: "fail", startedAt: 1700000000000.4, rule: "R2", findings: [] };
  assert.deepEqual(reportable(r), { api: "request", url: "https://x.example.com/a", at: 1700000000000 });
  assert.deepEqual(reportable({ ...r, state: "done", verdict: "warn", startedAt: undefined }), { api: "request", url: "https://x.example.com/a" });
  assert.equal(reportable({ ...r, verdict: "ok" }), null);
  assert.equal(reportable({ ...r, state: "running" }), null);
  assert.equal(reportable({ ...r, api: "fetch" }), null);
  assert.equal(reportable({ ...r, url: "x".repeat(9000) }), null);
  assert.equal(reportable(null), null);
  assert.notEqual(recordKey(1, r), recordKey(2, r));
  assert.notEqual(recordKey(1, r), recordKey(1, { ...r, startedAt: 5 }));
});

test("the queue is bounded, drops the oldest pending records and counts them", () => {
  let q = emptyQueue();
  const rec = (i) => ({ api: "request", url: "https://x/" + i });
  q = enqueue(q, Array.from({ length: BATCH_MAX + 5 }, (_, i) => rec(i)));
  q = formBatch(q, "k1");
  assert.equal(q.batches.length, 1);
  assert.equal(q.batches[0].key, "k1");
  assert.equal(q.batches[0].records.length, BATCH_MAX);
  assert.equal(q.pending.length, 5);
  q = enqueue(q, Array.from({ length: QUEUE_MAX }, (_, i) => rec(1000 + i)));
  assert.equal(queued(q), QUEUE_MAX);
  assert.equal(q.dropped, BATCH_MAX + 5);
  assert.equal(q.batches[0].records.length, BATCH_MAX, "a formed batch keeps its records and key");
  assert.equal(q.pending[0].url, "https://x/" + (1000 + BATCH_MAX), "the oldest pending went first");
  assert.equal(formBatch(emptyQueue(), "k").batches.length, 0);
});

test("backoff grows, is capped and jittered; outcomes", () => {
  assert.equal(backoff(1, 0.999999), Math.round(BACKOFF_MIN * (0.5 + 0.999999 / 2)));
  assert.equal(backoff(1, 0), BACKOFF_MIN / 2);
  assert.ok(backoff(3, 0.5) > backoff(2, 0.5));
  assert.ok(backoff(50, 0.999) <= BACKOFF_MAX);
  assert.equal(outcome(200), "sent");
  for (const s of [0, 408, 429, 500, 503]) assert.equal(outcome(s), "retry", String(s));
  for (const s of [401, 403]) assert.equal(outcome(s), "auth");
  for (const s of [400, 404, 409, 413]) assert.equal(outcome(s), "rejected");
});

test("freshness and ago", () => {
  const now = 1_000_000_000;
  assert.equal(freshness(null, now).state, "none");
  assert.equal(freshness({ checkedAt: now - 1000, body: "{}" }, now).state, "fresh");
  assert.equal(freshness({ checkedAt: now - 10 * 60 * 1000, body: "{}" }, now).state, "stale");
  assert.equal(freshness({ checkedAt: now - 1000, body: "{}", error: "offline" }, now).state, "stale");
  assert.equal(freshness({ checkedAt: now - 1000, body: "", error: "401" }, now).state, "error");
  assert.equal(ago(12_000), "12 s");
  assert.equal(ago(3 * 60_000), "3 min");
  assert.equal(ago(2 * 3600_000, "zh-CN"), "2 小时");
  assert.equal(ago(-5), "0 s");
});
