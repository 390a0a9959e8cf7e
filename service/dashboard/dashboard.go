// Package dashboard is the team service's web page: the release gate, the
// hosts to add, the open violations by rule, a chart of violations over
// time and the configuration's history with diffs, in English and
// Simplified Chinese. Static files, embedded; the page calls the /v1 API
// with a token the user pastes (kept in the tab's sessionStorage).
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var files embed.FS

// Handler serves the page's files. Every answer forbids framing and
// allows scripts, styles and connections to the service itself only.
func Handler() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	fsrv := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}
