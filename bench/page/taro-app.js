// A Taro H5 app for the page-load benchmark (bench/lib/pageload.mjs): the
// real @tarojs/taro-h5 runtime and every @tarojs/components element but the
// video players (their hls.js alone is 1.5 MB), bundled by esbuild as a dev
// build (unminified), about 1 MB of JavaScript, as a Taro preview serves it.
// At start it does what an app's first page does: defines the components,
// renders a page of them and makes its first request (Taro.request). The
// entry that imports the components by name and calls start() is written by
// bench/lib/pageload.mjs (named imports, so that esbuild leaves the video
// players out).

import Taro from "@tarojs/taro-h5";

const items = Array.from({ length: 12 }, (_, i) => `
  <taro-view-core class="item">
    <taro-image-core src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" mode="aspectFill"></taro-image-core>
    <taro-text-core>Item ${i + 1}</taro-text-core>
    <taro-button-core size="mini" type="primary">Buy</taro-button-core>
  </taro-view-core>`).join("");

function render() {
  const root = document.getElementById("app");
  root.innerHTML = `
    <taro-view-core class="page">
      <taro-swiper-core indicator-dots autoplay>
        <taro-swiper-item-core><taro-view-core>Banner 1</taro-view-core></taro-swiper-item-core>
        <taro-swiper-item-core><taro-view-core>Banner 2</taro-view-core></taro-swiper-item-core>
      </taro-swiper-core>
      <taro-input-core placeholder="Search"></taro-input-core>
      <taro-scroll-view-core scroll-y>${items}</taro-scroll-view-core>
    </taro-view-core>`;
}

/** start defines the components, makes the app's first request (as a page's onLoad does) and renders the page. */
export function start(defines) {
  for (const define of defines) define();
  const app = { request: null };
  window.__benchApp = app;
  Taro.request({
    url: String(window.FIXTURES.valid).replace(/\/$/, "") + "/json?app",
    success: (r) => { app.request = "success " + r.statusCode; },
    fail: (e) => { app.request = "fail " + e.errMsg; },
  });
  render();
}
