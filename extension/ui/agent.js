// The options page's R12 section: the URL of a running `hostsim agent`
// (opt-in; empty turns R12 in the browser off). The background asks it for
// every https/wss host the preview calls.

import { t } from "./lib.js";

const $ = (id) => document.getElementById(id);

async function load() {
  const s = await chrome.storage.local.get("agent");
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

$("agentSave").addEventListener("click", async () => {
  const url = $("agentInput").value.trim().replace(/\/+$/, "");
  if (!valid(url)) {
    $("agentStatus").textContent = t("agentInvalid");
    return;
  }
  await chrome.storage.local.set({ agent: url });
  $("agentStatus").textContent = url ? t("agentSaved") : t("agentOff");
});

$("agentTest").addEventListener("click", async () => {
  const url = $("agentInput").value.trim().replace(/\/+$/, "");
  try {
    const r = await fetch(`${url}/v1/version`);
    const v = await r.json();
    $("agentStatus").textContent = t("agentOK", String(v.abi));
  } catch (e) {
    $("agentStatus").textContent = t("agentDown", url);
  }
});

load();
