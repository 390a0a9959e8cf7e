//go:build js && wasm && !mpnettest

package main

import "net/http"

// testHooks is the identity outside test builds (testhooks.go).
func testHooks(h http.Handler) http.Handler { return h }
