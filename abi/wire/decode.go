package wire

import (
	"unicode/utf8"

	"mpnet/abi"
	"mpnet/internal/swar"
)

// scanner reads the canonical subset of JSON the fast decoders accept. Any
// method returning false means "not canonical": the caller gives up and the
// message goes to the strict decoders.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() { s.i = skipWS(s.b, s.i) }

// skipWS answers the index of the first byte at or after i that is not
// JSON whitespace (space, tab, newline, carriage return).
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (s *scanner) byte(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// key reads an object key made of plain ASCII characters (no escapes).
func (s *scanner) key() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			k := s.b[start:s.i]
			s.i++
			return k, s.byte(':')
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// str reads a string value; \u escapes, control characters and invalid
// UTF-8 are left to the strict decoders.
func (s *scanner) str() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	start := s.i
	var buf []byte // only when the string has escapes
	ascii := true
	for s.i < len(s.b) {
		for s.i+8 <= len(s.b) && plain(swar.Word(s.b, s.i)) {
			s.i += 8
		}
		if s.i == len(s.b) {
			break
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			seg := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(seg) {
				return "", false
			}
			if buf != nil {
				return string(append(buf, seg...)), true
			}
			if v, ok := common(seg); ok {
				return v, true
			}
			return string(seg), true
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return "", false
			}
			var r byte
			switch s.b[s.i+1] {
			case '"', '\\', '/':
				r = s.b[s.i+1]
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			default:
				return "", false
			}
			seg := s.b[start:s.i]
			if !ascii && !utf8.Valid(seg) {
				return "", false
			}
			buf = append(append(buf, seg...), r)
			s.i += 2
			start, ascii = s.i, true
		case c < 0x20:
			return "", false
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			s.i++
		}
	}
	return "", false
}

// common returns the constant for the values every event repeats (event
// types, APIs, methods), sparing an allocation per field; Go compiles the
// switch on string(b) without converting.
func common(b []byte) (string, bool) {
	switch string(b) {
	case "open":
		return "open", true
	case "finish":
		return "finish", true
	case "response":
		return "response", true
	case "connected":
		return "connected", true
	case "abort":
		return "abort", true
	case "tick":
		return "tick", true
	case "request":
		return "request", true
	case "uploadFile":
		return "uploadFile", true
	case "downloadFile":
		return "downloadFile", true
	case "connectSocket":
		return "connectSocket", true
	case "GET":
		return "GET", true
	case "fetch":
		return "fetch", true
	case "xhr":
		return "xhr", true
	case "websocket":
		return "websocket", true
	case "string":
		return "string", true
	case "formdata":
		return "formdata", true
	case "arraybuffer":
		return "arraybuffer", true
	case "blob":
		return "blob", true
	case "POST":
		return "POST", true
	}
	return "", false
}

