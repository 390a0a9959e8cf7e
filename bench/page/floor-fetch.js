// The floor for the storm: the least an allowlist interceptor can do: parse
// the URL, look its host up in a Set, call the original fetch. Runs as an
// init script in a page without the extension; bench/lib/pages.mjs fills in
// the list of hosts.

(() => {
  const allowed = new Set(/*HOSTS*/[]);
  const original = window.fetch;
  window.fetch = function fetch(input, init) {
    const url = new URL(typeof input === "string" ? input : input instanceof Request ? input.url : String(input), document.baseURI);
    if (url.protocol !== "https:" || !allowed.has(url.hostname)) {
      return Promise.reject(new TypeError("request:fail url not in domain list"));
    }
    return original.call(window, input, init);
  };
  Object.defineProperty(window, "__benchInterceptor", { value: "floor" });
})();
