// A small mini-program-like H5 app: wx.request / wx.connectSocket style
// helpers over fetch, XHR and WebSocket, and scenarios that make good and
// bad calls. window.demo.run(name) runs one and resolves with its outcome.
const F = window.FIXTURES || {};
const api = (path) => (F.valid || "https://valid.mpnet.test/").replace(/\/$/, "") + path;
const port = (name) => new URL(F[name] || "https://x.mpnet.test/").port;
const wss = (path) => (F.wss ? new URL(F.wss).origin : "wss://wss.mpnet.test") + path;

const wx = {
  request({ url, method = "GET", data, header, timeout }) {
    // Like Taro's H5 request: XHR when a timeout is given, fetch otherwise.
    if (timeout) {
      return new Promise((resolve) => {
        const x = new XMLHttpRequest();
        x.open(method, url);
        x.timeout = timeout;
        for (const [k, v] of Object.entries(header || {})) x.setRequestHeader(k, v);
        x.onload = () => resolve({ errMsg: "request:ok", statusCode: x.status, data: x.responseText });
        x.onerror = x.ontimeout = () => resolve({ errMsg: x.mpnetErrMsg || "request:fail", statusCode: 0 });
        x.send(data ? JSON.stringify(data) : null);
      });
    }
    return fetch(url, { method, headers: header, body: data ? JSON.stringify(data) : undefined })
      .then(async (r) => {
        const text = await r.text();
        let body = text;
        try { body = JSON.parse(text); } catch (e) { /* text */ }
        return { errMsg: "request:ok", statusCode: r.status, data: body };
      })
      .catch((e) => ({ errMsg: e.message, statusCode: 0 }));
  },
  connectSocket(url) {
    return new Promise((resolve) => {
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (e) {
        // A socket the client refuses at once fails at once (mpnet throws the client's errMsg).
        resolve({ errMsg: e.errMsg || `connectSocket:fail ${e.message}` });
        return;
      }
      ws.onopen = () => resolve({ errMsg: "connectSocket:ok", ws });
      ws.onclose = (e) => resolve({ errMsg: ws.mpnetErrMsg || `connectSocket:fail close ${e.code}`, ws });
    });
  },
};

const scenarios = {
  "profile (allowed)": () => wx.request({ url: api("/echo"), header: { "X-Token": "t1" } }),
  "referer set by code (R8)": () => wx.request({ url: api("/echo"), header: { Referer: "https://evil.example/" } }),
  "stats host not listed (R2)": () => wx.request({ url: `https://stats.mpnet.test:${port("valid")}/collect` }),
  "plain http (R1)": () => wx.request({ url: `http://valid.mpnet.test:${port("valid")}/` }),
  "localhost mock (R3)": () => wx.request({ url: `https://127.1:${port("valid")}/mock` }),
  "userinfo trick (R5)": () => wx.request({ url: `https://valid.mpnet.test@stats.mpnet.test:${port("valid")}/` }),
  "LAN device (R4)": () => wx.check({ api: "request", url: "https://192.168.1.20/status" }),
  "GBK notice (R10)": () => wx.request({ url: api("/gbk") }),
  "BOM config (R10)": () => wx.request({ url: api("/bom") }),
  "missing page (R11)": () => wx.request({ url: api("/status/404") }),
  "server error (R11)": () => wx.request({ url: (F["5xx"] || "").replace(/\/$/, "") + "/order" }),
  "slow report, 1 s timeout (R6)": () => wx.request({ url: api("/slow?ms=3000"), timeout: 1000 }),
  "expired certificate (R12)": () => wx.request({ url: F.expired || "https://expired.mpnet.test/" }),
  "missing intermediate (R12)": () => wx.request({ url: F["missing-intermediate"] || "https://missing-intermediate.mpnet.test/" }),
  "12 goods at once (R7)": async () => {
    const all = await Promise.all(Array.from({ length: 12 }, (_, i) => wx.request({ url: api(`/slow?ms=300&i=${i}`) })));
    return { errMsg: `${all.filter((r) => r.errMsg === "request:ok").length} of 12 ok`, statusCode: 200 };
  },
  "chat socket (allowed)": async () => {
    const r = await wx.connectSocket(wss("/echo"));
    if (r.ws) r.ws.close();
    return r;
  },
  "6 sockets (R7)": async () => {
    const all = [];
    for (let i = 0; i < 6; i++) all.push(await wx.connectSocket(wss(`/echo?n=${i}`)));
    for (const r of all) if (r.ws) r.ws.close();
    return { errMsg: all.map((r) => r.errMsg).join(" | ") };
  },
  "push socket not listed (R2)": () => wx.connectSocket(`wss://push.mpnet.test:${port("wss")}/live`),
};
wx.check = (req) => (window.mpnet ? window.mpnet.check(req).then((d) => ({ errMsg: d.allowed ? "check:ok" : d.errMsg, decision: d })) : Promise.resolve({ errMsg: "mpnet not loaded" }));

function log(name, r) {
  const li = document.createElement("li");
  li.className = /:ok|of 12 ok/.test(r.errMsg) ? "ok" : "fail";
  li.textContent = `${name}: ${r.errMsg}${r.statusCode ? " (" + r.statusCode + ")" : ""}`;
  document.getElementById("log").append(li);
}

window.demo = {
  scenarios: Object.keys(scenarios),
  async run(name) { const r = await scenarios[name](); log(name, r); const { ws, ...rest } = r; return rest; },
  async runAll() { const out = {}; for (const n of Object.keys(scenarios)) out[n] = await this.run(n); return out; },
  wx,
};

for (const name of Object.keys(scenarios)) {
  const b = document.createElement("button");
  b.textContent = name;
  b.onclick = () => window.demo.run(name);
  document.getElementById("buttons").append(b);
}
document.getElementById("run-all").onclick = () => window.demo.runAll();
