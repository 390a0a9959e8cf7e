package har

import (
	"bytes"
	"io"
)

// releaseMin is the least number of released bytes worth compacting.
const releaseMin = 32 << 10

// readChunk is how much the tape asks its reader for at a time. The
// decoder itself reads in whatever room its buffer has left, often a few
// hundred bytes; reading larger chunks here saves system calls.
const readChunk = 64 << 10

// tape sits between the input and the JSON decoder. It reads the input in
// large chunks, drops a leading UTF-8 byte-order mark, and keeps the bytes
// the decoder may still report an error about (those from the last release
// point on), so that a syntax error's byte offset can be turned into a
// line and column. Bytes before the release point are discarded after
// their newlines are counted, which keeps memory proportional to the
// decoder's own buffer (about one entry), not to the file. Offsets are
// stream offsets after the BOM.
type tape struct {
	r       io.Reader
	err     error // from r; handed on once the buffered bytes are used up
	started bool

	buf       []byte // buf[0] is at stream offset base
	fed       int    // buf[:fed] has been handed to the decoder
	base      int64
	lines     int64 // newlines before base
	lineStart int64 // offset just after the last newline before base
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Read implements io.Reader.
func (t *tape) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if t.fed == len(t.buf) {
		if t.err != nil {
			return 0, t.err
		}
		t.fill()
	}
	n := copy(p, t.buf[t.fed:])
	t.fed += n
	if n == 0 {
		return 0, t.err
	}
	return n, nil
}

// fill reads the next chunk of input into buf.
func (t *tape) fill() {
	if cap(t.buf)-len(t.buf) < readChunk {
		nb := make([]byte, len(t.buf), max(2*cap(t.buf), len(t.buf)+readChunk))
		copy(nb, t.buf)
		t.buf = nb
	}
	n, err := t.r.Read(t.buf[len(t.buf):cap(t.buf)])
	for tries := 1; n == 0 && err == nil; tries++ {
		if tries == 100 {
			err = io.ErrNoProgress
			break
		}
		n, err = t.r.Read(t.buf[len(t.buf):cap(t.buf)])
	}
	t.buf = t.buf[:len(t.buf)+n]
	t.err = err
	if !t.started {
		// Look at the first three bytes for a byte-order mark.
		for len(t.buf) < len(bom) && t.err == nil {
			n, t.err = t.r.Read(t.buf[len(t.buf):cap(t.buf)])
			t.buf = t.buf[:len(t.buf)+n]
		}
		t.started = true
		if bytes.HasPrefix(t.buf, bom) {
			t.buf = t.buf[:copy(t.buf, t.buf[len(bom):])]
		}
	}
}

// end returns the stream offset just past the last byte read.
func (t *tape) end() int64 { return t.base + int64(len(t.buf)) }

// release tells the tape that no error will be reported about bytes
// before stream offset off.
func (t *tape) release(off int64) {
	drop := off - t.base
	if drop < releaseMin || drop < int64(len(t.buf))/2 || drop > int64(t.fed) {
		return // compact rarely, so that copying stays cheap overall
	}
	d := t.buf[:drop]
	t.lines += int64(bytes.Count(d, []byte{'\n'}))
	if i := bytes.LastIndexByte(d, '\n'); i >= 0 {
		t.lineStart = t.base + int64(i) + 1
	}
	t.buf = t.buf[:copy(t.buf, t.buf[drop:])]
	t.fed -= int(drop)
	t.base = off
}

// from returns the retained bytes from stream offset off on.
func (t *tape) from(off int64) []byte {
	i := off - t.base
	if i < 0 || i > int64(len(t.buf)) {
		return nil
	}
	return t.buf[i:]
}

// skipSpace returns the offset of the first non-space byte at or after
// off, or the end of the input read so far.
func (t *tape) skipSpace(off int64) int64 {
	for _, c := range t.from(off) {
		if !isSpace(c) {
			break
		}
		off++
	}
	return off
}

// position returns the 1-based line and byte column of stream offset off.
// Offsets before the release point cannot happen in practice; they are
// clamped to it.
func (t *tape) position(off int64) (line, col int64) {
	off = max(t.base, min(off, t.end()))
	d := t.buf[:off-t.base]
	line = t.lines + int64(bytes.Count(d, []byte{'\n'})) + 1
	start := t.lineStart
	if i := bytes.LastIndexByte(d, '\n'); i >= 0 {
		start = t.base + int64(i) + 1
	}
	return line, off - start + 1
}
