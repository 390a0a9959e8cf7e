// A module dedicated worker: a relative static import, then the calls.
import "./worker-calls.js";
self.helperLoaded = import.meta.url;
self.onmessage = async (e) => self.postMessage(await self.workerCalls(e.data));
