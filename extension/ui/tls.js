// The panel's R12 view: a server's report from hostsim agent ({facts,
// verdict}, the same object `hostsim cert --json` prints) shown as
// `hostsim cert` shows it: the certificate, the chain as sent, the cipher
// suites per TLS version, ALPN, the certificate without SNI, SCTs, and
// which phone generations connect. Rendering only: every judgement comes
// from the module's verdict.
import { t, el, str, num, arr } from "./lib.js";

const DAY_MS = 24 * 3600 * 1000;

function obj(v) {
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}

function day(ms) {
  return num(ms) === null ? "" : new Date(ms).toISOString().slice(0, 10);
}

/** lifetimeDays counts a validity period as Apple does: both ends inclusive, a started day counts. */
export function lifetimeDays(c) {
  if (num(c.notAfter) === null || num(c.notBefore) === null) return 0;
  return Math.ceil((c.notAfter - c.notBefore + 1000) / DAY_MS);
}

function forwardSecret(name) {
  return /DHE_|^TLS_AES_|^TLS_CHACHA20_/.test(name);
}

/** versionText says whether a TLS version is accepted, with its cipher suites. */
export function versionText(p) {
  if (!p.supported) return p.error ? t("tlsRefused", str(p.error)) : t("tlsNo");
  const ciphers = arr(p.ciphers).map(str);
  let s = t("tlsYes");
  if (ciphers.length) s += ": " + ciphers.join(", ");
  if (p.partial) s += " (" + (str(p.version) === "1.3" ? t("tlsPartial13") : t("tlsPartial")) + ")";
  if (ciphers.length && !ciphers.some(forwardSecret)) s += " [" + t("tlsNoFS") + "]";
  return s;
}

function alpnText(alpn) {
  if (alpn === "h2") return t("tlsALPNh2");
  if (!alpn) return t("tlsALPNNone");
  return t("tlsALPNOther", alpn);
}

function noSNIText(f) {
  const n = f.noSNI;
  if (!n || typeof n !== "object") return "";
  if (n.error) return t("tlsNoSNIError", str(n.error));
  if (n.sameCert) return t("tlsNoSNISame");
  if (n.hostnameMatch) return t("tlsNoSNIOther", str(f.host), str(n.subject));
  return t("tlsNoSNIWrong", str(n.subject), str(f.host));
}

function clientResult(c) {
  if (c.ok) return t("tlsPhoneOk");
  if (!c.judged) return t("tlsPhoneReported");
  return t("tlsPhoneFail", arr(c.fails).map(str).join(", "));
}

function platformText(p) {
  p = obj(p);
  return p.ok ? t("tlsPlatformOk") : t("tlsPlatformFail", arr(p.fails).map(str).join(", "));
}

/** renderTLS returns the R12 section for a report ({facts, verdict}). */
export function renderTLS(report) {
  const f = obj(obj(report).facts);
  const v = obj(obj(report).verdict);
  const section = el("section", { class: "tls" });
  section.append(el("h3", { text: t("tlsTitle", `${str(f.host || v.host)}:${str(f.port || v.port)}`) }));
  const dl = el("dl", { class: "kv" });
  const kv = (label, value, cls) => {
    if (value === "" || value == null) return;
    dl.append(el("dt", { text: label }), el("dd", { class: cls || null, text: value }));
  };
  const chain = arr(f.chain).map(obj);
  if (chain.length) {
    const leaf = chain[0];
    kv(t("tlsCertificate"), `${str(leaf.subject)}, ${t("tlsIssuedBy", str(leaf.issuer))}`);
    kv(t("tlsKey"), `${str(leaf.keyType)} ${str(leaf.keyBits)}, ${str(leaf.signatureAlgorithm)}`, "mono");
    const left = num(f.now) === null ? "" : String(Math.trunc((leaf.notAfter - f.now) / DAY_MS));
    kv(t("tlsValid"), t("tlsValidity", day(leaf.notBefore), day(leaf.notAfter), left, String(lifetimeDays(leaf))));
    kv(t("tlsNames"), [...arr(leaf.dnsNames), ...arr(leaf.ips)].map(str).join(", "), "mono");
    kv(t("tlsKeyUsage"), leaf.noExtKeyUsage ? t("tlsNoEKU") : arr(leaf.extKeyUsage).map(str).join(", "), "mono");
    kv(t("tlsChain"), t("tlsChainValue", String(chain.length), chain.slice(1).map((c) => ", " + str(c.subject)).join("")));
  }
  for (const p of arr(f.versions).map(obj)) kv("TLS " + str(p.version), versionText(p), "mono");
  if (chain.length) {
    kv(t("tlsALPN"), alpnText(str(f.alpn)));
    kv(t("tlsWithoutSNI"), noSNIText(f));
    const embedded = num(chain[0].scts) || 0;
    const total = num(f.scts) || 0;
    const roots = str(f.rootsSource);
    let extras = t("tlsExtrasValue", f.ocspStapled ? t("tlsYes") : t("tlsNo"), String(total), String(embedded), String(total - embedded), roots);
    if (roots && roots !== "system") extras += " (" + t("tlsSCTPrivate") + ")";
    kv(t("tlsExtras"), extras);
  }
  kv("iOS", platformText(v.ios));
  kv("Android", platformText(v.android));
  section.append(dl);

  const clients = arr(v.clients).map(obj);
  if (clients.length) {
    section.append(el("h3", { text: t("tlsPhones") }));
    const head = el("tr", {}, ...[t("tlsPhone"), t("tlsResult"), t("tlsProtocol"), t("tlsWhy")].map((text) => el("th", { text })));
    const rows = clients.map((c) => {
      let proto = c.protocol ? "TLS " + str(c.protocol) : "";
      if (proto && !c.forwardSecret) proto += " " + t("tlsWithoutFS");
      return el("tr", { class: c.ok ? "ok" : c.judged ? "fail" : "reported" },
        el("td", { text: str(c.name) }), el("td", { text: clientResult(c) }), el("td", { class: "mono", text: proto }), el("td", { text: str(c.note) }));
    });
    section.append(el("table", { class: "phones" }, el("thead", {}, head), el("tbody", {}, ...rows)));
  }
  return section;
}
