// Package decode is a native host's side of R10's conversion: the module
// (policy/body) decides a body's charset and what to report, and asks the
// host to convert bodies in legacy charsets, which it does not link the
// tables for. Here the conversion is golang.org/x/text's; in the browser it
// is TextDecoder's (wasm/loader.js). Both follow the WHATWG Encoding
// Standard.
package decode

import (
	"bytes"
	"encoding/json"
	"fmt"

	"golang.org/x/text/encoding/htmlindex"

	"mpnet/abi"
)

// Bytes converts raw from charset (a WHATWG encoding name) to UTF-8.
// invalid counts the byte sequences that are not valid in that charset
// (0: out is the exact conversion); -1 says there is no decoder for
// charset. A U+FFFD the input itself encodes is not counted: the conversion
// is failed only when encoding the output again does not give the input
// back.
func Bytes(charset string, raw []byte) (out []byte, invalid int) {
	// The standard's gbk decoder is its gb18030 decoder; x/text's GBK
	// decoder refuses GB18030's four-byte sequences (as does the browser
	// loader's Node, whence the same mapping in wasm/loader.js).
	if charset == "gbk" {
		charset = "gb18030"
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, -1
	}
	out, err = enc.NewDecoder().Bytes(raw)
	n := bytes.Count(out, []byte("\uFFFD"))
	if err == nil && n > 0 {
		if back, e := enc.NewEncoder().Bytes(out); e == nil && bytes.Equal(back, raw) {
			n = 0
		}
	}
	if err != nil && n == 0 {
		n = 1
	}
	return out, n
}

// Caller sends one framed mpnet_body message to the module and answers its
// framed answer.
type Caller func(msg []byte) ([]byte, error)

// Body runs R10 on a framed mpnet_body message (abi.BodyRequest header,
// raw body) through call: when the module's answer asks for a conversion
// (BodyResult.Decode), it converts the body and sends the second message
// (BodyRequest.Decoded), whose answer it returns. Any other answer is
// returned as it is.
func Body(call Caller, msg []byte) ([]byte, error) {
	out, err := call(msg)
	if err != nil {
		return nil, err
	}
	head, _, err := abi.Unframe(out)
	if err != nil {
		return out, nil
	}
	var res abi.BodyResult
	if json.Unmarshal(head, &res) != nil || res.Decode == "" {
		return out, nil
	}
	hdr, raw, err := abi.Unframe(msg)
	if err != nil {
		return nil, err
	}
	var req abi.BodyRequest
	if err := json.Unmarshal(hdr, &req); err != nil {
		return nil, fmt.Errorf("mpnet_body: the module asked to convert a body whose header does not parse: %v", err)
	}
	conv, invalid := Bytes(res.Decode, raw)
	if invalid != 0 {
		conv = raw
	}
	req.Decoded, req.Source, req.Invalid = res.Decode, res.Source, invalid
	hdr2, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return call(abi.Frame(hdr2, conv))
}
