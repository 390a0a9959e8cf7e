// Peer for the storm: @mswjs/interceptors' FetchInterceptor in passthrough
// mode (a 'request' listener that does nothing, so every call goes to the
// network). Bundled into an IIFE and added as an init script to a page
// without the extension.

import { FetchInterceptor } from "@mswjs/interceptors/fetch";

const interceptor = new FetchInterceptor();
interceptor.apply();
interceptor.on("request", () => {});
Object.defineProperty(window, "__benchInterceptor", { value: "msw" });
