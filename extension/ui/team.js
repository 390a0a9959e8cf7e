// The options page's team service section (extension/src/team.js does
// the work): the service URL and a project token, connect / disconnect,
// and what the connection is doing (the configuration's version and
// freshness, the report queue). Built here, inserted before the R12
// section, so that options.html only loads this script.

import { t, send, el, str } from "./lib.js";
import { freshness, ago } from "../src/teamcore.js";

const lang = (() => {
  try {
    return chrome.i18n.getUILanguage();
  } catch {
    return "en";
  }
})();

const url = el("input", { id: "teamURL", type: "url", placeholder: "https://team.example.com", size: 40, spellcheck: "false" });
const token = el("input", { id: "teamToken", type: "password", placeholder: "mpnet_…", size: 40, autocomplete: "off", spellcheck: "false" });
const connectBtn = el("button", { id: "teamConnect", type: "button", class: "primary", text: t("teamConnect") });
const disconnectBtn = el("button", { id: "teamDisconnect", type: "button", text: t("teamDisconnect") });
const syncBtn = el("button", { id: "teamSyncNow", type: "button", text: t("teamSync") });
const state = el("div", { id: "teamStatus", role: "status" });

const section = el("section", { class: "section", id: "teamSection", "aria-labelledby": "teamTitle" },
  el("h2", { id: "teamTitle", text: t("teamTitle") }),
  el("p", { class: "lead", text: t("teamLead") }),
  el("div", { class: "form-grid" },
    el("label", { for: "teamURL", text: t("teamURL") }), el("div", { class: "field" }, url),
    el("label", { for: "teamToken", text: t("teamToken") }), el("div", { class: "field" }, token, el("small", { text: t("teamTokenHint") }))),
  el("div", { class: "row" }, connectBtn, syncBtn, disconnectBtn),
  state);

const anchor = document.querySelector('section[aria-labelledby="agentTitle"]');
if (anchor) anchor.before(section);
else document.querySelector(".page").append(section);

function render(s, error = "") {
  const lines = [];
  if (error) lines.push(el("p", { class: "note error", text: t("teamFailed", error) }));
  const connected = !!(s && s.connected);
  url.disabled = token.disabled = connected;
  connectBtn.hidden = connected;
  disconnectBtn.hidden = syncBtn.hidden = !connected;
  if (!connected) {
    lines.push(el("p", { class: "note", text: t("teamNotConnected") }));
    state.replaceChildren(...lines);
    return;
  }
  url.value = str(s.url);
  token.value = "";
  token.placeholder = `mpnet_${str(s.tokenId)}_…`;
  lines.push(el("p", { class: "note success", text: t("teamConnected", str(s.appid), str(s.name), str(s.role)) }));
  const c = s.config;
  const f = freshness(c && { ...c, body: c.has ? "x" : "" }, Date.now());
  if (!c || (!c.has && c.error === "no_config")) lines.push(el("p", { class: "note", text: t("teamConfigNone") }));
  else if (c.error) lines.push(el("p", { class: "note error", text: t("teamConfigError", c.error, ago(Date.now() - (c.fetchedAt || 0), lang)) }));
  else lines.push(el("p", { class: "note", text: t("teamConfigVersion", String(c.version), ago(f.ageMs, lang)) }));
  const q = s.queue || {};
  lines.push(el("p", { class: "muted", id: "teamQueue", text: t("teamQueue", String(q.sent || 0), String(q.waiting || 0), String(q.dropped || 0), String(q.rejected || 0)) }));
  if (q.lastError) {
    lines.push(el("p", { class: "muted", text: t("teamLastError", q.lastError) }));
    if (q.nextRetry > Date.now()) lines.push(el("p", { class: "muted", text: t("teamNextRetry", ago(q.nextRetry - Date.now(), lang)) }));
  }
  state.replaceChildren(...lines);
}

async function ask(msg) {
  try {
    const a = await send(msg);
    if (a && a.ok === false) return { error: str(a.error) };
    return { status: a && a.status ? a.status : a };
  } catch (e) {
    return { error: e.message || String(e) };
  }
}

async function refresh() {
  const { status, error } = await ask({ type: "teamGet" });
  render(status, error);
}

connectBtn.addEventListener("click", async () => {
  connectBtn.disabled = true;
  const { status, error } = await ask({ type: "teamConnect", url: url.value.trim(), token: token.value.trim() });
  connectBtn.disabled = false;
  if (error) {
    const cur = await ask({ type: "teamGet" });
    render(cur.status, error);
  } else {
    render(status);
  }
});
disconnectBtn.addEventListener("click", async () => {
  const { status, error } = await ask({ type: "teamDisconnect" });
  render(status, error);
});
syncBtn.addEventListener("click", async () => {
  syncBtn.disabled = true;
  const { status, error } = await ask({ type: "teamSync" });
  syncBtn.disabled = false;
  render(status, error);
});

refresh();
setInterval(refresh, 5000);
