package hostsim

import (
	"context"
	"sort"
	"sync"
	"time"

	"mpnet/abi"
)

// Clock is the time source of a Sim, in milliseconds.
type Clock interface {
	// Now returns the current time in ms; it never goes backwards.
	Now() int64
	// AfterFunc calls f once, d ms from now, on its own goroutine or (for a
	// FakeClock) inside Advance.
	AfterFunc(d int64, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop cancels the call; it reports whether the call was still pending.
	Stop() bool
}

// RealClock returns a Clock backed by the monotonic wall clock, starting at 0.
func RealClock() Clock { return realClock{start: time.Now()} }

type realClock struct{ start time.Time }

func (c realClock) Now() int64 { return time.Since(c.start).Milliseconds() }
func (c realClock) AfterFunc(d int64, f func()) Timer {
	return time.AfterFunc(time.Duration(d)*time.Millisecond, f)
}

// FakeClock is a Clock for tests: time moves only when Advance is called,
// and due timers run inside Advance, in time order, each seeing its own time.
type FakeClock struct {
	mu     sync.Mutex
	now    int64
	seq    int
	timers []*fakeTimer
}

type fakeTimer struct {
	c    *FakeClock
	at   int64
	seq  int
	f    func()
	done bool
}

// NewFakeClock returns a fake clock reading start.
func NewFakeClock(start int64) *FakeClock { return &FakeClock{now: start} }

// Now implements Clock.
func (c *FakeClock) Now() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements Clock.
func (c *FakeClock) AfterFunc(d int64, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &fakeTimer{c: c, at: c.now + d, seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// Advance moves the clock d ms forward, running every timer that falls due.
func (c *FakeClock) Advance(d int64) {
	c.mu.Lock()
	target := c.now + d
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.Slice(c.timers, func(i, j int) bool {
			if c.timers[i].at != c.timers[j].at {
				return c.timers[i].at < c.timers[j].at
			}
			return c.timers[i].seq < c.timers[j].seq
		})
		var next *fakeTimer
		for len(c.timers) > 0 {
			t := c.timers[0]
			if t.done {
				c.timers = c.timers[1:]
				continue
			}
			if t.at <= target {
				next = t
				t.done = true
				c.timers = c.timers[1:]
				if t.at > c.now {
					c.now = t.at
				}
			}
			break
		}
		if next == nil {
			c.now = target
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		next.f()
	}
}

// Sim drives an Instance like the client's network layer: it stamps events
// with its Clock, hands each action to the call it concerns, and arranges
// the ticks the engine asks for (NextWake), so timeouts and background
// interruption happen on time without the caller polling.
type Sim struct {
	inst  *Instance
	clock Clock

	mu      sync.Mutex
	nextID  int64
	calls   map[int64]func(abi.Action)
	wake    Timer
	wakeAt  int64
	lastErr error

	// OnAction, when set, sees every action (for logs and tests).
	OnAction func(abi.Action)
}

// NewSim returns a Sim over a configured instance.
func NewSim(inst *Instance, clock Clock) *Sim {
	return &Sim{inst: inst, clock: clock, calls: map[int64]func(abi.Action){}}
}

// Instance returns the Sim's instance.
func (s *Sim) Instance() *Instance { return s.inst }

// Open reports a new call and returns its id. on receives every action
// about the call (start, queue, block, fail, report), in order, and is not
// called again after a block or fail.
func (s *Sim) Open(ctx context.Context, ev abi.Event, on func(abi.Action)) (int64, error) {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	if on != nil {
		s.calls[id] = on
	}
	s.mu.Unlock()
	ev.Type, ev.ID = abi.EvOpen, id
	if err := s.Event(ctx, ev); err != nil {
		s.mu.Lock()
		delete(s.calls, id)
		s.mu.Unlock()
		return 0, err
	}
	return id, nil
}

// Event reports an event stamped with the clock's time and dispatches the
// resulting actions.
func (s *Sim) Event(ctx context.Context, ev abi.Event) error {
	s.mu.Lock()
	ev.At = s.clock.Now()
	r, err := s.inst.Step(ctx, ev)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	type delivery struct {
		f func(abi.Action)
		a abi.Action
	}
	var out []delivery
	for _, a := range r.Actions {
		if f := s.calls[a.ID]; f != nil {
			out = append(out, delivery{f, a})
		}
		if a.Type == abi.ActBlock || a.Type == abi.ActFail {
			delete(s.calls, a.ID)
		}
		if s.OnAction != nil {
			s.OnAction(a)
		}
	}
	if ev.Type == abi.EvFinish || ev.Type == abi.EvAbort {
		delete(s.calls, ev.ID)
	}
	s.schedule(ctx, r.NextWake)
	s.mu.Unlock()
	for _, d := range out {
		d.f(d.a)
	}
	return nil
}

// schedule arranges a tick at the engine's NextWake. The caller holds s.mu.
func (s *Sim) schedule(ctx context.Context, at int64) {
	if s.wake != nil && s.wakeAt == at {
		return
	}
	if s.wake != nil {
		s.wake.Stop()
		s.wake = nil
	}
	if at == 0 {
		return
	}
	s.wakeAt = at
	s.wake = s.clock.AfterFunc(at-s.clock.Now(), func() {
		s.mu.Lock()
		s.wake = nil
		s.mu.Unlock()
		if err := s.Event(ctx, abi.Event{Type: abi.EvTick}); err != nil {
			s.mu.Lock()
			s.lastErr = err
			s.mu.Unlock()
		}
	})
}

// Err returns the last error of a tick the Sim sent on its own.
func (s *Sim) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}
