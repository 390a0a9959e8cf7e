// Redirect hops for the panel (R14). A page sees only where a fetch or XHR
// ended (Response.url, xhr.responseURL), and that final URL is what the
// page runtime has the module judge; the browser's webRequest events see
// every hop. This observer (it blocks nothing) keeps each redirected
// request's chain for a short while and fills in the full chain of the
// call record it belongs to: same tab, same starting URL, same final URL.
// It listens to redirects only: a listener for every request's completion
// cost the service worker an event per call (and the browser the routing
// of it), which the fetch-storm benchmark counted against mpnet.

const KEEP_MS = 60000;
const MAX_CHAINS = 200; // per tab

// tabId -> Map(requestId -> {start, hops: [url...], at})
const chains = new Map();

/**
 * initHops starts observing redirects. records(tabId) answers the tab's
 * live record map; updated(tabId, record) is called when a record's hops
 * were filled in after it arrived.
 */
export function initHops({ records, updated }) {
  const wr = globalThis.chrome && chrome.webRequest;
  if (!wr) return;
  const filter = { urls: ["<all_urls>"], types: ["xmlhttprequest", "websocket", "image", "media", "other"] };
  wr.onBeforeRedirect.addListener((d) => {
    if (d.tabId < 0) return;
    let tab = chains.get(d.tabId);
    if (!tab) chains.set(d.tabId, (tab = new Map()));
    let c = tab.get(d.requestId);
    if (!c) {
      if (tab.size >= MAX_CHAINS) tab.delete(tab.keys().next().value);
      c = { start: d.url, hops: [], at: Date.now() };
      tab.set(d.requestId, c);
    }
    c.hops.push(d.redirectUrl);
    c.at = Date.now();
    // A record that arrived before this hop's event now finds its chain.
    for (const r of records(d.tabId).values()) {
      if (fill(r, c)) updated(d.tabId, r);
    }
  }, filter);
}

/** enrichHops fills in a record's full chain of hops when the browser saw it. */
export function enrichHops(tabId, record) {
  const tab = chains.get(tabId);
  if (!tab || !record || !Array.isArray(record.hops) || !record.hops.length) return;
  const now = Date.now();
  for (const [id, c] of tab) {
    if (now - c.at > KEEP_MS) { tab.delete(id); continue; }
    if (fill(record, c)) return;
  }
}

// fill sets a record's hops to a chain that starts at its URL and ends
// where the page saw it end (the chain has reached the URL the page's
// response came from, so it is complete). A chain stays until it expires:
// the page sends a record again whenever it changes, each time with only
// the final URL.
function fill(record, c) {
  if (!Array.isArray(record.hops) || !record.hops.length || record.hopsComplete) return false;
  const last = record.hops[record.hops.length - 1];
  if (c.start.split("#")[0] !== String(record.url).split("#")[0] || c.hops[c.hops.length - 1] !== last) return false;
  record.hops = c.hops.slice();
  record.hopsComplete = true;
  return true;
}

/** forgetHops drops a tab's chains (navigation, tab closed). */
export function forgetHops(tabId) {
  chains.delete(tabId);
}
