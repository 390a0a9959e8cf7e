// The toolbar popup: this tab's switch, mode and background simulation,
// with the tab's counts and the runtime's status.
import { t, tOr, applyI18n, send, str, num, arr, MODES, normalizeOrigin, originMatches } from "./lib.js";

applyI18n();

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  failed: $("failed"),
  failedError: $("failedError"),
  unavailable: $("unavailable"),
  setup: $("setup"),
  setupText: $("setupText"),
  setupButton: $("setupButton"),
  controls: $("controls"),
  enabled: $("enabled"),
  background: $("background"),
  modes: [...document.querySelectorAll('input[name="mode"]')],
  calls: $("countCalls"),
  fail: $("countFail"),
  warn: $("countWarn"),
  appid: $("appid"),
  version: $("version"),
  origin: $("origin"),
  error: $("error"),
};

let tabId = null;
let tabOrigin = "";
let state = {};
let configured = null; // the origins with a configuration, null when unknown
let baked = []; // the match patterns this build checks from install
let pending = 0; // setTab calls in flight: polling must not undo the user's change

function showError(msg) {
  ui.error.textContent = msg;
  ui.error.hidden = !msg;
}

function renderStatus(status) {
  const st = status && typeof status === "object" ? str(status.state) : "";
  ui.status.hidden = false;
  ui.status.className = "pill " + (st || "none");
  ui.status.textContent = st ? tOr("status_" + st, st) : t("status_none");
  const failed = st === "failed";
  ui.failed.hidden = !failed;
  ui.failedError.textContent = failed ? str(status.error) || t("statusFailedUnknown") : "";
}

function render() {
  const s = state || {};
  if (!pending) {
    ui.enabled.checked = !!s.enabled;
    ui.background.checked = !!s.background;
    const mode = MODES.includes(s.mode) ? s.mode : "enforce";
    for (const r of ui.modes) r.checked = r.value === mode;
  }
  ui.controls.querySelector("#modes").classList.toggle("disabled-area", !ui.enabled.checked);
  ui.background.closest(".card").classList.toggle("disabled-area", !ui.enabled.checked);

  const c = s.counts && typeof s.counts === "object" ? s.counts : {};
  ui.calls.textContent = String(num(c.calls) ?? 0);
  ui.fail.textContent = String(num(c.fail) ?? 0);
  ui.warn.textContent = String(num(c.warn) ?? 0);

  ui.appid.textContent = str(s.appid) || t("valueUnset");
  ui.version.textContent = str(s.version) || t("valueUnset");
  const origin = str(s.origin) || tabOrigin;
  ui.origin.textContent = origin || t("valueUnset");
  renderStatus(s.status);

  const notSetUp = !!origin && configured !== null && !configured.includes(origin) && !baked.some((p) => originMatches(origin, p));
  ui.setup.hidden = !notSetUp;
  if (notSetUp) ui.setupText.textContent = t("popupNotSetUp", origin);
}

async function refresh() {
  if (tabId === null) return;
  try {
    const answer = await send({ type: "getTab", tabId });
    if (answer && typeof answer === "object") {
      if (answer.error && answer.enabled === undefined) throw new Error(str(answer.error));
      state = answer;
    }
    showError("");
  } catch (e) {
    showError(t("errorBackground", e.message || String(e)));
  }
  render();
}

async function refreshSettings() {
  try {
    const settings = await send({ type: "getSettings" });
    configured = settings && settings.origins && typeof settings.origins === "object" ? Object.keys(settings.origins) : null;
    baked = arr(settings && settings.defaults && settings.defaults.origins).map(str);
  } catch {
    configured = null;
  }
  render();
}

async function setTab(change) {
  if (tabId === null) return;
  pending++;
  try {
    const answer = await send({ type: "setTab", tabId, ...change });
    if (answer && typeof answer === "object" && !answer.error) state = { ...state, ...answer };
    else if (answer && answer.error) throw new Error(str(answer.error));
    else state = { ...state, ...change };
    showError("");
  } catch (e) {
    showError(t("errorBackground", e.message || String(e)));
  } finally {
    pending--;
  }
  render();
}

ui.enabled.addEventListener("change", () => setTab({ enabled: ui.enabled.checked }));
ui.background.addEventListener("change", () => setTab({ background: ui.background.checked }));
for (const r of ui.modes) r.addEventListener("change", () => r.checked && setTab({ mode: r.value }));

$("openOptions").addEventListener("click", () => {
  chrome.runtime.openOptionsPage();
  window.close();
});

ui.setupButton.addEventListener("click", () => {
  const origin = str(state.origin) || tabOrigin;
  // The permission prompt is shown by the options page: a popup closes when
  // it loses focus, which would drop the answer.
  chrome.tabs.create({ url: chrome.runtime.getURL("ui/options.html") + "#add=" + encodeURIComponent(origin) });
  window.close();
});

function showUnavailable(key) {
  ui.unavailable.textContent = t(key);
  ui.unavailable.hidden = false;
  ui.controls.hidden = true;
  document.querySelector(".stats").hidden = true;
  document.querySelector(".facts").hidden = true;
}

async function main() {
  render();
  let tab;
  try {
    // ?tab=N opens the popup for a given tab (screenshots and tests).
    const forced = Number(new URLSearchParams(location.search).get("tab"));
    if (forced > 0) tab = await chrome.tabs.get(forced);
    else [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  } catch {
    tab = undefined;
  }
  if (!tab || typeof tab.id !== "number" || tab.id < 0) {
    showUnavailable("popupNoTab");
    return;
  }
  tabId = tab.id;
  if (tab.url) {
    tabOrigin = /^https?:/i.test(tab.url) ? normalizeOrigin(tab.url) || "" : "";
    if (!tabOrigin) {
      showUnavailable("popupNotHttp");
      return;
    }
  }
  await Promise.all([refresh(), refreshSettings()]);
  setInterval(refresh, 1000);
}

main();
