// Screenshot tests of the popup, the options page and the DevTools panel, in
// English and Simplified Chinese, each checking real content (counts, rule
// IDs, hosts to add, translated labels). The screenshots are kept in
// test-results/ as artifacts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, existsSync } from "node:fs";
import path from "node:path";
import { startStack, openPreview, root } from "../tools/harness.mjs";

const out = path.join(root, "test-results");

for (const [lang, words] of [
  ["en-US", { mode: "Mode", hosts: "Hosts to add", origins: "Preview origins", tls: "Certificates and TLS (R12)", phones: "Phones" }],
  ["zh-CN", { mode: "模式", hosts: "待添加域名", origins: "预览源", tls: "证书与 TLS（R12）", phones: "各代手机" }],
]) {
  test(`popup, options and panel render real content (${lang})`, { timeout: 180000 }, async () => {
    mkdirSync(out, { recursive: true });
    const stack = await startStack({ lang, agent: true });
    try {
      const page = await openPreview(stack);
      await page.evaluate(async () => {
        for (const n of ["profile (allowed)", "stats host not listed (R2)", "plain http (R1)", "GBK notice (R10)", "push socket not listed (R2)"]) await window.demo.run(n);
      });
      const ext = `chrome-extension://${stack.extensionId}`;
      const probe = await stack.context.newPage();
      await probe.goto(`${ext}/ui/popup.html`);
      const tabId = await probe.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url && t.url.startsWith(url)).id, stack.preview.url);
      await probe.close();

      const popup = await stack.context.newPage();
      await popup.setViewportSize({ width: 380, height: 620 });
      await popup.goto(`${ext}/ui/popup.html?tab=${tabId}`);
      await popup.waitForFunction(() => /\d/.test(document.body.innerText) && document.body.innerText.includes("wx0123456789abcdef"), null, { timeout: 10000 });
      const popupText = await popup.evaluate(() => document.body.innerText);
      await popup.screenshot({ path: path.join(out, `popup-${lang}.png`) });
      assert.ok(popupText.includes(words.mode), `popup lacks "${words.mode}":\n${popupText}`);
      assert.ok(popupText.includes("wx0123456789abcdef"), "popup shows the appid");
      assert.match(popupText, /\b3\b/, "popup counts the 3 calls that would fail");

      // A certificate fault, judged through hostsim agent, for the R12 view.
      await page.evaluate(() => window.demo.run("missing intermediate (R12)"));
      const panel = await stack.context.newPage();
      await panel.setViewportSize({ width: 1400, height: 800 });
      await panel.goto(`${ext}/ui/panel.html?tab=${tabId}`);
      await panel.waitForFunction(() => document.body.innerText.includes("R2"), null, { timeout: 10000 });
      const panelText = await panel.evaluate(() => document.body.innerText);
      assert.ok(panelText.includes("request:fail url not in domain list"), "the table shows errMsg");
      assert.ok(panelText.includes("R10"), "the GBK warning is listed");
      await panel.getByText("R2").first().click();
      await panel.waitForTimeout(300);
      const details = await panel.evaluate(() => document.body.innerText);
      assert.ok(details.includes("stats.mpnet.test"), "details name the host");
      await panel.screenshot({ path: path.join(out, `panel-${lang}.png`) });
      await panel.getByText("missing-intermediate.mpnet.test").first().click();
      await panel.waitForFunction((w) => document.body.innerText.toLowerCase().includes(w.toLowerCase()), words.phones, { timeout: 20000 });
      const r12 = (await panel.evaluate(() => document.body.innerText)).toLowerCase(); // headings are styled in capitals
      for (const s of [words.tls, "iOS 13+", "Android 10+", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "works on iPhone, fails on Android"]) {
        assert.ok(r12.includes(s.toLowerCase()), `the R12 view lacks "${s}":\n${r12.slice(0, 3000)}`);
      }
      await panel.locator("section.tls table.phones").scrollIntoViewIfNeeded();
      await panel.screenshot({ path: path.join(out, `panel-r12-${lang}.png`) });
      await panel.getByText(words.hosts).first().click();
      await panel.waitForTimeout(300);
      const hosts = await panel.evaluate(() => document.body.innerText);
      assert.ok(hosts.includes("https://stats.mpnet.test"), `hosts to add lists the request host:\n${hosts.slice(0, 2000)}`);
      assert.ok(hosts.includes("wss://push.mpnet.test"), "hosts to add lists the socket host");
      await panel.screenshot({ path: path.join(out, `panel-hosts-${lang}.png`) });

      const options = await stack.context.newPage();
      await options.setViewportSize({ width: 1100, height: 900 });
      await options.goto(`${ext}/ui/options.html`);
      await options.waitForTimeout(800);
      const optText = await options.evaluate(() => document.body.innerText);
      assert.ok(optText.includes(words.origins), `options lacks "${words.origins}"`);
      assert.ok(optText.includes("valid.mpnet.test"), "options shows the baked default configuration");
      assert.ok(optText.includes("hostsim agent"), "options offers R12 through hostsim agent");
      await options.screenshot({ path: path.join(out, `options-${lang}.png`), fullPage: true });
    } finally {
      await stack.close();
    }
    // A fresh clone's runs leave nothing behind: the stack's folder
    // (profile, extension, CA, 13-18 MB) is gone with it.
    assert.ok(!existsSync(stack.dir), `${stack.dir} is left behind`);
  });
}
