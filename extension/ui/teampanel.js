// The DevTools panel's team pill: whether the preview's configuration is
// the team's (and how fresh) or this browser's own, and how many reports
// wait to be sent. Inserted into the toolbar, so that panel.html only
// loads this script.

import { t, send, el, str } from "./lib.js";
import { freshness, ago } from "../src/teamcore.js";

const lang = (() => {
  try {
    return chrome.i18n.getUILanguage();
  } catch {
    return "en";
  }
})();

const pill = el("span", { id: "teamPill", class: "pill team", title: t("teamPillTitle") });
const runtime = document.getElementById("runtime");
if (runtime) runtime.before(pill);
else (document.querySelector(".toolbar") || document.body).append(pill);

async function refresh() {
  let s = null;
  try {
    s = await send({ type: "teamGet" });
  } catch {
    s = null;
  }
  const c = s && s.connected ? s.config : null;
  if (!c || !c.has) {
    pill.className = "pill team local";
    pill.textContent = t("teamPillLocal");
    return;
  }
  const f = freshness({ ...c, body: "x" }, Date.now());
  pill.className = "pill team " + (f.state === "fresh" ? "ready" : "loading");
  let text = f.state === "fresh" ? t("teamPillTeam", String(c.version), ago(f.ageMs, lang)) : t("teamPillStale", String(c.version), ago(f.ageMs, lang));
  const waiting = s.queue && s.queue.waiting;
  if (waiting) text += " · " + t("teamPillWaiting", String(waiting));
  pill.textContent = text;
  pill.title = t("teamPillTitle") + (s.queue && s.queue.lastError ? "\n" + t("teamLastError", str(s.queue.lastError)) : "");
}

refresh();
setInterval(refresh, 5000);
