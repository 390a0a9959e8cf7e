import { openStack } from "./lib/browser.mjs";
import { execSync } from "node:child_process";
const stack = await openStack();
try {
  const p = await stack.context.newPage();
  await p.goto(stack.preview.url);
  await new Promise(r => setTimeout(r, 1500));
  console.log(execSync("ps -eo pid,ppid,args --forest | grep -v grep | grep -E 'chromium|hostsim' | cut -c1-260").toString());
} finally { await stack.close(); }