// int reads an integer in JSON's grammar (no fraction or exponent).
func (s *scanner) int() (int64, bool) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - digits
	if n == 0 || (n > 1 && s.b[digits] == '0') {
		return 0, false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	if n > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range s.b[digits:s.i] {
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow uint64
	}
	if s.b[start] == '-' {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func (s *scanner) strs() ([]string, bool) {
	if !s.byte('[') {
		return nil, false
	}
	out := []string{}
	if s.byte(']') {
		return out, true
	}
	for {
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if s.byte(']') {
			return out, true
		}
		if !s.byte(',') {
			return nil, false
		}
	}
}

// object walks one top-level object, calling field for each member with a
// bit that must be unique per field name; it fails on duplicates, unknown
// names (field returns 0) and anything after the closing brace.
func (s *scanner) object(field func(key []byte) (bit uint32, ok bool)) bool {
	return s.members(field) && s.end()
}

func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// DecodeEvent decodes msg into ev when msg is canonical (see the package
// comment) and reports whether it did; ev is unspecified when it did not.
// Events carrying "tls" always go to the strict decoder.
func DecodeEvent(msg []byte, ev *abi.Event) bool {
	*ev = abi.Event{}
	s := scanner{b: msg}
	return s.object(func(k []byte) (uint32, bool) {
		var ok bool
		switch string(k) {
		case "type":
			ev.Type, ok = s.str()
			return 1, ok
		case "at":
			ev.At, ok = s.int()
			return 2, ok
		case "id":
			ev.ID, ok = s.int()
			return 4, ok
		case "api":
			ev.API, ok = s.str()
			return 8, ok
		case "url":
			ev.URL, ok = s.str()
			return 16, ok
		case "method":
			ev.Method, ok = s.str()
			return 32, ok
		case "timeout":
			ev.Timeout, ok = s.int()
			return 64, ok
		case "headers":
			ev.Headers, ok = s.strs()
			return 128, ok
		case "status":
			var v int64
			v, ok = s.int()
			ev.Status = int(v)
			return 256, ok && int64(ev.Status) == v
		case "transport":
			ev.Transport, ok = s.str()
			return 512, ok
		case "origin":
			ev.Origin, ok = s.str()
			return 1024, ok
		case "protocols":
			ev.Protocols, ok = s.strs()
			return 2048, ok
		case "accept":
			ev.Accept, ok = s.str()
			return 4096, ok
		case "body":
			ev.Body, ok = s.str()
			return 8192, ok
		case "contentType":
			ev.ContentType, ok = s.str()
			return 16384, ok
		case "responseType":
			ev.ResponseType, ok = s.str()
			return 32768, ok
		case "server":
			ev.Server, ok = s.str()
			return 65536, ok
		}
		return 0, false
	})
}

// DecodeCheckRequest is DecodeEvent for abi.CheckRequest.
func DecodeCheckRequest(msg []byte, r *abi.CheckRequest) bool {
	*r = abi.CheckRequest{}
	s := scanner{b: msg}
	return s.object(func(k []byte) (uint32, bool) {
		var ok bool
		switch string(k) {
		case "api":
			r.API, ok = s.str()
			return 1, ok
		case "url":
			r.URL, ok = s.str()
			return 2, ok
		case "timeout":
			r.Timeout, ok = s.int()
			return 4, ok
		case "headers":
			r.Headers, ok = s.strs()
			return 8, ok
		}
		return 0, false
	})
}

// AppendEvent appends an abi.Event as encoding/json encodes it, for hosts.
// Events with TLS set are not supported (ok false).
func AppendEvent(dst []byte, ev *abi.Event) (out []byte, ok bool) {
	if ev.TLS != nil {
		return dst, false
	}
	o := open(dst)
	o.str("type", ev.Type)
	o.int("at", ev.At)
	o.intOmit("id", ev.ID)
	o.strOmit("api", ev.API)
	o.strOmit("url", ev.URL)
	o.strOmit("method", ev.Method)
	o.intOmit("timeout", ev.Timeout)
	o.strsOmit("headers", ev.Headers)
	o.intOmit("status", int64(ev.Status))
	o.strOmit("transport", ev.Transport)
	o.strOmit("origin", ev.Origin)
	o.strsOmit("protocols", ev.Protocols)
	o.strOmit("accept", ev.Accept)
	o.strOmit("body", ev.Body)
	o.strOmit("contentType", ev.ContentType)
	o.strOmit("responseType", ev.ResponseType)
	o.strOmit("server", ev.Server)
	return o.close(), true
}

func (s *scanner) bool() (bool, bool) {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
		return true, true
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// members walks the members of one object (see object), which need not be
// the whole message; the bit 1<<31 may repeat (a map's distinct keys).
func (s *scanner) members(field func(key []byte) (bit uint32, ok bool)) bool {
	if !s.byte('{') {
		return false
	}
	var seen uint32
	if s.byte('}') {
		return true
	}
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		bit, ok := field(k)
		if !ok || bit == 0 || (seen&bit != 0 && bit != 1<<31) {
			return false
		}
		seen |= bit
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

func (s *scanner) action(a *abi.Action) bool {
	return s.members(func(k []byte) (uint32, bool) {
		var ok bool
		var v int64
		switch string(k) {
		case "type":
			a.Type, ok = s.str()
			return 1 << 0, ok
		case "id":
			a.ID, ok = s.int()
			return 1 << 1, ok
		case "api":
			a.API, ok = s.str()
			return 1 << 2, ok
		case "rule":
			a.Rule, ok = s.str()
			return 1 << 3, ok
		case "errMsg":
			a.ErrMsg, ok = s.str()
			return 1 << 4, ok
		case "reason":
			a.Reason, ok = s.str()
			return 1 << 5, ok
		case "position":
			v, ok = s.int()
			a.Position = int(v)
			return 1 << 6, ok
		case "timeoutMs":
			a.TimeoutMs, ok = s.int()
			return 1 << 7, ok
		case "deadline":
			a.Deadline, ok = s.int()
			return 1 << 8, ok
		case "headers":
			a.Headers = map[string]string{}
			ok = s.members(func(k []byte) (uint32, bool) {
				v, ok := s.str()
				if _, dup := a.Headers[string(k)]; dup {
					return 0, false
				}
				a.Headers[string(k)] = v
				return 1 << 31, ok // any number of distinct names
			})
			return 1 << 9, ok
		case "at":
			a.At, ok = s.int()
			return 1 << 10, ok
		case "message":
			a.Message, ok = s.str()
			return 1 << 11, ok
		case "console":
			a.Console, ok = s.str()
			return 1 << 12, ok
		case "fix":
			a.Fix, ok = s.str()
			return 1 << 13, ok
		case "severity":
			a.Severity, ok = s.str()
			return 1 << 14, ok
		case "list":
			a.List, ok = s.str()
			return 1 << 15, ok
		case "entry":
			a.Entry, ok = s.str()
			return 1 << 16, ok
		case "server":
			a.Server, ok = s.str()
			return 1 << 17, ok
		}
		return 0, false
	})
}

// DecodeStepResult decodes an abi.StepResult (what hosts read back) when
// msg is canonical, like DecodeEvent.
func DecodeStepResult(msg []byte, r *abi.StepResult) bool {
	*r = abi.StepResult{}
	s := scanner{b: msg}
	return s.object(func(k []byte) (uint32, bool) {
		var ok bool
		var v int64
		switch string(k) {
		case "actions":
			if !s.byte('[') {
				return 0, false
			}
			r.Actions = []abi.Action{}
			if s.byte(']') {
				return 1, true
			}
			for {
				r.Actions = append(r.Actions, abi.Action{})
				if !s.action(&r.Actions[len(r.Actions)-1]) {
					return 0, false
				}
				if s.byte(']') {
					return 1, true
				}
				if !s.byte(',') {
					return 0, false
				}
			}
		case "nextWake":
			r.NextWake, ok = s.int()
			return 2, ok
		case "inFlight":
			v, ok = s.int()
			r.InFlight = int(v)
			return 4, ok
		case "queued":
			v, ok = s.int()
			r.Queued = int(v)
			return 8, ok
		case "sockets":
			v, ok = s.int()
			r.Sockets = int(v)
			return 16, ok
		case "hidden":
			r.Hidden, ok = s.bool()
			return 32, ok
		}
		return 0, false
	})
}

// DecodeConfigureRequest decodes an abi.ConfigureRequest made of files
// (the form page runtimes send on every load) when msg is canonical, like
// DecodeEvent; requests carrying a structured "config" go to the strict
// decoder.
func DecodeConfigureRequest(msg []byte, r *abi.ConfigureRequest) bool {
	*r = abi.ConfigureRequest{}
	s := scanner{b: msg}
	return s.object(func(k []byte) (uint32, bool) {
		switch string(k) {
		case "files":
			if !s.byte('[') {
				return 0, false
			}
			r.Files = []abi.File{}
			if s.byte(']') {
				return 1, true
			}
			for {
				var f abi.File
				if !s.members(func(k []byte) (uint32, bool) {
					var ok bool
					switch string(k) {
					case "name":
						f.Name, ok = s.str()
						return 1, ok
					case "content":
						f.Content, ok = s.str()
						return 2, ok
					}
					return 0, false
				}) {
					return 0, false
				}
				r.Files = append(r.Files, f)
				if s.byte(']') {
					return 1, true
				}
				if !s.byte(',') {
					return 0, false
				}
			}
		case "dryRun":
			var ok bool
			r.DryRun, ok = s.bool()
			return 2, ok
		}
		return 0, false
	})
}

// DecodeBodyRequest decodes an abi.BodyRequest (the header of mpnet_body)
// when msg is canonical, like DecodeEvent.
func DecodeBodyRequest(msg []byte, r *abi.BodyRequest) bool {
	*r = abi.BodyRequest{}
	s := scanner{b: msg}
	return s.object(func(k []byte) (uint32, bool) {
		var ok bool
		switch string(k) {
		case "api":
			r.API, ok = s.str()
			return 1, ok
		case "contentType":
			r.ContentType, ok = s.str()
			return 2, ok
		case "url":
			r.URL, ok = s.str()
			return 4, ok
		case "decoded":
			r.Decoded, ok = s.str()
			return 8, ok
		case "source":
			r.Source, ok = s.str()
			return 16, ok
		case "invalid":
			var v int64
			v, ok = s.int()
			r.Invalid = int(v)
			return 32, ok
		}
		return 0, false
	})
}
