package abi

import (
	"encoding/binary"
	"fmt"
)

// Frame joins a JSON header and a raw payload the way mpnet_body expects and
// answers: uint32le(len(header)) | header | payload.
func Frame(header, payload []byte) []byte {
	out := make([]byte, 4+len(header)+len(payload))
	binary.LittleEndian.PutUint32(out, uint32(len(header)))
	copy(out[4:], header)
	copy(out[4+len(header):], payload)
	return out
}

// Unframe splits a framed message into its header and payload.
func Unframe(msg []byte) (header, payload []byte, err error) {
	if len(msg) < 4 {
		return nil, nil, fmt.Errorf("framed message is %d bytes, shorter than its 4-byte length prefix", len(msg))
	}
	n := binary.LittleEndian.Uint32(msg)
	if uint64(n) > uint64(len(msg)-4) {
		return nil, nil, fmt.Errorf("header length %d exceeds the message (%d bytes after the prefix)", n, len(msg)-4)
	}
	return msg[4 : 4+n], msg[4+n:], nil
}
