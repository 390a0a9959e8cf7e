// A classic dedicated worker: relative importScripts, then the calls.
importScripts("worker-calls.js", "helper.js");
self.onmessage = async (e) => self.postMessage(await self.workerCalls(e.data));
