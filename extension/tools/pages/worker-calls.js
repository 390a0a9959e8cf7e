// The commands a test worker runs (shared by the classic, module and
// shared test workers): each makes network calls and answers what it saw.
self.workerCalls = async function (cmd) {
  const settle = (p) => p.then((v) => v, (e) => e.message);
  switch (cmd.op) {
    case "fetch":
      return settle(fetch(cmd.url).then(async (r) => (cmd.json ? r.json() : r.status)));
    case "fetchMany":
      return Promise.all(cmd.urls.map((u) => settle(fetch(u).then((r) => r.text()).then(() => "ok"))));
    case "xhr":
      return new Promise((res) => {
        const x = new XMLHttpRequest();
        x.open("GET", cmd.url);
        x.onload = () => res(`load ${x.status} ${x.responseText.slice(0, 40)}`);
        x.onerror = () => res(`error ${x.mpnetErrMsg}`);
        x.send();
      });
    case "ws":
      return new Promise((res) => {
        const s = new WebSocket(cmd.url);
        s.onopen = () => { res("open"); if (!cmd.keep) s.close(); else (self.sockets = self.sockets || []).push(s); };
        s.onclose = (e) => res(`close ${e.code} ${s.mpnetErrMsg}`);
      });
    case "where":
      return { href: self.location.href, request: new Request("data.json").url, helper: self.helperLoaded || "" };
  }
  return "unknown command";
};
