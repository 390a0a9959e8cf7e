// The call records of every tab, kept in chrome.storage.session as well as
// in memory, so that they survive the service worker being stopped
// (Chromium stops an idle MV3 worker after about 30 s and its memory is
// gone): the panel, the badge and getRecords read the same set before and
// after a restart.
//
// Storage layout (session storage is readable by the extension's own
// contexts only, not by content scripts):
//   meta:<tab>          {origin, doc, preserve, status, off, rejected, first, next}
//   rec:<tab>:<n>       one batch: the records that changed, in order
//                       (first <= n < next; later batches win by record id)
// Each batch the runtime sends is one write of its own records (no rewrite
// of the tab's whole log); after COMPACT_AFTER batches, or when records are
// evicted, the tab's current records are written again in chunks and the
// old batches removed. Bounds: MAX_RECORDS per tab and MAX_BYTES per tab,
// TOTAL_BYTES for every tab together (session storage holds 10 MiB); over
// a bound the oldest records go, from memory and storage alike, and the
// panel is told which (so badge and panel keep agreeing).

export const MAX_RECORDS = 5000;
export const MAX_BYTES = 3 << 20;
export const TOTAL_BYTES = 8 << 20;
const CHUNK = 250;
const COMPACT_AFTER = 64;

const metaKey = (id) => "meta:" + id;
const recKey = (id, n) => `rec:${id}:${n}`;

export class Store {
  /** @param area a chrome.storage area (chrome.storage.session) */
  constructor(area) {
    this.area = area;
    this.tabs = new Map();
    this.ready = this.load().catch((e) => console.error("[mpnet] restoring records:", e));
  }

  /** tab returns a tab's state, made empty when new. */
  tab(id) {
    let t = this.tabs.get(id);
    if (!t) {
      t = { id, records: new Map(), sizes: new Map(), bytes: 0, batches: 0, writing: Promise.resolve(), badge: null,
        meta: { origin: "", doc: "", preserve: false, status: null, off: "", rejected: 0, first: 0, next: 0 } };
      this.tabs.set(id, t);
    }
    return t;
  }

  async load() {
    const all = await this.area.get(null);
    const stale = [];
    for (const [k, v] of Object.entries(all)) {
      const m = /^meta:(\d+)$/.exec(k);
      if (m && v && typeof v === "object") Object.assign(this.tab(Number(m[1])).meta, v);
    }
    for (const t of this.tabs.values()) {
      for (let n = t.meta.first; n < t.meta.next; n++) {
        for (const r of all[recKey(t.id, n)] || []) this.put(t, r);
      }
      t.batches = t.meta.next - t.meta.first;
    }
    for (const k of Object.keys(all)) {
      const m = /^rec:(\d+):(\d+)$/.exec(k);
      if (!m) continue;
      const t = this.tabs.get(Number(m[1]));
      const n = Number(m[2]);
      if (!t || n < t.meta.first || n >= t.meta.next) stale.push(k); // left by a compaction the worker did not finish
    }
    if (stale.length) await this.area.remove(stale);
  }

  // put upserts a record in memory (a record keeps its place when it changes).
  put(t, r) {
    const size = JSON.stringify(r).length;
    const old = t.sizes.get(r.id);
    if (old !== undefined) t.bytes -= old;
    t.records.set(r.id, r);
    t.sizes.set(r.id, size);
    t.bytes += size;
  }

  /**
   * add upserts a batch of (validated) records for a tab, writes it, and
   * answers the ids of records evicted to stay within the bounds.
   */
  add(id, records) {
    const t = this.tab(id);
    for (const r of records) this.put(t, r);
    const dropped = this.fit(t);
    if (dropped.length) {
      this.compact(t);
    } else {
      const n = t.meta.next++;
      t.batches++;
      const batch = records;
      this.write(t, () => this.area.set({ [recKey(id, n)]: batch, [metaKey(id)]: t.meta }));
      if (t.batches > COMPACT_AFTER) this.compact(t);
    }
    return dropped;
  }

  // fit evicts the oldest records of t (and, over TOTAL_BYTES, of the
  // largest tabs) down to 90% of the bound they passed; answers t's ids dropped.
  fit(t) {
    const dropped = [];
    const evict = (tab, keepCount, keepBytes) => {
      for (const [rid] of tab.records) {
        if (tab.records.size <= keepCount && tab.bytes <= keepBytes) break;
        tab.bytes -= tab.sizes.get(rid);
        tab.sizes.delete(rid);
        tab.records.delete(rid);
        if (tab === t) dropped.push(rid);
        else tab.evicted = (tab.evicted || []).concat(rid);
      }
    };
    if (t.records.size > MAX_RECORDS || t.bytes > MAX_BYTES) evict(t, Math.floor(MAX_RECORDS * 0.9), Math.floor(MAX_BYTES * 0.9));
    let total = 0;
    for (const x of this.tabs.values()) total += x.bytes;
    while (total > TOTAL_BYTES) {
      let big = null;
      for (const x of this.tabs.values()) if (!big || x.bytes > big.bytes) big = x;
      const before = big.bytes;
      evict(big, Math.floor(big.records.size * 0.9), Math.floor(big.bytes * 0.9));
      total -= before - big.bytes;
      if (big !== t) this.compact(big);
      if (before === big.bytes) break;
    }
    return dropped;
  }

  // compact writes t's current records again in chunks and removes the old batches.
  compact(t) {
    const recs = [...t.records.values()];
    const first = t.meta.next;
    const items = {};
    for (let i = 0; i < recs.length; i += CHUNK) items[recKey(t.id, t.meta.next++)] = recs.slice(i, i + CHUNK);
    const old = [];
    for (let n = t.meta.first; n < first; n++) old.push(recKey(t.id, n));
    t.meta.first = first;
    t.batches = t.meta.next - first;
    items[metaKey(t.id)] = t.meta;
    this.write(t, async () => {
      await this.area.set(items);
      if (old.length) await this.area.remove(old);
    });
  }

  /** clear forgets a tab's records (a navigation without Preserve log, or the panel's Clear). */
  clear(id) {
    const t = this.tab(id);
    const old = [];
    for (let n = t.meta.first; n < t.meta.next; n++) old.push(recKey(id, n));
    t.records.clear();
    t.sizes.clear();
    t.bytes = 0;
    t.batches = 0;
    t.meta.first = t.meta.next;
    this.write(t, async () => {
      await this.area.set({ [metaKey(id)]: t.meta });
      if (old.length) await this.area.remove(old);
    });
  }

  /** setMeta changes a tab's kept state (status, off, preserve, origin, rejected). */
  setMeta(id, patch) {
    const t = this.tab(id);
    Object.assign(t.meta, patch);
    this.write(t, () => this.area.set({ [metaKey(id)]: t.meta }));
  }

  /** remove forgets a closed tab entirely. */
  remove(id) {
    const t = this.tabs.get(id);
    if (!t) return;
    this.tabs.delete(id);
    const keys = [metaKey(id)];
    for (let n = t.meta.first; n < t.meta.next; n++) keys.push(recKey(id, n));
    t.writing.then(() => this.area.remove(keys)).catch(() => {});
  }

  // write runs a tab's storage operations one after another, in order.
  write(t, op) {
    t.writing = t.writing.then(op).catch((e) => console.error("[mpnet] saving records:", e));
    return t.writing;
  }
}
