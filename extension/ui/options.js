// The options page: preview origins, their configuration files (imported,
// validated by the module through the background, saved), the advanced
// settings kept in mpnet-options.json, and the extension's baked defaults.
import {
  t, tOr, applyI18n, send, el, str, num, arr, flash,
  normalizeOrigin, problemLocation, buildOptionsFile, splitOptionsFile, sameFiles, upsertFile,
  LISTS, OPTIONS_FILE, PASTE_NAMES,
} from "./lib.js";

applyI18n();

const $ = (id) => document.getElementById(id);
const MAX_FILE = 1 << 20;

let settings = { origins: {} };
let selected = ""; // the origin being edited
let stored = []; // its saved files
let staged = []; // the project files being edited (without mpnet-options.json)
let adv = emptyAdv();
let result = null; // {ok, errors, problems, config, formats, referer} of the current files
let resultState = "empty"; // "empty" | "pending" | "done" | "error"
let resultError = "";
let validatedFor = null; // the files the result belongs to
let validateSeq = 0;
let validateTimer = 0;
const drafts = new Map(); // origin -> {staged, adv}: unsaved edits kept while another origin is selected

function emptyAdv() {
  return { mode: "", legacy: false, lan: "", lanOff: false, timeoutFrom: "" };
}

/** The files to validate and save: the project's files, then the advanced settings. */
function currentFiles() {
  const extra = buildOptionsFile(adv);
  return extra ? [...staged, extra] : staged.slice();
}

function dirty() {
  return !!selected && !sameFiles(currentFiles(), stored);
}

// ------------------------------------------------------------------ origins

async function loadSettings() {
  try {
    const s = await send({ type: "getSettings" });
    settings = s && typeof s === "object" ? s : {};
    if (!settings.origins || typeof settings.origins !== "object") settings.origins = {};
    $("loadError").hidden = true;
  } catch (e) {
    settings = { origins: {} };
    $("loadError").textContent = t("errorBackground", e.message || String(e));
    $("loadError").hidden = false;
  }
  renderOrigins();
  renderDefaults();
}

function originNames() {
  return Object.keys(settings.origins).sort();
}

function renderOrigins() {
  const list = $("origins");
  list.replaceChildren();
  const names = originNames();
  $("originsEmpty").hidden = names.length > 0;
  for (const origin of names) {
    const o = settings.origins[origin] || {};
    const files = arr(o.files);
    const chips = files.length
      ? files.map((f) => el("span", { class: "chip", text: str(f && f.name) || "?" }))
      : [el("span", { text: t("originsNoFiles") })];
    const updated = num(o.updated) ? el("span", { text: t("originsUpdated", new Date(o.updated).toLocaleString()) }) : null;
    const remove = el("button", { type: "button", class: "danger small", text: t("remove") });
    remove.addEventListener("click", () => armRemove(remove, origin));
    const edit = el("button", { type: "button", class: "small", text: t("originsEdit"), onclick: () => select(origin) });
    list.append(el("div", { class: "origin" + (origin === selected ? " selected" : "") },
      el("span", { class: "name", text: origin }),
      el("div", { class: "actions" }, edit, remove),
      el("div", { class: "files" }, chips, updated)));
  }
  const sel = $("originSelect");
  sel.replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
  sel.value = selected;
  $("importOriginRow").hidden = names.length === 0;
  $("importNoOrigin").hidden = names.length > 0;
  $("importBody").hidden = !selected;
  $("advSection").hidden = !selected;
  $("savebar").hidden = !selected;
}

function showAdd(text, kind = "") {
  const m = $("addMessage");
  m.textContent = text;
  m.className = "note" + (kind ? " " + kind : "");
  m.hidden = !text;
}

// addOrigin must run inside the click (or submit) handler: the permission
// request needs the user's gesture.
function addOrigin(raw) {
  const origin = normalizeOrigin(raw);
  if (!origin) {
    showAdd(t("originsInvalid", str(raw)), "error");
    return;
  }
  if (settings.origins[origin]) {
    select(origin);
    showAdd(t("originsExists", origin));
    return;
  }
  let request;
  try {
    request = chrome.permissions.request({ origins: [origin + "/*"] });
  } catch (e) {
    showAdd(t("originsAddFailed", e.message || String(e)), "error");
    return;
  }
  Promise.resolve(request).then(async (granted) => {
    if (!granted) {
      showAdd(t("originsDenied", origin), "error");
      return;
    }
    const answer = await send({ type: "saveOrigin", origin, files: [] });
    if (answer && (answer.ok === false || answer.error)) throw new Error(str(answer.error) || "saveOrigin failed");
    $("addInput").value = "";
    await loadSettings();
    select(origin);
    showAdd(t("originsAdded", origin), "success");
  }).catch((e) => showAdd(t("originsAddFailed", e.message || String(e)), "error"));
}

