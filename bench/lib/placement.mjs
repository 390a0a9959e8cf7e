// 6: where the module runs. A page whose Content-Security-Policy forbids
// WebAssembly (the header script-src 'self') cannot compile the module; the
// page runtime then drives the same module in the extension (offscreen
// document) by messages. This measures what that costs per call, next to
// the in-page module, on the same demo preview in the same browser.

/** openPlacementPages opens the demo preview twice: module in the page, and (strict CSP) in the extension. */
export async function openPlacementPages(stack) {
  const pages = {};
  for (const [name, query] of [["page", ""], ["extension", "?csp=nowasm"]]) {
    const p = await stack.context.newPage();
    await p.goto(stack.preview.url + query);
    await p.waitForFunction(() => window.mpnet && window.mpnet.status().state !== "loading", null, { timeout: 30000 });
    const st = await p.evaluate(() => window.mpnet.status());
    if (st.state !== "ready" || st.placement !== name) throw new Error(`the ${name} page's runtime is ${st.state} with the module in ${st.placement}: ${st.error}`);
    pages[name] = p;
  }
  return pages;
}

/**
 * checks times n sequential window.mpnet.check() calls (one module call
 * each, answered at once in the page, by message from the extension):
 * answers µs per call.
 */
export function checks(page, n) {
  return page.evaluate(async ({ n }) => {
    const base = String(window.FIXTURES.valid);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await window.mpnet.check({ api: "request", url: `${base}json?i=${i % 50}` });
    return ((performance.now() - t0) * 1000) / n;
  }, { n });
}

/** fetches times n fetches of the valid fixture in batches of 10: answers ms per fetch. */
export function fetches(page, n) {
  return page.evaluate(async ({ n }) => {
    const url = String(window.FIXTURES.valid).replace(/\/$/, "") + "/json";
    const t0 = performance.now();
    for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => fetch(url).then((r) => r.text())));
    return (performance.now() - t0) / n;
  }, { n });
}
