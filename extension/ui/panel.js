// The DevTools panel: every call of the inspected tab, live, with why it
// would fail on device, the hosts to add and a concurrency chart.
//
// Opened directly (chrome-extension://ID/ui/panel.html?tab=N), without
// chrome.devtools, it takes the tab from the query string: tests use that.
import {
  t, tOr, applyI18n, el, str, num, arr, copyText, download, flash, fileStamp,
  formatTime, formatMs, verdictOf, matchesFilter, hostsToAdd, hostsAsMpnetJSON,
  concurrencySeries, clipSeries, toHAR, hasRuleText, APIS, POOL_LIMIT, SOCKET_LIMIT,
} from "./lib.js";
import { renderTLS } from "./tls.js";

applyI18n();

const ROW_H = 21;
const OVERSCAN = 8;
const $ = (id) => document.getElementById(id);

const inspected = globalThis.chrome && chrome.devtools && chrome.devtools.inspectedWindow;
const tabId = inspected ? inspected.tabId : Number.parseInt(new URLSearchParams(location.search).get("tab") || "", 10);

// ------------------------------------------------------------------ state

let records = []; // every record, in arrival order
let tlsReports = new Map(); // "host:port" -> R12 report from hostsim agent ({facts, verdict})
const pos = new Map(); // record id -> index in records
let view = []; // indices into records that pass the filters
let counts = { calls: 0, fail: 0, warn: 0 };
let status = null;
let selectedId = null;
let anon = 0;
let filter = { text: "", api: "", verdict: "all" };
let activeTab = "details";
let stick = true; // follow new rows while the table is scrolled to the bottom

const dirty = { view: false, rows: true, details: true, hosts: true, chart: true };
let scheduled = false;
let lastChart = 0;

const viewport = $("viewport");
const spacer = $("spacer");
const rowsEl = $("rows");

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(frame);
}

function markData() {
  dirty.rows = dirty.hosts = dirty.chart = true;
  schedule();
}

function addCount(r, sign) {
  counts.calls += sign;
  const v = verdictOf(r);
  if (v === "fail") counts.fail += sign;
  else if (v === "warn") counts.warn += sign;
}

function idOf(r) {
  return r.id == null || r.id === "" ? "" : String(r.id);
}

function upsert(rec) {
  if (!rec || typeof rec !== "object") return;
  let id = idOf(rec);
  if (!id) {
    id = "anon-" + ++anon;
    rec = { ...rec, id };
  }
  const i = pos.get(id);
  if (i === undefined) {
    pos.set(id, records.length);
    records.push(rec);
    addCount(rec, 1);
    if (!dirty.view && matchesFilter(rec, filter)) view.push(records.length - 1);
  } else {
    const old = records[i];
    addCount(old, -1);
    addCount(rec, 1);
    records[i] = rec;
    if (matchesFilter(old, filter) !== matchesFilter(rec, filter)) dirty.view = true;
    if (id === selectedId) dirty.details = true;
  }
  markData();
}

function reset(keepSelection = false) {
  records = [];
  pos.clear();
  view = [];
  counts = { calls: 0, fail: 0, warn: 0 };
  if (!keepSelection) selectedId = null;
  stick = true;
  dirty.view = false;
  dirty.details = true;
  markData();
}

function drop(ids) {
  const gone = new Set(ids.map(String));
  if (!gone.size) return;
  const kept = records.filter((r) => !gone.has(idOf(r)));
  if (kept.length === records.length) return;
  records = [];
  pos.clear();
  counts = { calls: 0, fail: 0, warn: 0 };
  for (const r of kept) {
    pos.set(idOf(r), records.length);
    records.push(r);
    addCount(r, 1);
  }
  if (selectedId !== null && gone.has(selectedId)) selectedId = null;
  dirty.view = true;
  dirty.details = true;
  markData();
}

function rebuildView() {
  view = [];
  for (let i = 0; i < records.length; i++) if (matchesFilter(records[i], filter)) view.push(i);
  dirty.view = false;
}

function selectedRecord() {
  if (selectedId === null) return null;
  const i = pos.get(selectedId);
  return i === undefined ? null : records[i];
}

// ------------------------------------------------------------------ frame