function armRemove(button, origin) {
  if (!button.classList.contains("armed")) {
    button.classList.add("armed");
    button.textContent = t("removeConfirm");
    setTimeout(() => {
      if (!button.isConnected) return;
      button.classList.remove("armed");
      button.textContent = t("remove");
    }, 4000);
    return;
  }
  removeOrigin(origin);
}

async function removeOrigin(origin) {
  try {
    const answer = await send({ type: "removeOrigin", origin });
    if (answer && (answer.ok === false || answer.error)) throw new Error(str(answer.error) || "removeOrigin failed");
  } catch (e) {
    showAdd(t("originsRemoveFailed", e.message || String(e)), "error");
    return;
  }
  try {
    await chrome.permissions.remove({ origins: [origin + "/*"] });
  } catch {
    // a permission the manifest requires cannot be removed; nothing to undo
  }
  drafts.delete(origin);
  if (selected === origin) selected = "";
  await loadSettings();
  if (!selected && originNames().length) select(originNames()[0]);
  else renderAll();
  showAdd(t("originsRemoved", origin));
}

$("addForm").addEventListener("submit", (e) => {
  e.preventDefault();
  addOrigin($("addInput").value);
});
for (const b of document.querySelectorAll(".presets button[data-origin]")) {
  b.addEventListener("click", () => addOrigin(b.dataset.origin));
}
$("originSelect").addEventListener("change", (e) => select(e.target.value));

// ------------------------------------------------------------ the selection

function select(origin) {
  if (selected && selected !== origin && dirty()) drafts.set(selected, { staged, adv });
  selected = origin && settings.origins[origin] ? origin : "";
  const o = selected ? settings.origins[selected] : null;
  stored = o ? arr(o.files).filter((f) => f && typeof f === "object").map((f) => ({ name: str(f.name), content: str(f.content) })) : [];
  const draft = drafts.get(selected);
  if (draft) {
    ({ staged, adv } = draft);
    drafts.delete(selected);
  } else {
    ({ files: staged, adv } = splitOptionsFile(stored));
  }
  result = null;
  validatedFor = null;
  setSaveMessage("");
  renderAll();
  validate(0);
}

function renderAll() {
  renderOrigins();
  renderStaged();
  renderAdv();
  renderResult();
  renderSaveBar();
}

// -------------------------------------------------------------- the files

function formatOf(i) {
  if (!result || !validatedFor || !sameFiles(validatedFor, currentFiles())) return null;
  const f = arr(result.formats)[i];
  return typeof f === "string" ? f : null;
}

function renderStaged() {
  const box = $("staged");
  box.replaceChildren();
  $("stagedEmpty").hidden = staged.length > 0 || !!buildOptionsFile(adv);
  staged.forEach((f, i) => {
    const fmt = formatOf(i);
    const format = fmt === null ? el("span", { class: "format muted", text: "" })
      : fmt ? el("span", { class: "format", text: t("importRecognised", fmt) })
        : el("span", { class: "format unknown", text: t("importNotRecognised") });
    const up = el("button", { type: "button", class: "small", text: "↑", title: t("moveUp"), disabled: i === 0, onclick: () => move(i, -1) });
    const down = el("button", { type: "button", class: "small", text: "↓", title: t("moveDown"), disabled: i === staged.length - 1, onclick: () => move(i, 1) });
    const rm = el("button", { type: "button", class: "small danger", text: "×", title: t("remove"), "aria-label": t("remove"), onclick: () => removeStaged(i) });
    box.append(el("div", { class: "staged-file" },
      el("span", { class: "fname", text: f.name }),
      format,
      el("span", { class: "btns" }, up, down, rm),
      el("details", {}, el("summary", { class: "muted", text: t("importShow", String(f.content.length)) }), el("pre", { text: f.content }))));
  });
  const extra = buildOptionsFile(adv);
  if (extra) {
    const fmt = formatOf(staged.length);
    box.append(el("div", { class: "staged-file extra" },
      el("span", { class: "fname", text: extra.name }),
      el("span", { class: "format muted", text: fmt ? t("importRecognised", fmt) : "" }),
      el("span", { class: "btns muted", text: t("importAdvancedFile") }),
      el("details", {}, el("summary", { class: "muted", text: t("importShow", String(extra.content.length)) }), el("pre", { text: extra.content }))));
  }
}

