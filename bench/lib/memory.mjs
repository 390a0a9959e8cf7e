// 5: memory of the preview page: the JS heap after a forced collection
// (CDP), and the module's linear memory (active and spare instance).

/** jsHeapUsed forces a garbage collection in the page and answers JSHeapUsedSize in MiB. */
export async function jsHeapUsed(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("Performance.enable");
    for (let i = 0; i < 2; i++) await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const m = metrics.find((x) => x.name === "JSHeapUsedSize");
    return m ? m.value / 2 ** 20 : null;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** linearMemory answers the module instances' linear memory in MiB: {active, spare}. */
export async function linearMemory(page) {
  // The page runtime keeps no spare instance (trap recovery instantiates
  // synchronously), so spare is 0; mpnet.status().memory is the in-page
  // instance's linear memory in bytes.
  return page.evaluate(() => {
    const st = window.mpnet && window.mpnet.status();
    return { active: st && st.memory ? st.memory / 2 ** 20 : null, spare: 0 };
  });
}
