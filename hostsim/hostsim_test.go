package hostsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"mpnet/abi"
	"mpnet/conformance"
	"mpnet/internal/buildwasm"
)

var (
	testModule *Module
	loadErr    error
	loadOnce   sync.Once
)

// module returns the module built from this tree (or $MPNET_WASM), compiled
// once per test process with the on-disk compilation cache.
func module(t testing.TB) *Module {
	t.Helper()
	loadOnce.Do(func() {
		path, err := buildwasm.Module()
		if err != nil {
			loadErr = err
			return
		}
		testModule, loadErr = Load(context.Background(), path, Options{})
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return testModule
}

func newInstance(t testing.TB) *Instance {
	t.Helper()
	inst, err := module(t).NewInstance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return inst
}

const demoConfig = `{
  "appid": "wx0123456789abcdef",
  "domains": {"request": ["https://api.example.com"], "socket": ["wss://ws.example.com"]},
  "networkTimeout": {"request": 5000}
}`

func configured(t testing.TB, content string) *Instance {
	t.Helper()
	inst := newInstance(t)
	res, err := inst.Configure(context.Background(), abi.ConfigureRequest{Files: []abi.File{{Name: "mpnet.json", Content: content}}})
	if err != nil || !res.OK {
		t.Fatalf("configure: %v %+v", err, res.Errors)
	}
	return inst
}

type wasmHost struct{ i *Instance }

func (h wasmHost) Configure(m []byte) ([]byte, error) {
	return h.i.Raw(context.Background(), "configure", m)
}
func (h wasmHost) Check(m []byte) ([]byte, error) { return h.i.Raw(context.Background(), "check", m) }
func (h wasmHost) Step(m []byte) ([]byte, error)  { return h.i.Raw(context.Background(), "step", m) }
func (h wasmHost) Body(m []byte) ([]byte, error)  { return h.i.BodyRaw(context.Background(), m) }
func (h wasmHost) JudgeTLS(m []byte) ([]byte, error) {
	return h.i.Raw(context.Background(), "judge_tls", m)
}

// TestConformance runs the shared vectors on the built .wasm under wazero.
func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Host { return wasmHost{newInstance(t)} })
}

func TestModuleIdentity(t *testing.T) {
	m := module(t)
	if m.ABI != abi.Version {
		t.Errorf("ABI %d, want %d", m.ABI, abi.Version)
	}
	if len(m.SHA256) != 64 {
		t.Errorf("sha256 %q", m.SHA256)
	}
}

func TestNotConfigured(t *testing.T) {
	inst := newInstance(t)
	_, err := inst.Check(context.Background(), abi.CheckRequest{API: "request", URL: "https://a.com"})
	var me *ModuleError
	if !errors.As(err, &me) || me.Code != "not_configured" {
		t.Fatalf("err = %v, want not_configured", err)
	}
}

// TestBadMessages sends malformed messages to every entry point: each gets
// a bad_message answer naming the problem, and the instance keeps working.
func TestBadMessages(t *testing.T) {
	ctx := context.Background()
	inst := configured(t, demoConfig)
	cases := []struct{ export, msg, want string }{
		{"configure", `{`, "configure:"},
		{"configure", `{"files": 3}`, "configure:"},
		{"configure", `{"files": [], "bogus": true}`, "unknown field"},
		{"check", `not json`, "check:"},
		{"check", `{"api": "fetch", "url": "https://a.com"}`, `unknown api`},
		{"check", `{"api": "request", "url": 5}`, "check:"},
		{"check", `{"api":"request","url":"https://api.example.com"} trailing`, "check:"},
		{"step", `{"type": "open", "at": 0, "id": 1, "api": "request", "url": "https://api.example.com", "extra": 1}`, "unknown field"},
		{"step", `{"type": "explode", "at": 0}`, "unknown event type"},
		{"step", `[]`, "step:"},
		{"body", `ab`, "shorter than its 4-byte length prefix"},
		{"body", "\xff\xff\xff\x00{}", "exceeds the message"},
		{"body", "\x02\x00\x00\x00[]", "body:"},
	}
	for _, c := range cases {
		out, err := inst.Raw(ctx, c.export, []byte(c.msg))
		if err != nil {
			t.Fatalf("%s %q: %v", c.export, c.msg, err)
		}
		if c.export == "body" {
			h, _, err := abi.Unframe(out)
			if err != nil {
				t.Fatalf("body answer not framed: %q", out)
			}
			out = h
		}
		if !strings.Contains(string(out), `"code":"bad_message"`) || !strings.Contains(string(out), c.want) {
			t.Errorf("%s %q: answer %s, want bad_message containing %q", c.export, c.msg, out, c.want)
		}
	}
	d, err := inst.Check(ctx, abi.CheckRequest{API: "request", URL: "https://api.example.com/x"})
	if err != nil || !d.Allowed {
		t.Fatalf("instance broken after bad messages: %v %+v", err, d)
	}
	// A rejected configuration keeps the previous one.
	res, err := inst.Configure(ctx, abi.ConfigureRequest{Files: []abi.File{{Name: "mpnet.json", Content: `{"domains": {"request": "x"}}`}}})
	if err != nil || res.OK || len(res.Errors) == 0 {
		t.Fatalf("bad config accepted: %v %+v", err, res)
	}
	d, _ = inst.Check(ctx, abi.CheckRequest{API: "request", URL: "https://api.example.com/x"})
	if !d.Allowed {
		t.Fatal("a rejected configuration replaced the previous one")
	}
}

