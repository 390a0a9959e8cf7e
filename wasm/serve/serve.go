// Package serve turns ABI messages (JSON bytes) into policy calls and back.
// It is everything the WebAssembly module does between its exports and the
// policy core, kept as plain Go so that it can be tested natively and so the
// exports in wasm/ stay a thin shim.
//
// Every entry point returns a JSON answer; failures are answered with
// abi.ErrorResult, never a panic: a panic inside the policy is recovered,
// the engine is replaced by a fresh one with the same configuration, and the
// answer says so (code "internal").
package serve

import (
	"bytes"
	"fmt"
	"hash/maphash"

	"mpnet/abi"
	"mpnet/abi/wire"
	"mpnet/policy"
	"mpnet/policy/body"
	"mpnet/policy/config"
	"mpnet/policy/tlsjudge"
)

// MaxMessage bounds one JSON message (bodies excepted).
const MaxMessage = 8 << 20

// Instance is one simulated mini program: a configuration and an engine.
type Instance struct {
	cfg    *config.Compiled
	judger *policy.Judger
	eng    *policy.Engine
	// out is reused by the hot entry points (Check, Step): their answer is
	// valid until the next call, which is the ABI's contract anyway.
	out []byte
	// answers memoises Check: the same message under the same
	// configuration always gets the same answer (dropped on configure). A
	// direct-mapped table indexed by the message's hash (one hash per call
	// serves both memos; a slot's message is compared before use), as
	// many slots as the Judger's memo: no map to hash into again, nothing
	// to allocate on a miss.
	answers [policy.MemoSize]answer
	// templates holds each origin's encoded answer template, cut at its
	// placeholders (see policy.Judger.Template), dropped on configure.
	templates map[policy.OriginKey]*template
	// seen: hashes of messages answered from a template once, so that the
	// second time their answer is memoised too (a collision only memoises
	// an answer early), direct-mapped like answers.
	seen [policy.MemoSize]uint64
	seed maphash.Seed
	// ev is Step's decoded event, reused (a local escaped to the heap on
	// every call through the strict decoder's interface).
	ev abi.Event
}

// answer is a memoised Check answer, the message it answers and the
// message's hash.
type answer struct {
	h        uint64
	msg, out []byte
}

// slot is the index of hash h in the direct-mapped memos.
func slot(h uint64) uint64 { return h % policy.MemoSize }

// New returns an unconfigured instance.
func New() *Instance { return &Instance{seed: maphash.MakeSeed()} }

func errorJSON(code, format string, a ...any) []byte {
	return wire.AppendErrorResult(nil, &abi.ErrorResult{Error: abi.ErrorInfo{Code: code, Message: fmt.Sprintf(format, a...)}})
}

// strictly runs one of wire's strict decoders (the module does not link
// encoding/json: docs/RATIONALE.md) on a message of bounded size.
func strictly[T any](msg []byte, v *T, dec func([]byte, *T) error) error {
	if len(msg) > MaxMessage {
		return fmt.Errorf("message is %d bytes, at most %d", len(msg), MaxMessage)
	}
	return dec(msg, v)
}

// guard recovers a panic in fn, replaces the engine and answers "internal".
func (s *Instance) guard(what string, fn func() []byte) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			if s.cfg != nil {
				s.eng = policy.NewEngine(s.cfg)
			}
			out = errorJSON("internal", "%s panicked: %v; the engine was reset (calls in flight are forgotten)", what, r)
		}
	}()
	return fn()
}

// Configure handles an abi.ConfigureRequest.
func (s *Instance) Configure(msg []byte) []byte {
	return s.guard("configure", func() []byte {
		var req abi.ConfigureRequest
		if len(msg) > MaxMessage || !wire.DecodeConfigureRequest(msg, &req) {
			if err := strictly(msg, &req, wire.StrictConfigureRequest); err != nil {
				return errorJSON("bad_message", "configure: %v", err)
			}
		}
		var l *config.Loaded
		if req.Config != nil {
			l = &config.Loaded{Config: *req.Config, Where: map[string]config.Source{}, Formats: []string{config.FormatMpnet}}
			if errs := config.CheckStruct(req.Config); len(errs) > 0 {
				return wire.AppendConfigureResult(nil, &abi.ConfigureResult{OK: false, Errors: errs})
			}
		} else {
			var errs []abi.Problem
			l, errs = config.Load(req.Files)
			if len(errs) > 0 {
				return wire.AppendConfigureResult(nil, &abi.ConfigureResult{OK: false, Errors: errs})
			}
		}
		c, probs := config.Compile(l)
		if !req.DryRun {
			s.cfg, s.judger = c, policy.NewJudger(c)
			s.answers, s.templates, s.seen = [policy.MemoSize]answer{}, map[policy.OriginKey]*template{}, [policy.MemoSize]uint64{}
			if s.eng == nil {
				s.eng = policy.NewEngine(c)
			} else {
				s.eng.SetConfig(c)
			}
		}
		cfg := c.Config
		return wire.AppendConfigureResult(nil, &abi.ConfigureResult{OK: true, Problems: probs, Config: &cfg, Formats: l.Formats, Referer: c.Referer})
	})
}

