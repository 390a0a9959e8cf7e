// A shared worker: the calls, answered on each connecting port.
importScripts("worker-calls.js");
self.onconnect = (e) => {
  const port = e.ports[0];
  port.onmessage = async (m) => port.postMessage(await self.workerCalls(m.data));
};
