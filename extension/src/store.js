// The call records of every tab, kept in chrome.storage.session as well as
// in memory, so that they survive the service worker being stopped
// (Chromium stops an idle MV3 worker after about 30 s and its memory is
// gone): the panel, the badge and getRecords read the same set before and
// after a restart.
//
// Storage layout (session storage is readable by the extension's own
// contexts only, not by content scripts):
//   meta:<tab>          {origin, doc, preserve, status, off, rejected, next}
//   rec:<tab>:<n>       one record, n its place in the tab's list (the
//                       order in which the records first arrived)
// Each batch the runtime sends is one write of the records it changed
// (batches that come while a write is under way share the next one),
// each under its own key (a record that changes is written again under the
// same key); a record evicted to stay within the bounds is one key
// removed. Nothing is ever written twice for the sake of the layout (an
// earlier layout kept a key per batch and rewrote the tab's whole list
// whenever records were evicted: megabytes per eviction in a long
// session). Bounds: MAX_RECORDS per tab and MAX_BYTES per tab, TOTAL_BYTES
// for every tab together (session storage holds 10 MiB); over a bound the
// oldest records go, from memory and storage alike, and the panel is told
// which (so badge and panel keep agreeing). The counts the badge shows are
// kept as records come and go, not recounted.

export const MAX_RECORDS = 5000;
export const MAX_BYTES = 3 << 20;
export const TOTAL_BYTES = 8 << 20;

const metaKey = (id) => "meta:" + id;
const recKey = (id, n) => `rec:${id}:${n}`;

const grade = (r) => (r.verdict === "fail" ? "fail" : r.verdict === "warn" ? "warn" : "");

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
      t = { id, records: new Map(), sizes: new Map(), places: new Map(), grades: new Map(), bytes: 0, fail: 0, warn: 0, writing: Promise.resolve(), queued: null, badge: null,
        meta: { origin: "", doc: "", preserve: false, status: null, off: "", rejected: 0, next: 0 } };
      this.tabs.set(id, t);
    }
    return t;
  }

  async load() {
    const all = await this.area.get(null);
    for (const [k, v] of Object.entries(all)) {
      const m = /^meta:(\d+)$/.exec(k);
      if (m && v && typeof v === "object") Object.assign(this.tab(Number(m[1])).meta, v);
    }
    const kept = [];
    for (const [k, v] of Object.entries(all)) {
      const m = /^rec:(\d+):(\d+)$/.exec(k);
      if (m && v && typeof v === "object" && typeof v.id === "string") kept.push([Number(m[1]), Number(m[2]), v]);
    }
    kept.sort((a, b) => a[1] - b[1]);
    for (const [id, n, r] of kept) this.put(this.tab(id), r, n);
  }

  // put upserts a record in memory (a record keeps its place when it
  // changes); n is its place when it is read back from storage. Answers
  // the record's place.
  put(t, r, n) {
    const size = JSON.stringify(r).length;
    if (t.records.has(r.id)) {
      t.bytes -= t.sizes.get(r.id);
      this.count(t, r.id, -1);
    }
    t.records.set(r.id, r);
    t.sizes.set(r.id, size);
    t.bytes += size;
    t.grades.set(r.id, grade(r));
    this.count(t, r.id, 1);
    let place = t.places.get(r.id);
    if (place === undefined) {
      place = n !== undefined ? n : t.meta.next;
      t.places.set(r.id, place);
      t.meta.next = Math.max(t.meta.next, place + 1);
    }
    return place;
  }

  // count adds d to the count of the grade a record was last kept with (a
  // record changed in place, as an R12 verdict does, still takes its old
  // grade out first).
  count(t, id, d) {
    const g = t.grades.get(id);
    if (g) t[g] += d;
  }

  /** counts answers a tab's calls, and how many would fail and warn. */
  counts(id) {
    const t = this.tabs.get(id);
    return t ? { calls: t.records.size, fail: t.fail, warn: t.warn } : { calls: 0, fail: 0, warn: 0 };
  }

  /**
   * add upserts a batch of (validated) records for a tab, writes them, and
   * answers the ids of records evicted to stay within the bounds.
   */
  add(id, records) {
    const t = this.tab(id);
    const items = {};
    for (const r of records) items[recKey(id, this.put(t, r))] = r;
    const dropped = this.fit(t);
    for (const rid of dropped) delete items[rid.key];
    items[metaKey(id)] = t.meta;
    // Batches that arrive while a write is under way join the next write
    // (one storage write, however many batches came meanwhile).
    if (t.queued) Object.assign(t.queued, items);
    else {
      t.queued = items;
      this.write(t, () => {
        const all = t.queued;
        t.queued = null;
        return this.area.set(all);
      });
    }
    return dropped.map((d) => d.id);
  }

  // fit evicts the oldest records of t (and, over TOTAL_BYTES, of the
  // largest tabs) down to 90% of the bound they passed, and removes them
  // from storage; answers t's records dropped ({id, key}).
  fit(t) {
    const dropped = [];
    const evict = (tab, keepCount, keepBytes) => {
      const keys = [];
      for (const rid of tab.records.keys()) {
        if (tab.records.size <= keepCount && tab.bytes <= keepBytes) break;
        const key = recKey(tab.id, tab.places.get(rid));
        tab.bytes -= tab.sizes.get(rid);
        this.count(tab, rid, -1);
        tab.grades.delete(rid);
        tab.sizes.delete(rid);
        tab.places.delete(rid);
        tab.records.delete(rid);
        keys.push(key);
        if (tab === t) dropped.push({ id: rid, key });
        else tab.evicted = (tab.evicted || []).concat(rid);
      }
      if (keys.length) this.write(tab, () => this.area.remove(keys));
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
      if (before === big.bytes) break;
    }
    return dropped;
  }

  /** clear forgets a tab's records (a navigation without Preserve log, or the panel's Clear). */
  clear(id) {
    const t = this.tab(id);
    const keys = [...t.places.values()].map((n) => recKey(id, n));
    t.records.clear();
    t.sizes.clear();
    t.places.clear();
    t.grades.clear();
    t.bytes = 0;
    t.fail = 0;
    t.warn = 0;
    this.write(t, async () => {
      await this.area.set({ [metaKey(id)]: t.meta });
      if (keys.length) await this.area.remove(keys);
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
    const keys = [metaKey(id), ...[...t.places.values()].map((n) => recKey(id, n))];
    t.writing.then(() => this.area.remove(keys)).catch(() => {});
  }

  // write runs a tab's storage operations one after another, in order.
  write(t, op) {
    t.writing = t.writing.then(op).catch((e) => console.error("[mpnet] saving records:", e));
    return t.writing;
  }
}
