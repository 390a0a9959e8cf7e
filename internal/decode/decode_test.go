package decode

import (
	"bytes"
	"encoding/json"
	"testing"

	"mpnet/abi"
)

func TestBytes(t *testing.T) {
	cases := []struct {
		charset string
		in      []byte
		out     string
		invalid int
	}{
		{"gbk", []byte{0xc4, 0xe3, 0xba, 0xc3}, "你好", 0},
		{"shift_jis", []byte{0x82, 0xb1, 0x82, 0xf1}, "こん", 0},
		{"windows-1252", []byte("caf\xe9"), "café", 0},
		// The decoder keeps the BOM (as U+FEFF): the module strips one, as
		// for any body.
		{"utf-16le", []byte{0xff, 0xfe, 0x60, 0x4f}, "\uFEFF你", 0},
		{"gbk", []byte(`{"a":"` + "\xff" + `"}`), "", 1},
		{"gbk", []byte{0xff, 0x80, 0xc4, 0xe3, 0xff}, "", 2}, // 0x80 is the euro sign
		// A U+FFFD the body itself encodes (GB18030 0x84 0x31 0xA4 0x37) is
		// not a failed conversion.
		{"gb18030", []byte{0x84, 0x31, 0xa4, 0x37}, "\uFFFD", 0},
		// gbk is decoded as the standard says: with gb18030's decoder.
		{"gbk", []byte{0x94, 0x39, 0xfc, 0x36}, "😀", 0},
	}
	for _, c := range cases {
		out, invalid := Bytes(c.charset, c.in)
		if invalid != c.invalid || (invalid == 0 && string(out) != c.out) {
			t.Errorf("%s %x: %q, %d invalid; want %q, %d", c.charset, c.in, out, invalid, c.out, c.invalid)
		}
	}
	if _, invalid := Bytes("klingon", []byte("x")); invalid != -1 {
		t.Errorf("an unknown charset: invalid %d, want -1", invalid)
	}
}

// Body sends the second message only when the module asks, with the
// converted bytes and the first answer's charset and source.
func TestBodyExchange(t *testing.T) {
	var sent [][]byte
	module := func(msg []byte) ([]byte, error) {
		sent = append(sent, msg)
		hdr, payload, _ := abi.Unframe(msg)
		var req abi.BodyRequest
		if err := json.Unmarshal(hdr, &req); err != nil {
			t.Fatal(err)
		}
		if req.Decoded == "" {
			h, _ := json.Marshal(abi.BodyResult{Charset: "gbk", Source: "guess", Decode: "gbk"})
			return abi.Frame(h, nil), nil
		}
		if req.Decoded != "gbk" || req.Source != "guess" || req.Invalid != 0 || req.API != "downloadFile" || string(payload) != "你好" {
			t.Errorf("second message: %+v %q", req, payload)
		}
		h, _ := json.Marshal(abi.BodyResult{Charset: "gbk", Converted: true})
		return abi.Frame(h, payload), nil
	}
	hdr, _ := json.Marshal(abi.BodyRequest{API: "downloadFile"})
	out, err := Body(module, abi.Frame(hdr, []byte{0xc4, 0xe3, 0xba, 0xc3}))
	if err != nil || len(sent) != 2 {
		t.Fatalf("%v, %d messages", err, len(sent))
	}
	if _, payload, _ := abi.Unframe(out); !bytes.Equal(payload, []byte("你好")) {
		t.Errorf("answer %q", out)
	}

	sent = nil
	plain := func(msg []byte) ([]byte, error) {
		sent = append(sent, msg)
		h, _ := json.Marshal(abi.BodyResult{Charset: "utf-8"})
		return abi.Frame(h, []byte("x")), nil
	}
	if _, err := Body(plain, abi.Frame(hdr, []byte("x"))); err != nil || len(sent) != 1 {
		t.Errorf("a final first answer: %v, %d messages", err, len(sent))
	}
}
