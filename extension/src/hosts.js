// The configuration's API hosts: the host names in its domain lists
// (request, uploadFile, downloadFile, socket), ASCII lower case, at most
// 500. They scope the Referer rule (R8: the requests it rewrites) and the
// hosts hostsim agent may be asked about (R12). Not a rule: whether a call
// is allowed is always the module's answer.

const LISTS = ["request", "uploadFile", "downloadFile", "socket"];

/** apiHosts answers the host names of config's domain lists (config: the module's merged configuration). */
export function apiHosts(config) {
  const hosts = new Set();
  const d = (config && config.domains) || {};
  for (const list of LISTS) {
    for (const entry of d[list] || []) {
      try {
        const h = new URL(entry).hostname.replace(/\.$/, "");
        if (/^[a-z0-9.-]+$/.test(h)) hosts.add(h);
      } catch (e) { /* an invalid entry (C1-C4) allows nothing */ }
    }
  }
  return [...hosts].slice(0, 500);
}