// Check handles an abi.CheckRequest and answers an abi.Decision, valid until
// the next call to Check or Step; it must not be modified.
func (s *Instance) Check(msg []byte) []byte {
	return s.guard("check", func() []byte {
		if s.cfg == nil {
			return errorJSON("not_configured", "check: no configuration loaded (call mpnet_configure first)")
		}
		h := maphash.Bytes(s.seed, msg)
		if a := &s.answers[slot(h)]; a.h == h && a.out != nil && bytes.Equal(a.msg, msg) {
			return a.out
		}
		var req abi.CheckRequest
		if !wire.DecodeCheckRequest(msg, &req) {
			if err := strictly(msg, &req, wire.StrictCheckRequest); err != nil {
				return errorJSON("bad_message", "check: %v", err)
			}
		}
		if t, key, ok := s.judger.Template(req); ok {
			// The origin's answer, encoded once, with the URL spliced in.
			tm, hit := s.templates[key]
			if !hit {
				tm = cut(wire.AppendDecision(nil, &t))
				policy.Remember(s.templates, key, tm)
			}
			s.out = tm.fill(s.out[:0], req.URL)
			if seen := &s.seen[slot(h)]; *seen != h|1 {
				*seen = h | 1 // never 0, the empty slot
				return s.out
			}
			return s.keep(h, msg, s.out)
		}
		d, again, err := s.judger.JudgeAgain(req)
		if err != nil {
			return errorJSON("bad_message", "check: %v", err)
		}
		s.out = wire.AppendDecision(s.out[:0], &d)
		if !again {
			return s.out
		}
		return s.keep(h, msg, s.out)
	})
}

// keep memoises the answer to a message seen for the second time.
func (s *Instance) keep(h uint64, msg, out []byte) []byte {
	s.answers[slot(h)] = answer{h: h, msg: bytes.Clone(msg), out: bytes.Clone(out)}
	return s.answers[slot(h)].out
}

// Step handles an abi.Event and answers an abi.StepResult, valid until the
// next call to Check or Step.
func (s *Instance) Step(msg []byte) []byte {
	return s.guard("step", func() []byte {
		if s.eng == nil {
			return errorJSON("not_configured", "step: no configuration loaded (call mpnet_configure first)")
		}
		ev := &s.ev
		if !wire.DecodeEvent(msg, ev) {
			*ev = abi.Event{}
			if err := strictly(msg, ev, wire.StrictEvent); err != nil {
				return errorJSON("bad_message", "step: %v", err)
			}
		}
		r, err := s.eng.Step(*ev)
		if err != nil {
			return errorJSON("bad_message", "step: %v", err)
		}
		s.out = wire.AppendStepResult(s.out[:0], &r)
		return s.out
	})
}

// JudgeTLS handles abi.TLSFacts and answers an abi.TLSVerdict (R12). It
// needs no configuration.
func (s *Instance) JudgeTLS(msg []byte) []byte {
	return s.guard("judge_tls", func() []byte {
		var f abi.TLSFacts
		if err := strictly(msg, &f, wire.StrictTLSFacts); err != nil {
			return errorJSON("bad_message", "judge_tls: %v", err)
		}
		if f.Host == "" {
			return errorJSON("bad_message", "judge_tls: facts without a host")
		}
		if len(f.Chain) > 64 || len(f.Versions) > 16 {
			return errorJSON("bad_message", "judge_tls: %d certificates and %d version probes, at most 64 and 16", len(f.Chain), len(f.Versions))
		}
		v := tlsjudge.Judge(f)
		return wire.AppendTLSVerdict(nil, &v)
	})
}

