// The JavaScript runner of the conformance vectors (vectors.json beside this
// file): the same cases and the same matching rules as conformance.go, for
// the module running in a browser (or Node). A host is an object with
// configure(bytes), check(bytes), step(bytes), body(framedBytes) and
// judgeTLS(bytes), each answering bytes: the ABI's raw messages.

const enc = new TextEncoder();
const dec = new TextDecoder();

function empty(v) {
  if (v === null || v === undefined) return true;
  if (typeof v === "string") return v === "";
  if (typeof v === "number") return v === 0;
  if (typeof v === "boolean") return !v;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

/** match reports the first difference ("" when want matches got). */
export function match(want, got, path = "") {
  if (want === null) return empty(got) ? "" : `${path}: want absent or empty, got ${JSON.stringify(got)}`;
  if (Array.isArray(want)) {
    const g = got === null || got === undefined ? [] : got;
    if (!Array.isArray(g)) return `${path}: want an array, got ${JSON.stringify(got)}`;
    if (g.length !== want.length) return `${path}: want ${want.length} elements, got ${g.length}: ${JSON.stringify(got)}`;
    for (let i = 0; i < want.length; i++) {
      const p = match(want[i], g[i], `${path}[${i}]`);
      if (p) return p;
    }
    return "";
  }
  if (typeof want === "object") {
    if (got === null || typeof got !== "object" || Array.isArray(got)) return `${path}: want an object, got ${JSON.stringify(got)}`;
    for (const k of Object.keys(want).sort()) {
      if (k.endsWith("~")) {
        const base = k.slice(0, -1);
        const s = typeof got[base] === "string" ? got[base] : "";
        if (!s.includes(want[k])) return `${path}.${base}: ${JSON.stringify(s)} does not contain ${JSON.stringify(want[k])}`;
        continue;
      }
      const p = match(want[k], got[k], `${path}.${k}`);
      if (p) return p;
    }
    return "";
  }
  if (typeof want === "string") {
    const g = got !== null && typeof got === "object" && !Array.isArray(got) ? got.rule : got;
    return g === want ? "" : `${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(g)}`;
  }
  if (got === undefined) return `${path}: want ${JSON.stringify(want)}, got nothing`;
  return want === got ? "" : `${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
}

function checkStep(st, out) {
  const got = JSON.parse(out);
  if (st["error~"] !== undefined) {
    if (!got.error) return `expected an error containing ${JSON.stringify(st["error~"])}`;
    return got.error.message.includes(st["error~"]) ? "" : `error ${JSON.stringify(got.error.message)} does not contain ${JSON.stringify(st["error~"])}`;
  }
  if (got.error) return `unexpected error ${JSON.stringify(got.error)}`;
  const main = [];
  const reports = [];
  for (const a of got.actions || []) {
    if (a.type === "report") reports.push(a.rule);
    else main.push(a);
  }
  let p = match(st.expect || [], main, "actions");
  if (p) return p;
  if (st.reports && st.reports.join(",") !== reports.join(",")) return `reports: want rules ${st.reports}, got ${reports}`;
  if (st.state && (p = match(st.state, got, "state"))) return p;
  return "";
}

function fromHex(h) {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}
function toHex(b) { return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""); }

function frameMsg(head, payload) {
  const out = new Uint8Array(4 + head.length + payload.length);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  out.set(payload, 4 + head.length);
  return out;
}

/**
 * runVectors runs every case (newHost may be async) and resolves with the results:
 * [{group, name, problem}] with problem "" for a pass.
 */
export async function runVectors(v, newHost) {
  const results = [];
  const record = async (group, name, fn) => {
    let problem;
    try { problem = await fn(); } catch (e) { problem = "threw " + (e && e.stack || e); }
    results.push({ group, name, problem });
  };
  const configMsg = (name) => enc.encode(JSON.stringify({ files: [{ name: "mpnet.json", content: JSON.stringify(v.configs[name]) }] }));
  const okConfig = (out) => { const s = dec.decode(out); if (!s.includes('"ok":true')) throw new Error("configure failed: " + s); };

  let h = await newHost();
  for (const c of v.checks) {
    await record("checks", c.name, () => {
      okConfig(h.configure(configMsg(c.config)));
      const out = dec.decode(h.check(enc.encode(JSON.stringify({ api: c.api, url: c.url, timeout: c.timeout || 0, headers: c.headers || null }))));
      return match(c.expect, JSON.parse(out));
    });
  }
  for (const s of v.sequences) {
    await record("sequences", s.name, async () => {
      const host = await newHost();
      okConfig(host.configure(configMsg(s.config)));
      for (let i = 0; i < s.steps.length; i++) {
        const st = s.steps[i];
        const p = checkStep(st, dec.decode(host.step(enc.encode(JSON.stringify(st.event)))));
        if (p) return `step ${i} ${JSON.stringify(st.event)}: ${p}`;
      }
      return "";
    });
  }
  h = await newHost();
  for (const c of v.configFiles) {
    await record("configFiles", c.name, () => {
      const out = dec.decode(h.configure(enc.encode(JSON.stringify({ files: c.files, dryRun: true }))));
      return match(c.expect, JSON.parse(out));
    });
  }
  for (const c of v.tls || []) {
    await record("tls", c.name, () => match(c.expect, JSON.parse(dec.decode(h.judgeTLS(enc.encode(JSON.stringify(c.facts)))))));
  }
  for (const c of v.bodies) {
    await record("bodies", c.name, () => {
      const input = c.body !== undefined ? enc.encode(c.body) : fromHex(c.bodyHex);
      const out = h.body(frameMsg(enc.encode(JSON.stringify({ api: c.api, contentType: c.contentType })), input));
      const n = new DataView(out.buffer, out.byteOffset, out.byteLength).getUint32(0, true);
      const head = JSON.parse(dec.decode(out.subarray(4, 4 + n)));
      const payload = out.subarray(4 + n);
      const p = match(c.expect, head);
      if (p) return p;
      if (c.output !== undefined && dec.decode(payload) !== c.output) return `output ${JSON.stringify(dec.decode(payload))}, want ${JSON.stringify(c.output)}`;
      if (c.outputHex !== undefined && toHex(payload) !== c.outputHex) return `output ${toHex(payload)}, want ${c.outputHex}`;
      return "";
    });
  }
  return results;
}
