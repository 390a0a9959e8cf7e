// The configuration's API hosts: the host names in its domain lists
// (request, uploadFile, downloadFile, socket), ASCII lower case, at most
// 500. They scope the Referer rule (R8: the requests it rewrites) and the
// hosts hostsim agent may be asked about (R12). Not a rule: whether a call
// is allowed is always the module's answer.
//
// The loader's answers have null prototypes (extension/src/page/
// intrinsics.js): their arrays have no iterator, so they are read by index.

const LISTS = ["request", "uploadFile", "downloadFile", "socket"];

/** apiHosts answers the host names of config's domain lists (config: the module's merged configuration). */
export function apiHosts(config) {
  const hosts = new Set();
  const d = (config && config.domains) || {};
  for (let l = 0; l < LISTS.length; l++) {
    const entries = d[LISTS[l]] || [];
    for (let i = 0; i < entries.length; i++) {
      try {
        const h = new URL(entries[i]).hostname.replace(/\.$/, "");
        if (/^[a-z0-9.-]+$/.test(h)) hosts.add(h);
      } catch (e) { /* an invalid entry (C1-C4) allows nothing */ }
    }
  }
  return Array.from(hosts).slice(0, 500);
}