// Status answers an abi.Status.
func (s *Instance) Status() []byte {
	return s.guard("status", func() []byte {
		if s.eng == nil {
			return wire.AppendStatus(nil, &abi.Status{ABI: abi.Version})
		}
		st := s.eng.Status()
		return wire.AppendStatus(nil, &st)
	})
}

// Idle reports whether the engine holds no call (see policy.Engine.Idle).
func (s *Instance) Idle() bool { return s.eng == nil || s.eng.Idle() }

// Body handles a framed body message: a little-endian uint32 header length,
// an abi.BodyRequest header, then the raw body. The answer has the same
// framing: abi.BodyResult header, then the body to deliver; or, for a body
// the host must convert (BodyResult.Decode), no body, and the host sends
// the converted body back with BodyRequest.Decoded set.
func (s *Instance) Body(msg []byte) []byte {
	return s.guard("body", func() []byte {
		hdr, raw, err := abi.Unframe(msg)
		if err != nil {
			return abi.Frame(errorJSON("bad_message", "body: %v", err), nil)
		}
		var req abi.BodyRequest
		if !wire.DecodeBodyRequest(hdr, &req) {
			if err := strictly(hdr, &req, wire.StrictBodyRequest); err != nil {
				return abi.Frame(errorJSON("bad_message", "body: %v", err), nil)
			}
		}
		if len(raw) > body.MaxSize {
			return abi.Frame(errorJSON("bad_message", "body: %d bytes, at most %d", len(raw), body.MaxSize), nil)
		}
		if req.Decoded != "" {
			res, out, err := body.Converted(req, raw)
			if err != nil {
				return abi.Frame(errorJSON("bad_message", "body: %v", err), nil)
			}
			return abi.Frame(wire.AppendBodyResult(nil, &res), out)
		}
		res, out := body.Process(req, raw)
		return abi.Frame(wire.AppendBodyResult(nil, &res), out)
	})
}

// markJSON starts a placeholder of a template as encoding/json writes it:
// the NUL of policy.TemplateURL and policy.TemplateRest, escaped.
var markJSON = []byte(`\u0000`)

// template is an origin's encoded answer cut at its placeholders: the
// literal parts around them, and for each placeholder whether it stands for
// the URL (else for the URL without its "scheme://"). Filling it in is
// appending, with no search through the answer per call.
type template struct {
	parts [][]byte // len(url)+1 literal parts
	url   []bool
}

// cut cuts enc, an encoded template answer, at its placeholders: markJSON
// followed by the rest of policy.TemplateURL or policy.TemplateRest. Any
// other markJSON stays literal.
func cut(enc []byte) *template {
	url, tail := policy.TemplateURL[1:], policy.TemplateRest[1:]
	t := &template{}
	var lit []byte
	for {
		i := bytes.Index(enc, markJSON)
		if i < 0 || i+len(markJSON) >= len(enc) {
			t.parts = append(t.parts, append(lit, enc...))
			return t
		}
		lit = append(lit, enc[:i]...)
		j := i + len(markJSON)
		switch {
		case bytes.HasPrefix(enc[j:], []byte(url)):
			t.parts, t.url, lit = append(t.parts, lit), append(t.url, true), nil
			j += len(url)
		case bytes.HasPrefix(enc[j:], []byte(tail)):
			t.parts, t.url, lit = append(t.parts, lit), append(t.url, false), nil
			j += len(tail)
		default:
			lit = append(lit, enc[i:j]...)
		}
		enc = enc[j:]
	}
}

// fill appends the template with its placeholders replaced by raw and by
// raw without its "scheme://" (policy.URLRest), escaped as JSON string
// content. Escaping commutes with the substitution because a placeholder
// always stands between whole characters (tested against encoding the
// filled-in decision).
func (t *template) fill(dst []byte, raw string) []byte {
	dst = append(dst, t.parts[0]...)
	for i, isURL := range t.url {
		if isURL {
			dst = wire.AppendEscaped(dst, raw)
		} else {
			dst = wire.AppendEscaped(dst, policy.URLRest(raw))
		}
		dst = append(dst, t.parts[i+1]...)
	}
	return dst
}

// MemJSON formats the module's memory statistics for mpnet_debug.
func MemJSON(heapAlloc, heapSys uint64, numGC uint32) []byte {
	return []byte(fmt.Sprintf(`{"heapAlloc":%d,"heapSys":%d,"numGC":%d}`, heapAlloc, heapSys, numGC))
}
