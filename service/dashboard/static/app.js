// The team dashboard: one project's release gate, hosts to add, open
// violations by rule, a chart of violations over time, every violation
// with its examples and reporters, and the configuration's history with
// diffs. It reads the /v1 API with a project token the user pastes, kept
// in this tab's sessionStorage (a "#token=" fragment is taken and removed
// from the address bar). Text only ever goes into the page as text.

const STR = {
  en: {
    title: "mpnet team", signOut: "Sign out",
    loginTitle: "Sign in with a project token", loginLead: "Paste a token of the project (admin, member or ci). It stays in this browser tab.",
    loginButton: "Open", loginFailed: "The service refused the token: {0}",
    gatePass: "Release gate: PASS", gateFail: "Release gate: FAIL", gateNoConfig: "no configuration",
    gateLead: "Configuration version {0}. {1} open violation(s) would fail on a phone.", gateLeadPass: "Configuration version {0}. No open violation: nothing reported would fail on a phone.",
    hostsTitle: "Hosts to add", hostsNone: "Nothing to add: every reported host is listed.", hostsCopy: "Copy as mpnet.json", copied: "Copied",
    openTitle: "Open violations by rule", openNone: "No open violation.", rule: "Rule", calls: "Calls",
    chartTitle: "Violations over time", chartNone: "No violations in this range.", range2d: "Last 2 days (hourly)", range14d: "Last 14 days", range90d: "Last 90 days",
    violationsTitle: "Violations", violationsNone: "Nothing reported yet: previews connected to the team and `hostsim audit --report` send their findings here.",
    colState: "State", colRule: "Rule", colList: "List", colHost: "Host", colCount: "Calls", colFirst: "First seen", colLast: "Last seen", colBy: "Reported by", colFix: "Fix",
    open: "open", closed: "fixed", examples: "Examples",
    historyTitle: "Configuration history", historyNone: "No configuration yet: an admin PUTs the project's mpnet.json.",
    version: "Version {0}", by: "by {0}", showDiff: "Diff", hideDiff: "Hide", showFile: "File", noChanges: "no setting changed",
    added: "added", removed: "removed", changed: "changed", updated: "Updated {0}.", failed: "Cannot reach the service: {0}",
  },
  zh_CN: {
    title: "mpnet 团队", signOut: "退出",
    loginTitle: "用项目令牌登录", loginLead: "粘贴该项目的令牌（admin、member 或 ci），只保存在此浏览器标签页中。",
    loginButton: "打开", loginFailed: "服务拒绝了该令牌：{0}",
    gatePass: "发布检查：通过", gateFail: "发布检查：未通过", gateNoConfig: "尚无配置",
    gateLead: "配置第 {0} 版。{1} 个未解决的问题在手机上会失败。", gateLeadPass: "配置第 {0} 版。没有未解决的问题：上报的调用在手机上都不会失败。",
    hostsTitle: "需添加的域名", hostsNone: "无需添加：上报的域名都已在列表中。", hostsCopy: "复制为 mpnet.json", copied: "已复制",
    openTitle: "按规则统计的未解决问题", openNone: "没有未解决的问题。", rule: "规则", calls: "调用数",
    chartTitle: "问题随时间的变化", chartNone: "此时间段内没有问题。", range2d: "最近 2 天（按小时）", range14d: "最近 14 天", range90d: "最近 90 天",
    violationsTitle: "问题", violationsNone: "尚无上报：连接团队的预览和 `hostsim audit --report` 会把发现的问题发到这里。",
    colState: "状态", colRule: "规则", colList: "列表", colHost: "域名", colCount: "调用数", colFirst: "首次", colLast: "最近", colBy: "上报者", colFix: "修复",
    open: "未解决", closed: "已修复", examples: "示例",
    historyTitle: "配置历史", historyNone: "尚无配置：由管理员上传项目的 mpnet.json。",
    version: "第 {0} 版", by: "{0} 修改", showDiff: "差异", hideDiff: "收起", showFile: "文件", noChanges: "没有设置变化",
    added: "添加", removed: "删除", changed: "修改", updated: "更新于 {0}。", failed: "无法访问服务：{0}",
  },
};

const RULE_COLORS = { R1: "#cf222e", R2: "#0969da", R3: "#8250df", R4: "#1a7f37", R5: "#9a6700", R13: "#bf3989" };
const OTHER_COLOR = "#59636e";