function move(i, d) {
  const j = i + d;
  if (j < 0 || j >= staged.length) return;
  staged = staged.slice();
  [staged[i], staged[j]] = [staged[j], staged[i]];
  changed();
}

function removeStaged(i) {
  staged = staged.filter((_, k) => k !== i);
  changed();
}

function changed() {
  setSaveMessage("");
  renderStaged();
  renderSaveBar();
  validate();
}

async function addFiles(list) {
  const errors = [];
  for (const file of [...list]) {
    if (file.size > MAX_FILE) {
      errors.push(t("importTooLarge", file.name));
      continue;
    }
    let text;
    try {
      text = await file.text();
    } catch (e) {
      errors.push(t("importReadFailed", file.name, e.message || String(e)));
      continue;
    }
    addFile(file.name, text);
  }
  setSaveMessage(errors.join(" "), errors.length ? "error" : "");
  renderAdv();
  changed();
}

function addFile(name, content) {
  if (name === OPTIONS_FILE) {
    adv = splitOptionsFile([{ name, content }]).adv;
    return;
  }
  staged = upsertFile(staged, { name, content });
}

const zone = $("dropzone");
zone.addEventListener("dragover", (e) => {
  e.preventDefault();
  e.dataTransfer.dropEffect = "copy";
  zone.classList.add("over");
});
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => {
  e.preventDefault();
  zone.classList.remove("over");
  if (!selected) return;
  if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
});
// A file dropped beside the zone must not replace the page.
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => e.preventDefault());
$("pickButton").addEventListener("click", () => $("filePicker").click());
$("filePicker").addEventListener("change", (e) => {
  const files = e.target.files;
  if (files && files.length) addFiles(files);
  e.target.value = "";
});

const pasteName = $("pasteName");
pasteName.replaceChildren(...PASTE_NAMES.map((n) => el("option", { value: n, text: tOr("pasteName_" + n.replace(/\W/g, "_"), n) })));
$("pasteAdd").addEventListener("click", () => {
  const text = $("pasteText").value;
  if (!text.trim()) {
    setSaveMessage(t("importPasteEmpty"), "error");
    return;
  }
  addFile(pasteName.value, text);
  $("pasteText").value = "";
  renderAdv();
  changed();
});

// ---------------------------------------------------------------- validate

function validate(delay = 200) {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validateNow, delay);
}

function normalizeResult(a) {
  if (!a || typeof a !== "object") throw new Error(t("errorNoAnswer"));
  if (typeof a.ok !== "boolean" || (!a.ok && !arr(a.errors).length && a.error)) {
    const e = a.error;
    throw new Error(typeof e === "string" ? e : e && e.message ? str(e.message) : t("errorNoAnswer"));
  }
  return {
    ok: a.ok,
    errors: arr(a.errors).filter((p) => p && typeof p === "object"),
    problems: arr(a.problems).filter((p) => p && typeof p === "object"),
    config: a.config && typeof a.config === "object" ? a.config : null,
    formats: arr(a.formats),
    referer: str(a.referer),
  };
}

async function validateNow() {
  const files = currentFiles();
  const seq = ++validateSeq;
  if (!selected || files.length === 0) {
    result = null;
    validatedFor = files;
    resultState = "empty";
    renderResult();
    renderSaveBar();
    return;
  }
  resultState = "pending";
  renderResult();
  renderSaveBar();
  try {
    const answer = await send({ type: "validate", files });
    if (seq !== validateSeq) return;
    result = normalizeResult(answer);
    validatedFor = files;
    resultState = "done";
  } catch (e) {
    if (seq !== validateSeq) return;
    result = null;
    validatedFor = null;
    resultState = "error";
    resultError = e.message || String(e);
  }
  renderResult();
  renderStaged();
  renderSaveBar();
}

