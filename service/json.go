package service

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"encoding/json"

	"mpnet/service/api"
)

// JSON goes through encoding/json: measured against goccy/go-json on the
// service's own messages (BenchmarkJSON, docs/BENCHMARKS.md), natively
// and in the Worker's wasm; docs/RATIONALE.md says why it stays.

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal", "encoding the answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// fail answers an api.Error.
func fail(w http.ResponseWriter, status int, code, msg string) {
	failWith(w, status, api.ErrorBody{Code: code, Message: msg})
}

func failWith(w http.ResponseWriter, status int, body api.ErrorBody) {
	b, _ := json.Marshal(api.Error{Error: body})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// errTooLarge is readBody's answer to a body over its limit.
var errTooLarge = errors.New("too large")

// readBody reads a request body of at most limit bytes. The limit holds
// before anything is read: a declared Content-Length over it is refused at
// once, and the reader stops at limit+1 bytes otherwise.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if r.ContentLength > limit {
		fail(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is %d bytes; at most %d are accepted", r.ContentLength, limit))
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is over %d bytes", limit))
		} else {
			fail(w, http.StatusBadRequest, "bad_request", "reading the body: "+err.Error())
		}
		return nil, false
	}
	return b, true
}

// decodeStrict reads exactly one JSON value into v: unknown fields and
// anything after the value are errors.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more data after the JSON value")
	}
	return nil
}

// marshal is json.Marshal, for what the service stores.
func marshal(v any) ([]byte, error) { return json.Marshal(v) }
