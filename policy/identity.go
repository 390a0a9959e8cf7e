package policy

import (
	"strings"

	"mpnet/abi"
	"mpnet/policy/config"
	"mpnet/policy/urlhost"
)

// R15, API identity: a call of the preview is judged under the API the mini
// program used, and the dev server's own traffic on the preview origin is
// not a mini-program call at all. The page runtime reports what it can see
// of a call (abi.Event's transport facts); the rules that map those facts
// to an API, or to "tooling", are here.

// Transports a preview page reports (abi.Event.Transport).
const (
	TransportFetch     = "fetch"
	TransportXHR       = "xhr"
	TransportWebSocket = "websocket"
)

// identify returns the API an open event is judged under: the API the host
// named (the app through mpnetApi, or a framework's own API), else the one
// its transport facts show. Taro's and uni-app's H5 runtimes send
// uploadFile as a multipart FormData POST and read downloadFile as a blob
// (XHR responseType "blob"); wx.request can send neither a FormData body
// nor answer a blob, so those facts name the other two APIs. Everything
// else over fetch or XHR is request; a WebSocket is connectSocket.
func identify(ev *abi.Event) string {
	if ev.API != "" {
		return ev.API
	}
	switch ev.Transport {
	case TransportWebSocket:
		return "connectSocket"
	case TransportFetch, TransportXHR:
		if ev.Body == "formdata" || hasPrefixFold(ev.ContentType, "multipart/form-data") {
			return "uploadFile"
		}
		if ev.Transport == TransportXHR && ev.ResponseType == "blob" {
			return "downloadFile"
		}
		return "request"
	}
	return ""
}

func hasPrefixFold(s, prefix string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// tooling says what dev-server traffic an open event is ("" when it is a
// mini-program call). Only calls of a preview page (Origin set) can be
// tooling: the webpack-dev-server client's socket (Taro's webpack runner:
// "/ws", or SockJS under "/ws" or "/sockjs-node"), webpack's hot-update
// manifests, Vite's hot-reload and ping sockets (subprotocols "vite-hmr",
// "vite-ping"; Vite 5's ping was a fetch with Accept "text/x-vite-ping")
// and its "/__open-in-editor" link, all on the preview's own server (the
// page's host and port; loopback names count as one host); and
// the URLs the project's "tooling" patterns name. Anything else on the
// preview origin, the app's own same-origin calls included, is judged.
func (e *Engine) tooling(ev *abi.Event) (what string, pattern bool) {
	if ev.Origin == "" {
		return "", false
	}
	u, ok := config.SplitURL(ev.URL)
	if !ok {
		return "", false
	}
	for i := range e.cfg.Tooling {
		if p := &e.cfg.Tooling[i]; p.Match(u) {
			return "named by the pattern " + quote(p.Raw) + " in \"tooling\" (mpnet.json)", true
		}
	}
	// The signatures first: they look at the call alone, and most calls
	// match none, so the origin is looked at only for the few that do.
	what, anyPort := devServer(ev, u)
	if what == "" {
		return "", false
	}
	o, ok := config.SplitURL(ev.Origin)
	if !ok || (u.Host != o.Host && !(local(o.Host) && local(u.Host))) {
		return "", false
	}
	if !anyPort && (u.Port != o.Port || family(u.Scheme) != family(o.Scheme)) {
		return "", false
	}
	return what, false
}

// local reports whether a host as written names this machine: a dev server
// configured with host 127.0.0.1 points its client at ws://127.0.0.1:PORT
// while the page is open at http://localhost:PORT, the same server.
func local(host string) bool {
	h, err := urlhost.ParseHost(host)
	return err == nil && h.IsLocal()
}

// devServer recognises the dev servers' own traffic by the call alone (see
// tooling, which then requires the page's host, and its port and scheme
// unless anyPort).
func devServer(ev *abi.Event, u config.URLParts) (what string, anyPort bool) {
	if ev.Transport == TransportWebSocket {
		for _, p := range ev.Protocols {
			if p == "vite-hmr" || p == "vite-ping" {
				return "Vite's hot-reload socket (subprotocol " + p + ")", true
			}
		}
	}
	path := u.Path
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	switch {
	case ev.Transport != TransportWebSocket && ev.Accept != "" && strings.Contains(strings.ToLower(ev.Accept), "text/x-vite-ping"):
		return "Vite's ping (Accept: text/x-vite-ping)", false
	case path == "/__open-in-editor":
		return "the dev server's open-in-editor link", false
	case ev.Transport == TransportWebSocket && path == "/ws":
		return "webpack-dev-server's hot-reload socket", false
	case path == "/sockjs-node" || strings.HasPrefix(path, "/sockjs-node/") || sockJS(path):
		return "webpack-dev-server's SockJS transport", false
	case strings.HasSuffix(path, ".hot-update.json") || strings.HasSuffix(path, ".hot-update.js"):
		return "webpack's hot-update manifest", false
	}
	return "", false
}

// sockJS reports whether path is a SockJS request under webpack-dev-server's
// "/ws" prefix: "/ws/info" or "/ws/<server>/<session>/<transport>".
func sockJS(path string) bool {
	rest, ok := strings.CutPrefix(path, "/ws/")
	if !ok {
		return false
	}
	if rest == "info" {
		return true
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || len(parts[0]) != 3 || strings.Trim(parts[0], "0123456789") != "" || parts[1] == "" {
		return false
	}
	switch parts[2] {
	case "websocket", "xhr", "xhr_send", "xhr_streaming", "eventsource", "htmlfile", "jsonp", "jsonp_send":
		return true
	}
	return false
}

// family maps ws to http and wss to https: a socket and a page share an
// origin when their hosts and ports match and their schemes pair.
func family(scheme string) string {
	switch scheme {
	case "ws":
		return "http"
	case "wss":
		return "https"
	}
	return scheme
}

// pass answers an open event that is not a mini-program call (R15).
func (e *Engine) pass(ev *abi.Event, what string, pattern bool) {
	fix := "nothing to fix: the dev server's traffic does not exist in the mini program"
	if pattern {
		fix = "to judge such calls after all, remove the pattern from \"tooling\" in mpnet.json"
	}
	e.emit(abi.Action{Type: abi.ActPass, ID: ev.ID, API: ev.API, Rule: "R15", Severity: "info", At: e.now, Fix: fix,
		Message: "[R15] " + ev.URL + " is " + what + ", not a mini-program call: it passes untouched (no pool slot, no Referer, no R10)"})
}

func quote(s string) string { return "\"" + s + "\"" }
