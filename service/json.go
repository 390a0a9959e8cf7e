package service

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"mpnet/service/api"
)

// The JSON library is chosen per build by measurement (service/api's
// BenchmarkJSON, docs/BENCHMARKS.md, docs/RATIONALE.md): goccy/go-json
// natively (json_native.go), encoding/json in the Worker (json_js.go).
// Both go through marshal and decodeStrict.

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
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
	b, _ := marshal(api.Error{Error: body})
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

// strictDecoder is the part of a JSON decoder decodeStrict uses; both
// libraries' decoders have it.
type strictDecoder interface {
	Decode(v any) error
	DisallowUnknownFields()
}

// decodeWith reads exactly one JSON value into v: unknown fields and
// anything but white space after the value are errors.
func decodeWith(dec strictDecoder, v any) error {
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra struct{}
	if err := dec.Decode(&extra); err != io.EOF {
		return errors.New("more data after the JSON value")
	}
	return nil
}