// TestTrapReplacesInstance makes the module trap and checks that the host
// reports it, replaces the instance and restores configuration and engine
// state (10 calls in flight, one queued).
func TestTrapReplacesInstance(t *testing.T) {
	ctx := context.Background()
	inst := configured(t, demoConfig)
	// A TLS verdict outlives idleness: it must survive the restart too.
	bad := &abi.TLSVerdict{Host: "api.example.com", Port: 8443, ErrMsg: "request:fail ssl hand shake error"}
	if _, err := inst.Step(ctx, abi.Event{Type: "tls", At: 0, TLS: bad}); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 11; id++ {
		if _, err := inst.Step(ctx, abi.Event{Type: "open", At: 0, ID: id, API: "request", URL: "https://api.example.com/"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := inst.Debug(ctx, 2)
	var trap *TrapError
	if !errors.As(err, &trap) {
		t.Fatalf("err = %v, want a TrapError", err)
	}
	if !strings.Contains(trap.Stderr, "deliberate trap") {
		t.Errorf("trap stderr %q does not carry the panic message", trap.Stderr)
	}
	if inst.Restarts != 1 {
		t.Errorf("Restarts = %d", inst.Restarts)
	}
	st, err := inst.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.InFlight != 10 || st.Queued != 1 {
		t.Fatalf("state after restart: %+v, want 10 in flight and 1 queued", st)
	}
	r, err := inst.Step(ctx, abi.Event{Type: "finish", At: 10, ID: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Actions) != 1 || r.Actions[0].Type != "start" || r.Actions[0].ID != 11 {
		t.Fatalf("after restart, finishing a call should start the queued one: %+v", r.Actions)
	}
	d, err := inst.Check(ctx, abi.CheckRequest{API: "request", URL: "https://evil.example.com/"})
	if err != nil || d.Allowed || d.Rule != "R2" {
		t.Fatalf("configuration lost after restart: %v %+v", err, d)
	}
	r, err = inst.Step(ctx, abi.Event{Type: "open", At: 20, ID: 50, API: "request", URL: "https://api.example.com:8443/x"})
	if err != nil || len(r.Actions) != 1 || r.Actions[0].Type != "block" || r.Actions[0].Rule != "R12" {
		t.Fatalf("TLS verdict lost after restart: %v %+v", err, r.Actions)
	}
}

// TestTrapKeepsR12Knowledge checks that what the engine knows about R12
// beyond verdicts (that a source of verdicts exists, servers none can be had
// for) outlives idleness and a trap, as verdicts do.
func TestTrapKeepsR12Knowledge(t *testing.T) {
	ctx := context.Background()
	inst := configured(t, demoConfig)
	for _, ev := range []abi.Event{{Type: abi.EvTLSSource, At: 0}, {Type: abi.EvTLS, At: 0, Server: "api.example.com:9443"}} {
		if _, err := inst.Step(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := inst.Debug(ctx, 2); err == nil {
		t.Fatal("no trap")
	}
	r, err := inst.Step(ctx, abi.Event{Type: "open", At: 1, ID: 1, API: "request", URL: "https://api.example.com:7443/"})
	if err != nil || len(r.Actions) != 1 || r.Actions[0].Type != "queue" || r.Actions[0].Reason != "tls" || r.Actions[0].Server != "api.example.com:7443" {
		t.Fatalf("the verdict source was lost after the restart: %v %+v", err, r.Actions)
	}
	r, err = inst.Step(ctx, abi.Event{Type: "open", At: 2, ID: 2, API: "request", URL: "https://api.example.com:9443/"})
	if err != nil || len(r.Actions) != 1 || r.Actions[0].Type != "start" {
		t.Fatalf("a server without a verdict was waited for again after the restart: %v %+v", err, r.Actions)
	}
}

// TestModuleRefusesOtherABI checks that a module speaking another ABI
// version, or not an mpnet module at all, is refused with a clear error.
func TestModuleRefusesOtherABI(t *testing.T) {
	ctx := context.Background()
	_, err := LoadBytes(ctx, fakeModule(abi.Version+1), Options{CacheDir: "-"})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("ABI version %d", abi.Version+1)) {
		t.Errorf("ABI %d module: err = %v", abi.Version+1, err)
	}
	_, err = LoadBytes(ctx, []byte("\x00asm\x01\x00\x00\x00"), Options{CacheDir: "-"})
	if err == nil || !strings.Contains(err.Error(), "not an mpnet module") {
		t.Errorf("empty module: err = %v", err)
	}
	_, err = LoadBytes(ctx, []byte("GIF89a"), Options{CacheDir: "-"})
	if err == nil || !strings.Contains(err.Error(), "not a valid WebAssembly module") {
		t.Errorf("garbage: err = %v", err)
	}
	if _, err := Load(ctx, "/nonexistent/mpnet.wasm", Options{}); err == nil || !strings.Contains(err.Error(), "go run ./build") {
		t.Errorf("missing file: err = %v", err)
	}
}

// fakeModule assembles a minimal WebAssembly module with every mpnet export,
// whose mpnet_abi_version returns version.
func fakeModule(version byte) []byte {
	leb := func(n int) []byte {
		var b []byte
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n == 0 {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	sec := func(id byte, body []byte) []byte { return append(append([]byte{id}, leb(len(body))...), body...) }
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	// types: 0 ()->i32, 1 (i32)->i32, 2 (i32)->i64, 3 ()->i64, 4 ()->()
	types := []byte{5,
		0x60, 0, 1, 0x7f,
		0x60, 1, 0x7f, 1, 0x7f,
		0x60, 1, 0x7f, 1, 0x7e,
		0x60, 0, 1, 0x7e,
		0x60, 0, 0}
	names := []string{"mpnet_abi_version", "mpnet_buffer", "mpnet_configure", "mpnet_check", "mpnet_step", "mpnet_body", "mpnet_judge_tls", "mpnet_status", "mpnet_debug", "_initialize"}
	sig := []byte{0, 1, 2, 2, 2, 2, 2, 3, 2, 4}
	funcs := append([]byte{byte(len(sig))}, sig...)
	exp := []byte{byte(len(names) + 1)}
	for i, n := range names {
		exp = append(append(exp, str(n)...), 0, byte(i))
	}
	exp = append(append(exp, str("memory")...), 2, 0)
	bodies := map[byte][]byte{0: {0x41, version}, 1: {0x41, 0}, 2: {0x42, 0}, 3: {0x42, 0}, 4: {}}
	code := []byte{byte(len(sig))}
	for _, s := range sig {
		b := append(append([]byte{0}, bodies[s]...), 0x0b)
		code = append(append(code, byte(len(b))), b...)
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, sec(1, types)...)
	out = append(out, sec(3, funcs)...)
	out = append(out, sec(5, []byte{1, 0, 1})...)
	out = append(out, sec(7, exp)...)
	out = append(out, sec(10, code)...)
	return out
}

// TestConcurrentUse runs instances on many goroutines, and one instance
// shared by several, checking every answer.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	shared := configured(t, demoConfig)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			own := configured(t, demoConfig)
			for i := 0; i < 200; i++ {
				for _, inst := range []*Instance{own, shared} {
					allowed := i%2 == 0
					url := "https://api.example.com/" + fmt.Sprint(i)
					if !allowed {
						url = fmt.Sprintf("https://g%d.example.org/%d", g, i)
					}
					d, err := inst.Check(ctx, abi.CheckRequest{API: "request", URL: url})
					if err != nil {
						errs <- err
						return
					}
					if d.Allowed != allowed || d.URL != url {
						errs <- fmt.Errorf("goroutine %d: %s judged %v", g, url, d.Allowed)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGCStress makes hundreds of thousands of calls into one instance with
// a large live heap (tens of thousands of queued calls) and forced garbage
// collections in between, checking every answer. It guards the module as
// shipped (pre-initialised, with its hand-written codec and memos) against
// heap corruption under wasip1, which goccy/go-json's own suite once hit.
func TestGCStress(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	ctx := context.Background()
	inst := configured(t, demoConfig)
	n := 300000
	if s := os.Getenv("MPNET_STRESS_CALLS"); s != "" {
		fmt.Sscan(s, &n)
	}
	var id int64
	var running, queued []int64
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0, 1:
			id++
			r, err := inst.Step(ctx, abi.Event{Type: "open", At: 0, ID: id, API: "request", URL: fmt.Sprintf("https://api.example.com/item/%d?q=%x", id, i*7919)})
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			want := "start"
			if len(running) >= 10 {
				want = "queue"
				queued = append(queued, id)
			} else {
				running = append(running, id)
			}
			if len(r.Actions) != 1 || r.Actions[0].Type != want || r.Actions[0].ID != id {
				t.Fatalf("call %d: open %d with %d in flight: %+v", i, id, len(running), r.Actions)
			}
		case 2:
			if i%8 == 2 {
				d, err := inst.Check(ctx, abi.CheckRequest{API: "request", URL: fmt.Sprintf("https://h%d.example.org/p", i)})
				if err != nil || d.Allowed || d.Rule != "R2" || d.Host != fmt.Sprintf("h%d.example.org", i) {
					t.Fatalf("call %d: %v %+v", i, err, d)
				}
			} else {
				res, out, err := inst.Body(ctx, abi.BodyRequest{ContentType: "text/plain; charset=gbk"}, []byte{0xc4, 0xe3, 0xba, 0xc3})
				if err != nil || !res.Converted || string(out) != "你好" {
					t.Fatalf("call %d: body %v %+v %q", i, err, res, out)
				}
			}
		case 3:
			// Finish the oldest running call: the head of the queue starts.
			done := running[0]
			running = running[1:]
			r, err := inst.Step(ctx, abi.Event{Type: "finish", At: 0, ID: done})
			if err != nil {
				t.Fatalf("call %d: finish %v", i, err)
			}
			if len(queued) > 0 {
				next := queued[0]
				queued = queued[1:]
				running = append(running, next)
				if len(r.Actions) != 1 || r.Actions[0].Type != "start" || r.Actions[0].ID != next {
					t.Fatalf("call %d: finishing %d should start %d: %+v", i, done, next, r.Actions)
				}
			}
		}
		if i%20000 == 0 {
			if _, err := inst.Debug(ctx, 1); err != nil {
				t.Fatalf("gc at %d: %v", i, err)
			}
		}
	}
	st, err := inst.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.InFlight != len(running) || st.Queued != len(queued) || len(queued) < 50000 {
		t.Fatalf("status %+v, want %d in flight and %d queued (at least 50000)", st, len(running), len(queued))
	}
	if inst.Restarts != 0 {
		t.Fatalf("the module trapped %d times", inst.Restarts)
	}
}

// TestSimFakeClock drives timeouts and background interruption through Sim:
// the ticks the engine asks for are scheduled on the fake clock.
func TestSimFakeClock(t *testing.T) {
	ctx := context.Background()
	inst := configured(t, demoConfig)
	clock := NewFakeClock(0)
	sim := NewSim(inst, clock)
	got := map[int64][]string{}
	var mu sync.Mutex
	record := func(a abi.Action) {
		mu.Lock()
		defer mu.Unlock()
		got[a.ID] = append(got[a.ID], a.Type+":"+a.ErrMsg)
	}
	id1, err := sim.Open(ctx, abi.Event{API: "request", URL: "https://api.example.com/slow", Timeout: 1500}, record)
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := sim.Open(ctx, abi.Event{API: "request", URL: "https://api.example.com/bg", Timeout: 60000}, record)
	clock.Advance(1499)
	if len(got[id1]) != 1 {
		t.Fatalf("call 1 before its deadline: %v", got[id1])
	}
	clock.Advance(1)
	if want := []string{"start:", "fail:request:fail timeout"}; fmt.Sprint(got[id1]) != fmt.Sprint(want) {
		t.Fatalf("call 1: %v, want %v", got[id1], want)
	}
	if err := sim.Event(ctx, abi.Event{Type: "hide"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(4999)
	if len(got[id2]) != 1 {
		t.Fatalf("call 2 interrupted early: %v", got[id2])
	}
	clock.Advance(1)
	if want := []string{"start:", "fail:request:fail interrupted"}; fmt.Sprint(got[id2]) != fmt.Sprint(want) {
		t.Fatalf("call 2: %v, want %v", got[id2], want)
	}
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
}