function problemItem(p) {
  const sev = str(p.severity) || "error";
  return el("li", { class: "problem " + sev },
    el("span", { class: "loc", text: problemLocation(p) || t("problemNoFile") }), " ",
    p.rule ? [el("span", { class: "rule", text: str(p.rule) }), " "] : null,
    el("span", { class: "sev", text: tOr("sev_" + sev, sev) }), " ",
    el("span", { class: "msg", text: str(p.message) }),
    p.fix ? [" — ", el("span", { class: "fix", text: str(p.fix) })] : null);
}

function renderResult() {
  const box = $("result");
  box.replaceChildren();
  if (!selected) return;
  if (resultState === "empty") {
    box.append(el("p", { class: "note", text: t("resultEmpty") }));
    return;
  }
  if (staged.length === 0 && buildOptionsFile(adv)) box.append(el("p", { class: "note", text: t("resultOptionsOnly") }));
  if (resultState === "pending" && !result) {
    box.append(el("p", { class: "note", text: t("resultPending") }));
    return;
  }
  if (resultState === "error") {
    box.append(el("p", { class: "note error", text: t("resultError", resultError) }));
    return;
  }
  const r = result;
  if (!r) return;
  const all = [...r.errors, ...r.problems];
  const nErr = all.filter((p) => p.severity !== "warning").length;
  const nWarn = all.length - nErr;
  let headline;
  if (!r.ok) headline = el("p", { class: "note error", text: t("resultNotOk") });
  else if (all.length) headline = el("p", { class: "note", text: t("resultOkProblems", String(nErr), String(nWarn)) });
  else headline = el("p", { class: "note success", text: t("resultOk") });
  box.append(headline);
  if (all.length) box.append(el("ul", { class: "problems" }, all.map(problemItem)));
  if (r.config) box.append(el("h3", { text: t("summaryTitle") }), summary(r.config, r.referer));
}

function none(text = t("valueNone")) {
  return el("span", { class: "none", text });
}

function summary(c, referer) {
  const dl = el("dl", { class: "summary-grid" });
  const row = (label, value) => dl.append(el("dt", { text: label }), el("dd", {}, value));
  row(t("factAppid"), str(c.appid) || none(t("valueUnset")));
  row(t("factVersion"), str(c.version) || none(t("summaryDefault", "0")));
  if (referer) row(t("summaryReferer"), referer);
  const d = c.domains && typeof c.domains === "object" ? c.domains : {};
  for (const list of LISTS) {
    const entries = arr(d[list.slice("domains.".length)]).map(str);
    row(list, entries.length ? el("div", {}, entries.map((e) => el("div", { text: e }))) : none());
  }
  const nt = c.networkTimeout && typeof c.networkTimeout === "object" ? c.networkTimeout : {};
  const timeouts = ["request", "connectSocket", "uploadFile", "downloadFile"]
    .filter((k) => num(nt[k])).map((k) => `${k} ${nt[k]} ms`);
  row("networkTimeout", timeouts.length ? timeouts.join(", ") : none(t("summaryTimeoutDefault")));
  row("mode", str(c.mode) || none(t("summaryDefault", "enforce")));
  row("urlCheck", c.urlCheck === false ? t("summaryUrlCheckOff") : c.urlCheck === true ? "true" : none(t("summaryDefault", "true")));
  const lan = arr(c.lan).map(str);
  row("lan", lan.length ? lan.join(", ") : adv.lanOff ? t("summaryLanOff") : none(t("summaryLanDefault")));
  row("concurrency", str(c.concurrency) || none(t("summaryDefault", "queue")));
  row("timeoutFrom", str(c.timeoutFrom) || none(t("summaryDefault", "call")));
  return dl;
}

// ----------------------------------------------------------------- advanced

function renderAdv() {
  $("advMode").value = adv.mode;
  $("advLegacy").checked = adv.legacy;
  $("advLan").value = adv.lan;
  $("advLanOff").checked = adv.lanOff;
  $("advLan").disabled = adv.lanOff;
  $("advTimeoutFrom").value = adv.timeoutFrom;
}

function readAdv() {
  adv = {
    mode: $("advMode").value,
    legacy: $("advLegacy").checked,
    lan: $("advLan").value,
    lanOff: $("advLanOff").checked,
    timeoutFrom: $("advTimeoutFrom").value,
  };
  $("advLan").disabled = adv.lanOff;
  changed();
}

