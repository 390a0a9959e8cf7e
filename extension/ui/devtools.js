// The DevTools page: adds the mpnet panel to every DevTools window.
import { tOr } from "./lib.js";

chrome.devtools.panels.create(tOr("extName", "mpnet"), "icons/icon32.png", "ui/panel.html");
