// Collects the figures of a run and writes results.json and results.md.

import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { summarize } from "./stats.mjs";

/** fmt prints a number with about three significant digits. */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

function withUnit(x, unit) {
  if (x === null || x === undefined) return "–";
  return unit === "x" ? `${fmt(x)}x` : `${fmt(x)} ${unit}`;
}

function ratioText(row) {
  if (row.ratio === null) return "–";
  if (row.ratioKind === "overhead") {
    const pct = (row.ratio - 1) * 100;
    return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`;
  }
  return `${fmt(row.ratio)}x`;
}

export class Results {
  constructor() {
    this.rows = [];
    this.notes = [];
    this.errors = [];
    this.details = {};
  }

  /**
   * add records one measurement.
   *   id, section, name, unit: what it is
   *   samples: the trials' values (the median is the figure)
   *   comparison: {name, samples | stats, unit?} what it is compared with (ratio = value / comparison)
   *   ratioKind: "ratio" (value / comparison, e.g. 12x) or "overhead" (+4.1%)
   *   target: {text, max?, on: "value" | "ratio", strict?} or {text, met: boolean}
   *   note: a remark printed under the table
   */
  add({ id, section, name, unit, samples, comparison = null, ratioKind = "ratio", target = null, note = "" }) {
    const stats = summarize(samples);
    let cmp = null;
    if (comparison) {
      const cs = comparison.stats || summarize(comparison.samples);
      cmp = { name: comparison.name, unit: comparison.unit || unit, ...cs, samples: comparison.samples || null };
    }
    const ratio = cmp && cmp.median && stats.median !== null ? stats.median / cmp.median : null;
    let met = null;
    if (target) {
      if (typeof target.met === "boolean") met = target.met;
      else if (typeof target.max === "number") {
        const v = target.on === "ratio" ? ratio : stats.median;
        if (v !== null) met = target.strict ? v < target.max : v <= target.max;
      }
    }
    const row = { id, section, name, unit, ...stats, samples: samples.map((x) => (Number.isFinite(x) ? +x.toPrecision(6) : x)),
      comparison: cmp, ratio, ratioKind, target: target ? { ...target } : null, met, note };
    this.rows.push(row);
    return row;
  }

  note(text) { this.notes.push(text); }

  error(section, err) {
    const msg = String(err && err.stack ? err.stack : err);
    this.errors.push({ section, message: msg });
    console.error(`[bench] ${section} failed: ${msg}`);
  }

  /** write writes results.json and results.md into dir. */
  write(dir, { machine, options, started, finished }) {
    mkdirSync(dir, { recursive: true });
    const json = { machine, options, started, finished, durationS: Math.round((Date.parse(finished) - Date.parse(started)) / 100) / 10,
      results: this.rows, details: this.details, notes: this.notes, errors: this.errors };
    writeFileSync(path.join(dir, "results.json"), JSON.stringify(json, null, 2) + "\n");
    writeFileSync(path.join(dir, "results.md"), this.markdown(json));
  }

  markdown({ machine, options, durationS }) {
    const L = [];
    L.push("# mpnet performance benchmark");
    L.push("");
    L.push(`${machine.date} · ${options.quick ? "--quick" : "full"} run, ${durationS} s · commit ${machine.commit || "?"}`);
    L.push("");
    L.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}, Chromium ${machine.chromium}, ${machine.go}.`);
    L.push("");
    L.push("Value = median of n trials (min–max). Ratio = value / comparison, measured in the same run.");
    L.push("");
    L.push("| measurement | value (min–max, n) | comparison | ratio | target | met? |");
    L.push("| --- | --- | --- | --- | --- | --- |");
    let section = "";
    const notes = [];
    for (const r of this.rows) {
      if (r.section !== section) {
        section = r.section;
        L.push(`| **${section}** | | | | | |`);
      }
      let name = r.name;
      if (r.note) {
        notes.push(r.note);
        name += ` [${notes.length}]`;
      }
      const value = r.median === null ? "–" : `**${withUnit(r.median, r.unit)}** (${fmt(r.min)}–${fmt(r.max)}, n=${r.n})`;
      const cmp = r.comparison ? `${r.comparison.name}: ${withUnit(r.comparison.median, r.comparison.unit)}` : "";
      const met = r.met === null ? "" : r.met ? "yes" : "**no**";
      L.push(`| ${name} | ${value} | ${cmp} | ${ratioText(r)} | ${r.target ? r.target.text : ""} | ${met} |`);
    }
    L.push("");
    if (notes.length) {
      L.push("Notes:");
      L.push("");
      notes.forEach((n, i) => L.push(`${i + 1}. ${n}`));
      L.push("");
    }
    for (const n of this.notes) L.push(`- ${n}`);
    if (this.notes.length) L.push("");
    if (this.errors.length) {
      L.push("## Errors");
      L.push("");
      for (const e of this.errors) L.push(`- ${e.section}: \`${e.message.split("\n")[0]}\``);
      L.push("");
    }
    return L.join("\n");
  }
}
