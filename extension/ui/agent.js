// The options page's R12 section: the URL of a running `hostsim agent`
// (opt-in; empty turns R12 in the browser off) and the pairing token it
// printed, kept in chrome.storage.local. The agent answers only the
// extension that presents its token (and pins that extension's origin); the
// background sends it with every request.

import { t } from "./lib.js";

const $ = (id) => document.getElementById(id);

async function load() {
  const s = await chrome.storage.local.get(["agent", "agentToken"]);
  $("agentToken").value = typeof s.agentToken === "string" ? s.agentToken : "";
  let url = typeof s.agent === "string" ? s.agent : "";
  if (typeof s.agent !== "string") {
    try {
      url = (await (await fetch(chrome.runtime.getURL("defaults.json"))).json()).agent || "";
    } catch (e) { /* no baked defaults */ }
  }
  $("agentInput").value = url;
}

function valid(url) {
  return url === "" || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/.test(url);
}

// The token hostsim agent prints: 32 hex digits.
function validToken(token) {
  return /^[0-9a-f]{32}$/.test(token);
}

$("agentSave").addEventListener("click", async () => {
  const url = $("agentInput").value.trim().replace(/\/+$/, "");
  const token = $("agentToken").value.trim();
  if (!valid(url)) {
    $("agentStatus").textContent = t("agentInvalid");
    return;
  }
  if (url && !validToken(token)) {
    $("agentStatus").textContent = t("agentTokenInvalid");
    return;
  }
  await chrome.storage.local.set({ agent: url, agentToken: url ? token : "" });
  $("agentStatus").textContent = url ? t("agentSaved") : t("agentOff");
});

$("agentTest").addEventListener("click", async () => {
  const url = $("agentInput").value.trim().replace(/\/+$/, "");
  const token = $("agentToken").value.trim();
  try {
    const r = await fetch(`${url}/v1/version`, { headers: { Authorization: `Bearer ${token}` } });
    if (r.status === 401 || r.status === 403) {
      $("agentStatus").textContent = t("agentRefused");
      return;
    }
    const v = await r.json();
    $("agentStatus").textContent = t("agentOK", String(v.abi));
  } catch (e) {
    $("agentStatus").textContent = t("agentDown", url);
  }
});

load();
