package har

import (
	"bytes"
	"fmt"
	"io"
)

// releaseMin is the least number of released bytes worth compacting (a
// variable for tests).
var releaseMin int64 = 32 << 10

// readChunk is how much the tape asks its reader for at a time. The
// decoder itself reads in whatever room its buffer has left, often a few
// hundred bytes; reading larger chunks here saves system calls.
const readChunk = 64 << 10

// tape sits between the input and the JSON decoder.
//
// It reads the input in large chunks and drops a leading UTF-8 byte-order
// mark.
//
// It drops indentation: spaces and tabs right after a newline. DevTools
// write HAR files indented, and indentation is about half of such a file;
// encoding/json scans every byte twice (once to find the end of an entry,
// once to decode it), so not handing it the indentation nearly halves its
// work. This never changes what the decoder finds: outside strings, white
// space after a newline is insignificant and the newline itself still
// separates tokens; inside a string a raw newline is already an error, at
// the newline, before the dropped bytes.
//
// It keeps the bytes the decoder may still report an error about (those
// from the last release point on), so that a syntax error's byte offset can
// be turned into a line and column. Bytes before the release point are
// discarded after their newlines are counted, which keeps memory
// proportional to the decoder's own buffer (about one entry), not to the
// file. Offsets are offsets in what the decoder sees; position maps them
// back to lines and columns of the input.
type tape struct {
	r          io.Reader
	err        error // from r; handed on once the buffered bytes are used up
	started    bool
	keepIndent bool // for tests: hand the input on unchanged

	in        []byte // the chunk being read
	buf       []byte // buf[0] is at offset base
	fed       int    // buf[:fed] has been handed to the decoder
	mark      int64  // the last release point: the decoder's value began there
	scanner   scanner
	cuts      []cut // strings cut since base, in offset order
	base      int64
	lines     int64 // newlines before base
	lineStart int64 // offset just after the last newline before base

	// indents[i] is how many bytes of indentation (at most maxIndent)
	// were dropped after the i-th newline in buf; baseIndent is that count
	// for the last newline before base. inIndent says the last byte read
	// was a newline or dropped indentation.
	indents    []uint8
	baseIndent int64
	inIndent   bool
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Read implements io.Reader.
func (t *tape) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for t.fed == len(t.buf) {
		if t.err != nil {
			return 0, t.err
		}
		t.fill()
	}
	// The decoder holds a value (an entry) whole while it reads it: hand
	// it no more than maxValue bytes past the last release point.
	room := t.mark + maxValue - (t.base + int64(t.fed))
	if room <= 0 {
		return 0, &limitError{off: t.mark, msg: fmt.Sprintf("a value larger than %s (its long strings cut)", size(int(maxValue)))}
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n := copy(p, t.buf[t.fed:])
	t.fed += n
	return n, nil
}

// fill reads the next chunk of input, drops indentation from it and
// appends it to buf through the scanner (which cuts long strings).
func (t *tape) fill() {
	if cap(t.in) < readChunk {
		t.in = make([]byte, readChunk)
	}
	in := t.in[:cap(t.in)]
	n, err := t.r.Read(in)
	for tries := 1; n == 0 && err == nil; tries++ {
		if tries == 100 {
			err = io.ErrNoProgress
			break
		}
		n, err = t.r.Read(in)
	}
	chunk := in[:n]
	t.err = err
	if !t.started {
		// Look at the first three bytes for a byte-order mark.
		for tries := 0; len(chunk) < len(bom) && t.err == nil; tries++ {
			if tries == 100 {
				t.err = io.ErrNoProgress
				break
			}
			n, t.err = t.r.Read(in[len(chunk):])
			chunk = in[:len(chunk)+n]
		}
		t.started = true
		chunk = bytes.TrimPrefix(chunk, bom)
	}
	if !t.keepIndent {
		chunk = t.dropIndent(chunk)
	}
	t.scan(chunk)
}

// maxIndent is the most indentation dropped after one newline; the rest
// goes to the decoder. It keeps indents to a byte per newline.
const maxIndent = 255

// dropIndent removes indentation from b, in place, recording how much it
// removed after each newline, and returns what is left.
func (t *tape) dropIndent(b []byte) []byte {
	w, r := 0, 0
	for r < len(b) {
		if t.inIndent {
			k := r
			room := maxIndent - t.lastIndent()
			for r < len(b) && r-k < room && (b[r] == ' ' || b[r] == '\t') {
				r++
			}
			t.addIndent(r - k)
			if r == len(b) && r-k < room {
				break // the indentation may go on in the next chunk
			}
			t.inIndent = false
			if r == len(b) {
				break
			}
		}
		j := bytes.IndexByte(b[r:], '\n')
		if j < 0 {
			w += copy(b[w:], b[r:])
			break
		}
		j++ // keep the newline
		if w != r {
			copy(b[w:], b[r:r+j])
		}
		w += j
		r += j
		t.indents = append(t.indents, 0)
		t.inIndent = true
	}
	return b[:w]
}

// lastIndent returns the indentation dropped so far after the last newline.
func (t *tape) lastIndent() int {
	if len(t.indents) > 0 {
		return int(t.indents[len(t.indents)-1])
	}
	return int(t.baseIndent) // that newline has been released
}

// addIndent adds n to the indentation dropped after the last newline.
func (t *tape) addIndent(n int) {
	if len(t.indents) > 0 {
		t.indents[len(t.indents)-1] += uint8(n)
	} else {
		t.baseIndent += int64(n)
	}
}

// end returns the offset just past the last byte read.
func (t *tape) end() int64 { return t.base + int64(len(t.buf)) }

// release tells the tape that no error will be reported about bytes
// before offset off.
func (t *tape) release(off int64) {
	t.mark = max(t.mark, off)
	drop := off - t.base
	if drop < releaseMin || drop < int64(len(t.buf))/2 || drop > int64(t.fed) {
		return // compact rarely, so that copying stays cheap overall
	}
	d := t.buf[:drop]
	if nl := bytes.Count(d, []byte{'\n'}); nl > 0 {
		t.lines += int64(nl)
		t.lineStart = t.base + int64(bytes.LastIndexByte(d, '\n')) + 1
		if !t.keepIndent {
			t.baseIndent = int64(t.indents[nl-1])
			t.indents = t.indents[:copy(t.indents, t.indents[nl:])]
		}
	}
	t.buf = t.buf[:copy(t.buf, t.buf[drop:])]
	t.fed -= int(drop)
	t.base = off
	k := 0
	for k < len(t.cuts) && t.cuts[k].off < off {
		k++
	}
	t.cuts = t.cuts[:copy(t.cuts, t.cuts[k:])]
}

// from returns the retained bytes from offset off on.
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

// position returns the 1-based line and byte column in the input of
// offset off. Offsets before the release point cannot happen in practice;
// they are clamped to it.
func (t *tape) position(off int64) (line, col int64) {
	off = max(t.base, min(off, t.end()))
	d := t.buf[:off-t.base]
	nl := bytes.Count(d, []byte{'\n'})
	line = t.lines + int64(nl) + 1
	start, indent := t.lineStart, t.baseIndent
	if nl > 0 {
		start = t.base + int64(bytes.LastIndexByte(d, '\n')) + 1
		indent = 0
		if !t.keepIndent {
			indent = int64(t.indents[nl-1])
		}
	}
	// Bytes cut from long strings earlier on the same line.
	for _, c := range t.cuts {
		if c.off >= start && c.off+int64(len(cutMarker)) <= off {
			indent += c.dropped - int64(len(cutMarker))
		}
	}
	return line, off - start + indent + 1
}
