//go:build js && wasm && mpnettest

package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// instance names this Go instance, for the tests that prove the glue reuses
// it (service/worker_test.go).
var instance = func() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// testHooks, in a Worker built with -tags mpnettest only (the tests'
// build, never the deployed one), names the instance in an
// X-Mpnet-Test-Instance header and panics on GET /__test/panic: at once,
// or with ?after=d1 once the request has been answered as GET /v1/whoami
// (its D1 queries awaited: the panic comes in a later turn of the event
// loop, while the glue waits for the answer).
func testHooks(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Mpnet-Test-Instance", instance)
		if r.URL.Path == "/__test/panic" {
			if r.URL.Query().Get("after") == "d1" {
				r2 := r.Clone(r.Context())
				r2.URL.Path, r2.URL.RawQuery = "/v1/whoami", ""
				h.ServeHTTP(discard{}, r2)
			}
			panic("a test's panic (GET /__test/panic)")
		}
		h.ServeHTTP(w, r)
	})
}

// discard is a ResponseWriter that drops the response.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
