//go:build js

package service

import (
	"bytes"
	"encoding/json"
)

// In the Worker, encoding/json: goccy/go-json would add 4.5 MB to the
// module (2.2 -> 3.2 MB gzipped, over the Workers free plan's 3 MB), and
// its per-type codec building is paid by every new Go instance (its first
// summary encode took 177-315 ms under V8, encoding/json's 4-8 ms); an
// instance now serves many requests, but isolates still start cold.

func marshal(v any) ([]byte, error) { return json.Marshal(v) }

func decodeStrict(b []byte, v any) error { return decodeWith(json.NewDecoder(bytes.NewReader(b)), v) }