function frame() {
  scheduled = false;
  if (dirty.view) {
    rebuildView();
    dirty.rows = true;
  }
  if (dirty.rows) {
    const h = view.length * ROW_H;
    if (spacer.style.height !== h + "px") spacer.style.height = h + "px";
    if (stick) viewport.scrollTop = viewport.scrollHeight;
    renderRows();
    renderCounts();
    renderEmpty();
    dirty.rows = false;
  }
  if (dirty.details && activeTab === "details") {
    renderDetails();
    dirty.details = false;
  }
  if (dirty.hosts && activeTab === "hosts") {
    renderHosts();
    dirty.hosts = false;
  }
  if (dirty.chart && activeTab === "chart") {
    const now = Date.now();
    if (now - lastChart >= 400) {
      lastChart = now;
      drawChart();
      dirty.chart = false;
    } else {
      setTimeout(schedule, 400 - (now - lastChart));
    }
  }
}

// ------------------------------------------------------------------ table

const COLS = ["c-time", "c-api", "c-method", "c-url", "c-verdict", "c-rule", "c-err", "c-num c-queued", "c-num c-dur", "c-num c-status"];

function makeRow() {
  const row = el("div", { class: "tr grid-row", role: "row" });
  for (const c of COLS) row.append(el("span", { class: c, role: "gridcell" }));
  row.children[4].append(el("span", { class: "badge" }));
  return row;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function fillRow(row, r, index) {
  const id = idOf(r);
  row.dataset.id = id;
  const v = verdictOf(r);
  row.className = "tr grid-row" + (index % 2 ? " odd" : "") + (id === selectedId ? " selected" : "") + (v === "fail" ? " fail" : "") + (r.tooling ? " tooling" : "");
  row.setAttribute("aria-selected", id === selectedId ? "true" : "false");
  const c = row.children;
  setText(c[0], formatTime(r.startedAt));
  setText(c[1], str(r.api));
  setText(c[2], str(r.method));
  setText(c[3], str(r.url));
  c[3].title = str(r.url);
  const badge = c[4].firstChild;
  if (r.tooling) {
    // R15: the dev server's own traffic, shown greyed and never judged.
    badge.className = "badge pending";
    setText(badge, t("verdictShort_tooling"));
  } else if (v) {
    badge.className = "badge " + v;
    setText(badge, t("verdictShort_" + v));
  } else {
    badge.className = "badge pending";
    setText(badge, tOr("state_" + str(r.state), str(r.state) || "…"));
  }
  c[4].title = r.tooling ? t("toolingHint") : r.proceeded ? t("proceededHint") : v ? t("verdict_" + v) : "";
  setText(c[5], str(r.rule));
  setText(c[6], str(r.errMsg));
  c[6].title = str(r.errMsg);
  setText(c[7], formatMs(r.queuedMs));
  setText(c[8], formatMs(r.durationMs));
  const pendingState = !num(r.status) && r.state && r.state !== "done";
  setText(c[9], num(r.status) ? String(r.status) : pendingState ? tOr("state_" + str(r.state), str(r.state)) : "");
  c[9].className = "c-num c-status" + (pendingState ? " state" : "");
}

function renderRows() {
  const top = viewport.scrollTop;
  const height = viewport.clientHeight || 400;
  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(view.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
  const n = Math.max(0, last - first);
  while (rowsEl.children.length < n) rowsEl.append(makeRow());
  while (rowsEl.children.length > n) rowsEl.lastChild.remove();
  rowsEl.style.transform = `translateY(${first * ROW_H}px)`;
  for (let k = 0; k < n; k++) fillRow(rowsEl.children[k], records[view[first + k]], first + k);
}

function renderCounts() {
  const parts = [t("countsCalls", String(counts.calls))];
  const box = $("counts");
  box.replaceChildren(
    parts[0], " · ",
    el("b", { class: counts.fail ? "fail" : "", text: t("countsFail", String(counts.fail)) }), " · ",
    el("b", { class: counts.warn ? "warn" : "", text: t("countsWarn", String(counts.warn)) }),
    view.length !== records.length ? ` · ${t("countsShown", String(view.length))}` : "");
}

function renderEmpty() {
  const e = $("empty");
  if (records.length === 0) {
    e.textContent = t("panelEmpty");
    e.hidden = false;
  } else if (view.length === 0) {
    e.textContent = t("panelNoMatch");
    e.hidden = false;
  } else {
    e.hidden = true;
  }
}

const theadWrap = $("theadWrap");
viewport.addEventListener("scroll", () => {
  if (theadWrap.scrollLeft !== viewport.scrollLeft) theadWrap.scrollLeft = viewport.scrollLeft;
  stick = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - ROW_H / 2;
  dirty.rows = true;
  schedule();
}, { passive: true });

new ResizeObserver(() => {
  dirty.rows = true;
  if (activeTab === "chart") dirty.chart = true;
  schedule();
}).observe(viewport);

rowsEl.addEventListener("click", (e) => {
  const row = e.target.closest(".tr");
  if (row && row.dataset.id) select(row.dataset.id);
});

viewport.addEventListener("keydown", (e) => {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Home" && e.key !== "End") return;
  if (view.length === 0) return;
  e.preventDefault();
  if (dirty.view) rebuildView();
  const cur = selectedId === null ? -1 : view.findIndex((i) => idOf(records[i]) === selectedId);
  let next;
  if (e.key === "Home") next = 0;
  else if (e.key === "End") next = view.length - 1;
  else if (cur < 0) next = e.key === "ArrowDown" ? 0 : view.length - 1;
  else next = Math.max(0, Math.min(view.length - 1, cur + (e.key === "ArrowDown" ? 1 : -1)));
  select(idOf(records[view[next]]));
  const y = next * ROW_H;
  if (y < viewport.scrollTop) viewport.scrollTop = y;
  else if (y + ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = y + ROW_H - viewport.clientHeight;
  stick = next === view.length - 1;
});

function select(id) {
  selectedId = id;
  dirty.rows = dirty.details = true;
  showTab("details");
  schedule();
}

// ---------------------------------------------------------------- details

function kv(dl, label, value, cls) {
  if (value === "" || value == null) return;
  dl.append(el("dt", { text: label }), el("dd", { class: cls || null }, value));
}

function renderDetails() {
  const pane = $("tab-details");
  pane.replaceChildren();
  const r = selectedRecord();
  if (!r) {
    pane.append(el("p", { class: "empty", text: t("detailsEmpty") }));
    return;
  }
  const v = verdictOf(r);
  pane.append(el("h3", { text: str(r.api) || t("detailsCall") }));
  pane.append(el("div", { class: "detail-url" }, r.method ? el("b", { text: str(r.method) + " " }) : null, str(r.url)));

  const dl = el("dl", { class: "kv" });
  kv(dl, t("colVerdict"), v ? el("span", { class: "badge " + v, text: t("verdict_" + v) }) : el("span", { class: "badge pending", text: t("verdictPending") }));
  if (r.proceeded) kv(dl, "", el("span", { class: "muted", text: t("proceededHint") }));
  if (r.tooling) kv(dl, "", el("span", { class: "muted", text: t("toolingHint") }));
  if (arr(r.hops).length) kv(dl, t("detailsHops"), arr(r.hops).map(str).join(" → "), "mono");
  if (r.kind) kv(dl, t("detailsKind"), str(r.kind), "mono");
  kv(dl, t("detailsState"), tOr("state_" + str(r.state), str(r.state)));
  kv(dl, t("colRule"), str(r.rule), "mono");
  kv(dl, t("colErrMsg"), str(r.errMsg), "mono");
  kv(dl, t("detailsMode"), tOr("mode_" + str(r.mode), str(r.mode)));
  kv(dl, t("detailsStarted"), formatTime(r.startedAt));
  kv(dl, t("colQueuedTitle"), formatMs(r.queuedMs) && t("ms", formatMs(r.queuedMs)));
  kv(dl, t("colDurationTitle"), formatMs(r.durationMs) && t("ms", formatMs(r.durationMs)));
  kv(dl, t("colStatus"), num(r.status) ? String(r.status) : "");
  kv(dl, t("detailsFrame"), str(r.frame), "mono");
  kv(dl, t("detailsId"), idOf(r), "mono");
  pane.append(dl);

  const findings = arr(r.findings).filter((f) => f && typeof f === "object");
  pane.append(el("h3", { text: t("detailsFindings", String(findings.length)) }));
  if (findings.length === 0) {
    pane.append(el("p", { class: "muted", text: v === "" ? t("detailsPending") : t("detailsNoFindings") }));
  }
  for (const f of findings) {
    const sev = str(f.severity) || "info";
    pane.append(el("div", { class: "finding " + sev },
      el("div", { class: "head" },
        f.rule ? el("span", { class: "rule", text: str(f.rule) }) : null,
        el("span", { class: "badge " + (sev === "error" ? "fail" : sev === "warning" ? "warn" : "info"), text: tOr("sev_" + sev, sev) })),
      f.message ? el("p", { text: str(f.message) }) : null,
      f.console ? el("div", {}, el("div", { class: "label", text: t("detailsConsole") }), el("div", { class: "console", lang: "zh-CN", text: str(f.console) })) : null,
      f.fix ? el("p", { class: "fix" }, el("b", { text: t("detailsFix") + " " }), str(f.fix)) : null));
  }

  const tls = tlsReports.get(str(r.tlsKey));
  if (tls) pane.append(renderTLS(tls));

  const rules = [...new Set([str(r.rule), ...findings.map((f) => str(f.rule))])].filter(hasRuleText);
  if (rules.length) {
    pane.append(el("h3", { text: t("detailsAbout") }));
    for (const id of rules) {
      // The rule in full: rules.html, rendered from docs/RULES.md.
      pane.append(el("div", { class: "rule-help" }, el("span", { class: "rule", text: id }), el("p", { text: t("rule_" + id) }),
        el("a", { class: "rule-link", href: `rules.html#${id}`, target: "_blank", rel: "noopener", text: t("rulesLink") })));
    }
  }
}

// ------------------------------------------------------------------ hosts

function renderHosts() {
  const pane = $("tab-hosts");
  pane.replaceChildren();
  const groups = hostsToAdd(records);
  if (groups.length === 0) {
    pane.append(el("p", { class: "empty", text: t("hostsEmpty") }));
    return;
  }
  const copyAll = el("button", { type: "button", text: t("hostsCopyJson") });
  copyAll.addEventListener("click", async () => flash(copyAll, (await copyText(hostsAsMpnetJSON(groups))) ? t("copied") : t("copyFailed")));
  pane.append(el("p", { class: "muted", text: t("hostsLead") }), el("p", { class: "hosts-actions" }, copyAll));
  for (const g of groups) {
    const copy = el("button", { type: "button", class: "small", text: t("hostsCopy") });
    copy.addEventListener("click", async () => flash(copy, (await copyText(g.entries.join("\n"))) ? t("copied") : t("copyFailed")));
    pane.append(el("div", { class: "hosts-group" },
      el("header", {}, el("span", {}, el("code", { text: g.list }), " ", el("span", { class: "muted", text: t("hostsCount", String(g.entries.length)) })), copy),
      el("ul", {}, g.entries.map((e) => el("li", { text: e })))));
  }
}

// ------------------------------------------------------------------ chart

const COLORS = { running: "#0969da", queued: "#d4a72c", sockets: "#8250df", pool: "#cf222e", grid: "#e6eaef", axis: "#59636e" };

function anyOpen() {
  for (const r of records) if (r && (r.state === "running" || r.state === "queued" || r.state === "waiting")) return true;
  return false;
}

function drawChart() {
  const canvas = $("chart");
  const note = $("chartNote");
  const rect = canvas.getBoundingClientRect();
  const w = Math.max(100, Math.floor(rect.width));
  const h = Math.max(100, Math.floor(rect.height));
  const dpr = globalThis.devicePixelRatio || 1;
  if (canvas.width !== w * dpr || canvas.height !== h * dpr) {
    canvas.width = w * dpr;
    canvas.height = h * dpr;
  }
  const g = canvas.getContext("2d");
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const now = Date.now();
  let s = concurrencySeries(records, now);
  const windowMs = Number($("chartWindow").value) || 0;
  if (windowMs > 0 && s.end !== null) {
    const end = anyOpen() ? Math.max(s.end, now) : s.end;
    s = clipSeries(s, end - windowMs, end);
  }
  const pad = { l: 30, r: 10, t: 10, b: 22 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const yMax = Math.max(POOL_LIMIT + 2, s.max.running, s.max.queued, s.max.sockets) + 1;
  const t0 = s.start ?? now;
  let t1 = s.end ?? t0;
  if (t1 - t0 < 1000) t1 = t0 + 1000;
  const X = (t) => pad.l + ((t - t0) / (t1 - t0)) * pw;
  const Y = (v) => pad.t + ph - (v / yMax) * ph;

  g.font = "11px " + getComputedStyle(document.body).fontFamily;
  g.lineWidth = 1;
  // grid and y labels
  const step = yMax > 40 ? 10 : 5;
  g.fillStyle = COLORS.axis;
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (let v = 0; v <= yMax; v += step) {
    g.strokeStyle = COLORS.grid;
    g.beginPath();
    g.moveTo(pad.l, Math.round(Y(v)) + 0.5);
    g.lineTo(w - pad.r, Math.round(Y(v)) + 0.5);
    g.stroke();
    g.fillText(String(v), pad.l - 5, Y(v));
  }
  // x labels
  g.textAlign = "center";
  g.textBaseline = "top";
  const ticks = Math.max(2, Math.min(6, Math.floor(pw / 110)));
  for (let i = 0; i <= ticks; i++) {
    const tt = t0 + ((t1 - t0) * i) / ticks;
    const label = formatTime(tt).slice(0, (t1 - t0) < 10000 ? 12 : 8);
    g.textAlign = i === 0 ? "left" : i === ticks ? "right" : "center";
    g.fillText(label, X(tt), h - pad.b + 5);
  }
  // limits
  const limit = (v, color) => {
    g.save();
    g.setLineDash([5, 4]);
    g.strokeStyle = color;
    g.beginPath();
    g.moveTo(pad.l, Math.round(Y(v)) + 0.5);
    g.lineTo(w - pad.r, Math.round(Y(v)) + 0.5);
    g.stroke();
    g.restore();
  };
  limit(POOL_LIMIT, COLORS.pool);
  limit(SOCKET_LIMIT, COLORS.sockets);
  // series as step lines
  const line = (key, color, width) => {
    if (!s.points.length || !s.max[key]) return;
    g.strokeStyle = color;
    g.lineWidth = width;
    g.beginPath();
    let prev = 0;
    g.moveTo(X(t0), Y(0));
    for (const p of s.points) {
      const x = X(p.t);
      g.lineTo(x, Y(prev));
      g.lineTo(x, Y(p[key]));
      prev = p[key];
    }
    g.lineTo(X(t1), Y(prev));
    g.stroke();
    g.lineWidth = 1;
  };
  line("queued", COLORS.queued, 1.5);
  line("sockets", COLORS.sockets, 1.5);
  line("running", COLORS.running, 2);

  if (!s.points.length) {
    g.fillStyle = COLORS.axis;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(t("chartEmpty"), pad.l + pw / 2, pad.t + ph / 2);
    note.replaceChildren();
  } else {
    const lines = [t("chartPeak", String(s.max.running), String(s.max.queued), String(s.max.sockets))];
    if (s.max.queued > 0) lines.push(t("chartQueuedHint"));
    if (s.max.sockets > SOCKET_LIMIT) lines.push(t("chartSocketsHint"));
    note.replaceChildren(...lines.map((text) => el("p", { text })));
  }
}

$("chartWindow").addEventListener("change", () => {
  dirty.chart = true;
  lastChart = 0;
  schedule();
});

setInterval(() => {
  if (activeTab === "chart" && anyOpen()) {
    dirty.chart = true;
    schedule();
  }
}, 1000);

// --------------------------------------------------------------- splitter

const side = $("side");
const splitter = $("splitter");

function setSideWidth(px, save) {
  const w = Math.round(Math.max(260, Math.min(px, window.innerWidth - 240)));
  side.style.width = w + "px";
  if (save) {
    try {
      localStorage.setItem("mpnet.sideWidth", String(w));
    } catch {
      // storage unavailable
    }
  }
}

try {
  const saved = Number(localStorage.getItem("mpnet.sideWidth"));
  if (saved > 0) setSideWidth(saved, false);
} catch {
  // keep the default width
}

splitter.addEventListener("pointerdown", (e) => {
  e.preventDefault();
  splitter.setPointerCapture(e.pointerId);
  splitter.classList.add("dragging");
});
splitter.addEventListener("pointermove", (e) => {
  if (splitter.hasPointerCapture(e.pointerId)) setSideWidth(window.innerWidth - e.clientX, false);
});
splitter.addEventListener("pointerup", (e) => {
  splitter.releasePointerCapture(e.pointerId);
  splitter.classList.remove("dragging");
  setSideWidth(side.getBoundingClientRect().width, true);
});
splitter.addEventListener("keydown", (e) => {
  if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
  e.preventDefault();
  setSideWidth(side.getBoundingClientRect().width + (e.key === "ArrowLeft" ? 24 : -24), true);
});

// ------------------------------------------------------------------- tabs

function showTab(name) {
  activeTab = name;
  for (const b of document.querySelectorAll(".tabs button")) b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false");
  for (const n of ["details", "hosts", "chart"]) $("tab-" + n).hidden = n !== name;
  dirty[name] = true;
  schedule();
}

for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));

// ---------------------------------------------------------------- toolbar

const apiFilter = $("apiFilter");
for (const api of APIS) apiFilter.append(el("option", { value: api, text: api }));

function readFilter() {
  filter = { text: $("filter").value, api: apiFilter.value, verdict: $("verdictFilter").value };
  dirty.view = true;
  dirty.rows = true;
  schedule();
}
$("filter").addEventListener("input", readFilter);
apiFilter.addEventListener("change", readFilter);
$("verdictFilter").addEventListener("change", readFilter);

const preserve = $("preserve");
try {
  preserve.checked = localStorage.getItem("mpnet.preserve") === "1";
} catch {
  preserve.checked = false;
}
preserve.addEventListener("change", () => {
  try {
    localStorage.setItem("mpnet.preserve", preserve.checked ? "1" : "0");
  } catch {
    // storage unavailable: the choice lasts for this panel only
  }
  post({ type: "preserve", on: preserve.checked });
});

$("clear").addEventListener("click", () => {
  reset();
  post({ type: "clear" });
});

function manifestVersion() {
  try {
    return chrome.runtime.getManifest().version || "";
  } catch {
    return "";
  }
}

$("exportJson").addEventListener("click", () => {
  download(`mpnet-${fileStamp()}.json`, JSON.stringify(records, null, 2) + "\n", "application/json");
});
$("exportHar").addEventListener("click", () => {
  const har = toHAR(records, { version: manifestVersion(), comment: t("harComment") });
  download(`mpnet-${fileStamp()}.har`, JSON.stringify(har, null, 2) + "\n", "application/json");
});

// ----------------------------------------------------------------- status

function setStatus(s) {
  status = s && typeof s === "object" ? s : null;
  const st = status ? str(status.state) : "";
  const pill = $("runtime");
  pill.hidden = !st;
  pill.className = "pill " + st;
  pill.textContent = st ? tOr("status_" + st, st) : "";
  pill.title = status && status.error ? str(status.error) : "";
  const failed = st === "failed";
  const rejected = status && num(status.rejected) ? status.rejected : 0;
  $("banner").hidden = !failed && !rejected;
  const lines = [];
  if (failed) lines.push(t("panelChecksOff", str(status.error) || t("statusFailedUnknown")));
  if (rejected) lines.push(t("panelRejected", String(rejected), str(status.rejectedLast)));
  $("bannerText").textContent = lines.join(" ");
}

// ------------------------------------------------------------------- port

let port = null;
let retries = 0;

function post(msg) {
  if (!port) return;
  try {
    port.postMessage(msg);
  } catch {
    // the port closed; onDisconnect reconnects
  }
}

function onMessage(msg) {
  if (!msg || typeof msg !== "object") return;
  retries = 0;
  switch (msg.type) {
    case "snapshot":
      reset(true);
      tlsReports = new Map(arr(msg.tls).filter((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === "string"));
      for (const r of arr(msg.records)) upsert(r);
      if ("status" in msg) setStatus(msg.status);
      break;
    case "tls":
      if (typeof msg.key === "string" && msg.report && typeof msg.report === "object") {
        tlsReports.set(msg.key, msg.report);
        dirty.details = true;
        schedule();
      }
      break;
    case "record":
      upsert(msg.record);
      break;
    case "records":
      for (const r of arr(msg.records)) upsert(r);
      break;
    case "status":
      setStatus(msg.status);
      break;
    case "clear":
      reset();
      break;
    case "drop":
      // The background let the tab's oldest records go (its size bound):
      // the panel keeps the same set, so its counts match the badge.
      drop(arr(msg.ids));
      break;
    default:
      break;
  }
}

function connect() {
  if (!Number.isInteger(tabId) || tabId < 0) {
    $("noTab").hidden = false;
    return;
  }
  try {
    port = chrome.runtime.connect({ name: "panel:" + tabId });
  } catch {
    port = null;
    $("noTab").hidden = false;
    return;
  }
  port.onMessage.addListener(onMessage);
  port.onDisconnect.addListener(() => {
    void chrome.runtime.lastError;
    port = null;
    retries = Math.min(retries + 1, 10);
    setTimeout(connect, 300 * retries);
  });
  post({ type: "preserve", on: preserve.checked });
}

// A panel's port reaches every extension context that listens for ports,
// the module host (offscreen document) too, so it stays open when the
// service worker is stopped: the new worker says it started, and the panel
// connects again (and gets the kept records in its snapshot).
chrome.runtime.onMessage.addListener((m, sender) => {
  if (!m || m.type !== "workerStarted" || sender.id !== chrome.runtime.id || sender.tab) return;
  const old = port;
  port = null;
  try { if (old) old.disconnect(); } catch { /* already closed */ }
  connect();
});

setStatus(null);
showTab("details");
schedule();
connect();
