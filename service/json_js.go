//go:build js

package service

import (
	"bytes"
	"encoding/json"
)

// In the Worker, encoding/json: goccy/go-json would add 4.5 MB to the
// module (2.2 -> 3.2 MB gzipped, over the Workers free plan's 3 MB), every
// request runs a fresh Go instance (so goccy's per-type codec building,
// which takes over a second for a summary under V8, is paid each time),
// and even warm it encodes 11x slower than encoding/json there.

func marshal(v any) ([]byte, error) { return json.Marshal(v) }

func decodeStrict(b []byte, v any) error { return decodeWith(json.NewDecoder(bytes.NewReader(b)), v) }