for (const id of ["advMode", "advLegacy", "advLanOff", "advTimeoutFrom"]) $(id).addEventListener("change", readAdv);
$("advLan").addEventListener("input", readAdv);

// --------------------------------------------------------------------- save

function setSaveMessage(text, kind = "") {
  const m = $("saveMessage");
  m.textContent = text;
  m.className = "msg" + (kind ? " " + kind : "");
}

function canSave() {
  if (!selected || !dirty()) return false;
  const files = currentFiles();
  if (files.length === 0) return true;
  return resultState === "done" && !!result && result.ok && sameFiles(validatedFor, files);
}

function renderSaveBar() {
  $("saveButton").disabled = !canSave();
  $("revertButton").disabled = !selected || !dirty();
  const m = $("saveMessage");
  if (m.className.includes("error") || m.className.includes("success")) return;
  if (!selected) m.textContent = "";
  else if (!dirty()) m.textContent = t("saveClean");
  else if (resultState === "done" && result && !result.ok) m.textContent = t("saveBlocked");
  else m.textContent = t("saveDirty");
}

$("saveButton").addEventListener("click", async () => {
  if (!canSave()) return;
  const origin = selected;
  const files = currentFiles();
  const button = $("saveButton");
  button.disabled = true;
  try {
    const answer = await send({ type: "saveOrigin", origin, files });
    if (answer && (answer.ok === false || answer.error)) throw new Error(str(answer.error) || t("errorNoAnswer"));
  } catch (e) {
    setSaveMessage(t("saveFailed", e.message || String(e)), "error");
    renderSaveBar();
    return;
  }
  await loadSettings();
  if (origin === selected) {
    stored = files;
    renderAll();
  }
  setSaveMessage(t("saved", origin), "success");
  renderSaveBar();
  flash(button, t("savedShort"));
});

$("revertButton").addEventListener("click", () => {
  drafts.delete(selected);
  ({ files: staged, adv } = splitOptionsFile(stored));
  setSaveMessage("");
  renderAll();
  validate(0);
});

// ----------------------------------------------------------------- defaults

function renderDefaults() {
  const box = $("defaults");
  box.replaceChildren();
  const files = arr(settings.defaults && settings.defaults.files).filter((f) => f && typeof f === "object");
  if (files.length) {
    for (const f of files) {
      box.append(el("details", { open: files.length === 1 },
        el("summary", {}, el("code", { text: str(f.name) || "?" })),
        el("pre", { text: str(f.content) })));
    }
  } else {
    box.append(el("p", { class: "muted", text: t("defaultsNone") }));
  }
  const patterns = arr(settings.defaults && settings.defaults.origins).map(str).filter(Boolean);
  if (patterns.length) {
    box.append(el("h3", { text: t("defaultsOrigins") }), el("ul", { class: "mono" }, patterns.map((p) => el("li", { text: p }))));
  }
  const global = [];
  if (settings.lan !== undefined && settings.lan !== null) {
    global.push(["lan", Array.isArray(settings.lan) ? settings.lan.map(str).join(", ") || t("summaryLanOff") : settings.lan === false ? t("summaryLanOff") : str(settings.lan)]);
  }
  if (settings.concurrency) global.push(["concurrency", str(settings.concurrency)]);
  if (global.length) {
    const dl = el("dl", { class: "summary-grid" });
    for (const [k, v] of global) dl.append(el("dt", { text: k }), el("dd", { text: v }));
    box.append(el("h3", { text: t("defaultsGlobal") }), dl);
  }
}

// --------------------------------------------------------------------- main

function readHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  return { add: h.get("add") || "", origin: h.get("origin") || "" };
}

window.addEventListener("beforeunload", (e) => {
  if (dirty()) e.preventDefault();
});

async function main() {
  renderAll();
  await loadSettings();
  const hash = readHash();
  const names = originNames();
  if (hash.origin && settings.origins[hash.origin]) select(hash.origin);
  else if (hash.add && settings.origins[normalizeOrigin(hash.add)]) select(normalizeOrigin(hash.add));
  else if (names.length) select(names[0]);
  else renderAll();
  if (hash.add && !settings.origins[normalizeOrigin(hash.add)]) {
    $("addInput").value = hash.add;
    showAdd(t("originsAddHint", hash.add));
    $("addButton").focus();
  }
}

main();