const $ = (id) => document.getElementById(id);
let lang = pickLang();
let token = "";
let appid = "";

function pickLang() {
  const q = new URLSearchParams(location.search).get("lang");
  let saved = "";
  try { saved = localStorage.getItem("mpnet.lang") || ""; } catch { /* no storage */ }
  const want = q || saved || (navigator.language || "en");
  return want.toLowerCase().startsWith("zh") ? "zh_CN" : "en";
}

function tr(key, ...args) {
  const s = (STR[lang] && STR[lang][key]) || STR.en[key] || key;
  return s.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v; // CSSOM: allowed by the page's CSP, unlike a style attribute
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function when(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString(lang === "zh_CN" ? "zh-CN" : "en-GB", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function applyStatic() {
  document.documentElement.lang = lang === "zh_CN" ? "zh-CN" : "en";
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = tr(e.dataset.t);
  document.title = tr("title") + (appid ? " · " + appid : "");
  $("lang").value = lang;
}

async function get(path) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  if (!res.ok) {
    const msg = body && body.error ? `${res.status} ${body.error.code}: ${body.error.message}` : `status ${res.status}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return body;
}

// ------------------------------------------------------------------ render

function renderGate(g) {
  const box = $("gate");
  box.className = "gate " + (g.pass ? "pass" : "fail");
  const open = g.reasons.filter((r) => r.rule).length;
  const lead = g.pass ? tr("gateLeadPass", g.configVersion) : g.configVersion ? tr("gateLead", g.configVersion, open) : tr("gateNoConfig");
  box.replaceChildren(
    el("strong", { text: g.pass ? tr("gatePass") : tr("gateFail") }),
    el("p", { text: lead }),
    g.pass ? null : el("ul", {}, g.reasons.slice(0, 8).map((r) => el("li", {}, r.message, r.fix ? el("div", { class: "fix", text: r.fix }) : null))));
}

function renderHosts(hosts) {
  const box = $("hosts");
  const lists = Object.keys(hosts || {}).sort();
  if (!lists.length) {
    box.replaceChildren(el("p", { class: "muted", text: tr("hostsNone") }));
    return;
  }
  const domains = {};
  for (const l of lists) domains[l.replace(/^domains\./, "")] = hosts[l];
  const copy = el("button", { type: "button", text: tr("hostsCopy") });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(JSON.stringify({ domains }, null, 2));
      copy.textContent = tr("copied");
      setTimeout(() => { copy.textContent = tr("hostsCopy"); }, 1200);
    } catch { /* clipboard refused */ }
  });
  box.replaceChildren(...lists.map((l) => el("div", { class: "hosts" }, el("code", { text: l }), el("ul", {}, hosts[l].map((h) => el("li", { class: "mono", text: h }))))), copy);
}

function renderByRule(byRule) {
  const box = $("byRule");
  const rules = Object.keys(byRule || {}).sort((a, b) => byRule[b] - byRule[a]);
  if (!rules.length) {
    box.replaceChildren(el("p", { class: "muted", text: tr("openNone") }));
    return;
  }
  const max = Math.max(...rules.map((r) => byRule[r]));
  box.replaceChildren(el("table", { class: "bars" },
    el("thead", {}, el("tr", {}, el("th", { text: tr("rule") }), el("th", { text: tr("calls") }), el("th", {}))),
    el("tbody", {}, rules.map((r) => el("tr", {},
      el("td", {}, el("span", { class: "rule", style: `--c:${RULE_COLORS[r] || OTHER_COLOR}`, text: r })),
      el("td", { class: "num", text: String(byRule[r]) }),
      el("td", { class: "barcell" }, el("span", { class: "bar", style: `width:${Math.max(2, (100 * byRule[r]) / max)}%;--c:${RULE_COLORS[r] || OTHER_COLOR}` })))))));
}

// renderChart draws stacked bars per bucket and rule over the whole range
// asked for (sinceMs to now), empty buckets included.
function renderChart(tl, sinceMs) {
  const box = $("chart");
  const pts = tl.points || [];
  if (!pts.length) {
    box.replaceChildren(el("p", { class: "muted", text: tr("chartNone") }));
    return;
  }
  const rules = [...new Set(pts.flatMap((p) => Object.keys(p.byRule)))].sort();
  const step = tl.bucket === "hour" ? 3600_000 : 86400_000;
  const t0 = Math.min(pts[0].t, Math.floor(sinceMs / step) * step);
  const t1 = Math.max(pts[pts.length - 1].t, Math.floor(Date.now() / step) * step);
  const n = Math.round((t1 - t0) / step) + 1;
  const byT = new Map(pts.map((p) => [p.t, p.byRule]));
  const totals = [];
  for (let i = 0; i < n; i++) {
    const r = byT.get(t0 + i * step) || {};
    totals.push(Object.values(r).reduce((a, b) => a + b, 0));
  }
  const max = Math.max(1, ...totals);
  const W = 900, H = 220, L = 44, B = 26, T = 8;
  const bw = (W - L - 8) / n;
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": tr("chartTitle"), class: "chart-svg" });
  for (let k = 0; k <= 4; k++) {
    const v = Math.round((max * k) / 4);
    const y = H - B - ((H - B - T) * k) / 4;
    s.append(svg("line", { x1: L, x2: W - 8, y1: y, y2: y, class: "grid" }));
    const lab = svg("text", { x: L - 6, y: y + 4, "text-anchor": "end", class: "axis" });
    lab.textContent = String(v);
    s.append(lab);
  }
  for (let i = 0; i < n; i++) {
    const t = t0 + i * step;
    const r = byT.get(t) || {};
    let y = H - B;
    for (const rule of rules) {
      const v = r[rule] || 0;
      if (!v) continue;
      const h = ((H - B - T) * v) / max;
      y -= h;
      const rect = svg("rect", { x: L + i * bw + 1, y, width: Math.max(1, bw - 2), height: h, fill: RULE_COLORS[rule] || OTHER_COLOR });
      const title = svg("title", {});
      title.textContent = `${when(t)} ${rule}: ${v}`;
      rect.append(title);
      s.append(rect);
    }
    if (n <= 16 || i % Math.ceil(n / 8) === 0) {
      const lab = svg("text", { x: L + i * bw + bw / 2, y: H - 8, "text-anchor": "middle", class: "axis" });
      const d = new Date(t);
      lab.textContent = tl.bucket === "hour" ? `${String(d.getHours()).padStart(2, "0")}:00` : `${d.getMonth() + 1}/${d.getDate()}`;
      s.append(lab);
    }
  }
  const legend = el("div", { class: "legend" }, rules.map((r) => el("span", { class: "rule", style: `--c:${RULE_COLORS[r] || OTHER_COLOR}`, text: r })));
  box.replaceChildren(s, legend);
}

function renderViolations(vs) {
  const box = $("violations");
  if (!vs.length) {
    box.replaceChildren(el("p", { class: "muted", text: tr("violationsNone") }));
    return;
  }
  const rows = vs.map((v) => el("tr", { class: v.open ? "open" : "closed" },
    el("td", {}, el("span", { class: "badge " + (v.open ? "fail" : "ok"), text: v.open ? tr("open") : tr("closed") })),
    el("td", {}, el("span", { class: "rule", style: `--c:${RULE_COLORS[v.rule] || OTHER_COLOR}`, text: v.rule })),
    el("td", { class: "mono", text: v.list }),
    el("td", { class: "mono" }, v.host || "—", el("details", {}, el("summary", { text: tr("examples") }), el("ul", {}, v.examples.map((u) => el("li", { class: "mono", text: u }))))),
    el("td", { class: "num", text: String(v.count) }),
    el("td", { text: when(v.firstSeen) }),
    el("td", { text: when(v.lastSeen) }),
    el("td", { text: v.reporters.map((r) => `${r.name} (${r.count})`).join(", ") }),
    el("td", { class: "fixcell", text: v.open ? v.fix || "" : "" })));
  box.replaceChildren(el("div", { class: "scroll" }, el("table", { class: "table" },
    el("thead", {}, el("tr", {}, ["colState", "colRule", "colList", "colHost", "colCount", "colFirst", "colLast", "colBy", "colFix"].map((k) => el("th", { text: tr(k) })))),
    el("tbody", {}, rows))));
}

function changeText(c) {
  const what = c.entry || (c.kind === "changed" ? `${c.from} → ${c.to}` : c.kind === "added" ? c.to : c.from);
  return `${tr(c.kind)} ${c.path}: ${what}`;
}

function renderHistory(h) {
  const box = $("history");
  if (!h.versions.length) {
    box.replaceChildren(el("p", { class: "muted", text: tr("historyNone") }));
    return;
  }
  box.replaceChildren(...h.versions.map((v) => {
    const out = el("div", { class: "diff", hidden: true });
    const diffBtn = el("button", { type: "button", class: "small", text: tr("showDiff") });
    const fileBtn = el("button", { type: "button", class: "small", text: tr("showFile") });
    diffBtn.addEventListener("click", async () => {
      if (!out.hidden && out.dataset.kind === "diff") {
        out.hidden = true;
        diffBtn.textContent = tr("showDiff");
        return;
      }
      const d = await get(`/v1/projects/${appid}/config/diff?from=${v.version - 1}&to=${v.version}`);
      out.dataset.kind = "diff";
      out.replaceChildren(el("pre", { class: "unified" }, d.unified.split("\n").map((line) => el("span", {
        class: line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : "",
        text: line + "\n",
      }))));
      out.hidden = false;
      diffBtn.textContent = tr("hideDiff");
    });
    fileBtn.addEventListener("click", async () => {
      const f = await get(`/v1/projects/${appid}/config/versions/${v.version}`);
      out.dataset.kind = "file";
      out.replaceChildren(el("pre", { class: "unified", text: f.body }));
      out.hidden = false;
      diffBtn.textContent = tr("showDiff");
    });
    return el("div", { class: "version" },
      el("div", { class: "version-head" },
        el("strong", { text: tr("version", v.version) }), " ", el("span", { class: "muted", text: `${tr("by", v.author)} · ${when(v.at)}` }),
        v.message ? el("span", { class: "msg", text: v.message }) : null,
        el("span", { class: "grow" }), diffBtn, fileBtn),
      el("ul", { class: "changes" }, v.changes && v.changes.length ? v.changes.map((c) => el("li", { class: c.kind, text: changeText(c) })) : el("li", { class: "muted", text: tr("noChanges") })),
      out);
  }));
}

// -------------------------------------------------------------------- load

async function load() {
  const range = $("range").value;
  const bucket = range === "2d" ? "hour" : "day";
  try {
    const [s, h, tl] = await Promise.all([
      get(`/v1/projects/${appid}/summary`),
      get(`/v1/projects/${appid}/config/history?limit=20`),
      get(`/v1/projects/${appid}/timeline?since=${range}&bucket=${bucket}`),
    ]);
    renderGate(s.gate);
    renderHosts(s.hostsToAdd);
    renderByRule(s.openByRule);
    renderChart(tl, Date.now() - Number.parseInt(range, 10) * 86400_000);
    renderViolations(s.violations);
    renderHistory(h);
    $("updated").textContent = tr("updated", new Date().toLocaleTimeString());
  } catch (e) {
    if (e.status === 401) return signOut(e.message);
    $("updated").textContent = tr("failed", e.message);
  }
}

async function signIn(tok) {
  token = tok;
  try {
    const who = await get("/v1/whoami");
    if (!who.project) throw new Error("an operator token has no project; use a project token");
    appid = who.project;
  } catch (e) {
    return signOut(e.message);
  }
  try { sessionStorage.setItem("mpnet.token", token); } catch { /* no storage */ }
  $("project").textContent = appid;
  $("login").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  applyStatic();
  await load();
}

function signOut(error) {
  token = "";
  appid = "";
  try { sessionStorage.removeItem("mpnet.token"); } catch { /* no storage */ }
  $("project").textContent = "";
  $("app").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("loginError").hidden = !error;
  $("loginError").textContent = error ? tr("loginFailed", error) : "";
  applyStatic();
}

$("loginForm").addEventListener("submit", (e) => {
  e.preventDefault();
  signIn($("token").value.trim());
});
$("signout").addEventListener("click", () => signOut(""));
$("range").addEventListener("change", load);
$("lang").addEventListener("change", () => {
  lang = $("lang").value;
  try { localStorage.setItem("mpnet.lang", lang); } catch { /* no storage */ }
  applyStatic();
  if (token) load();
});

applyStatic();
const frag = new URLSearchParams(location.hash.replace(/^#/, ""));
let initial = frag.get("token") || "";
if (initial) history.replaceState(null, "", location.pathname + location.search);
if (!initial) {
  try { initial = sessionStorage.getItem("mpnet.token") || ""; } catch { initial = ""; }
}
if (initial) signIn(initial);
else signOut("");
setInterval(() => { if (token && !document.hidden) load(); }, 30000);
