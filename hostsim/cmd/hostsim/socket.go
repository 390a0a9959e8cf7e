package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/websocket"

	"mpnet/abi"
)

// socketOrigin is the Origin hostsim sends on WebSocket handshakes.
const socketOrigin = "https://appservice.wx.com"

// maxSocketLine bounds one line of stdin (one message to send); a variable
// for tests.
var maxSocketLine = 16 << 20

// socketEvent is one line of `hostsim socket --json` output.
type socketEvent struct {
	Socket  int       `json:"socket"`
	Event   string    `json:"event"` // open, message, close, error
	URL     string    `json:"url,omitempty"`
	Data    string    `json:"data,omitempty"`
	Binary  bool      `json:"binary,omitempty"`
	ErrMsg  string    `json:"errMsg,omitempty"`
	Finding []finding `json:"findings,omitempty"`
}

type openSocket struct {
	n  int
	id int64
	ws *websocket.Conn
}

func (e *env) socket(args []string) error {
	fs, module := e.flags("socket", "socket [--config FILE] [--resolve H:P:A] [--roots FILE] [--timeout MS] [--json] wss://HOST/PATH...")
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print events as JSON lines instead of plain text")
	timeout := fs.String("timeout", "", "the connectSocket call's own timeout option in ms")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return badInput("name at least one wss:// URL")
	}
	var ms int64
	if *timeout != "" {
		if ms, err = strconv.ParseInt(*timeout, 10, 64); err != nil {
			return badInput("--timeout %q is not a whole number of milliseconds", *timeout)
		}
	}
	c, err := e.newClient(*module, &cf)
	if err != nil {
		return err
	}
	defer c.close()

	var outMu sync.Mutex
	emit := func(ev socketEvent) {
		outMu.Lock()
		defer outMu.Unlock()
		if *asJSON {
			b, _ := json.Marshal(ev)
			fmt.Fprintln(e.stdout, string(b))
			return
		}
		prefix := ""
		if len(pos) > 1 {
			prefix = fmt.Sprintf("%d> ", ev.Socket)
		}
		switch ev.Event {
		case "message":
			fmt.Fprintln(e.stdout, prefix+safe(ev.Data))
		default:
			line := fmt.Sprintf("%s[%s] %s %s", prefix, ev.Event, safe(ev.URL), safe(ev.ErrMsg))
			fmt.Fprintln(e.stderr, strings.TrimSpace(line))
			for _, f := range ev.Finding {
				fmt.Fprintf(e.stderr, "    %s\n", safe(f.Message))
				if f.Fix != "" {
					fmt.Fprintf(e.stderr, "    fix: %s\n", safe(f.Fix))
				}
			}
		}
	}

	var open []*openSocket
	var wg sync.WaitGroup
	var lastMessage atomic.Int64 // UnixNano of the last frame received
	failed := false
	for i, raw := range pos {
		s, ev := c.openSocket(i+1, raw, ms)
		emit(ev)
		if s == nil {
			failed = true
			continue
		}
		open = append(open, s)
		wg.Add(1)
		go func(s *openSocket) {
			defer wg.Done()
			for {
				var frame []byte
				if err := websocket.Message.Receive(s.ws, &frame); err != nil {
					c.sim.Event(e.ctx, abi.Event{Type: abi.EvFinish, ID: s.id})
					emit(socketEvent{Socket: s.n, Event: "close"})
					return
				}
				lastMessage.Store(time.Now().UnixNano())
				emit(socketEvent{Socket: s.n, Event: "message", Data: string(frame)})
			}
		}(s)
	}
	// Lines from stdin go to every open socket, or to socket N with "N> text".
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, min(64<<10, maxSocketLine)), maxSocketLine)
	for len(open) > 0 && sc.Scan() {
		line := sc.Text()
		targets := open
		if n, rest, ok := strings.Cut(line, "> "); ok {
			if k, err := strconv.Atoi(n); err == nil {
				targets = nil
				for _, s := range open {
					if s.n == k {
						targets = []*openSocket{s}
					}
				}
				line = rest
			}
		}
		for _, s := range targets {
			if err := websocket.Message.Send(s.ws, line); err != nil {
				emit(socketEvent{Socket: s.n, Event: "error", ErrMsg: "sendSocketMessage:fail " + err.Error()})
			}
		}
	}
	// A line too long to send, or a read error, ends the input loudly.
	var inputErr error
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			inputErr = badInput("stdin: a line longer than %s; each line is one message, and the rest of the input was not sent", mib(int64(maxSocketLine)))
		} else {
			inputErr = badInput("reading stdin: %v; the rest of the input was not sent", err)
		}
	}
	// stdin ended: let answers to the last lines arrive (until 500 ms pass
	// without a frame, at most 3 s), then close.
	if len(open) > 0 {
		lastMessage.Store(time.Now().UnixNano())
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) && time.Since(time.Unix(0, lastMessage.Load())) < 500*time.Millisecond {
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, s := range open {
		s.ws.Close()
	}
	wg.Wait()
	if inputErr != nil {
		return inputErr
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// openSocket judges and opens one socket through the module.
func (c *client) openSocket(n int, raw string, timeout int64) (*openSocket, socketEvent) {
	ctx := c.e.ctx
	ev := socketEvent{Socket: n, Event: "error", URL: raw}
	d, err := c.inst.Check(ctx, abi.CheckRequest{API: "connectSocket", URL: raw, Timeout: timeout})
	if err != nil {
		ev.ErrMsg = err.Error()
		return nil, ev
	}
	if !d.Allowed && !d.Proceed {
		ev.ErrMsg = d.ErrMsg
		ev.Finding = append([]finding{{Rule: d.Rule, Severity: "error", Message: d.Message, Fix: d.Fix}}, warningFindings(d.Warnings)...)
		return nil, ev
	}
	u, host, port, err := target(raw, d.Host)
	if err != nil {
		ev.ErrMsg = err.Error()
		return nil, ev
	}
	if u.Scheme == "wss" {
		_, v, err := c.judgeTLS(ctx, host, port, time.Duration(d.TimeoutMs)*time.Millisecond, nil)
		if err != nil {
			ev.ErrMsg = err.Error()
			return nil, ev
		}
		ev.Finding = append(ev.Finding, tlsFindings(v)...)
		if !v.OK {
			ev.ErrMsg = strings.Replace(v.ErrMsg, "request:", "connectSocket:", 1)
			return nil, ev
		}
	}
	actions := make(chan abi.Action, 16)
	id, err := c.sim.Open(ctx, abi.Event{API: "connectSocket", URL: raw, Timeout: timeout}, func(a abi.Action) { actions <- a })
	if err != nil {
		ev.ErrMsg = err.Error()
		return nil, ev
	}
	var start abi.Action
	for start.Type == "" {
		a := <-actions
		switch a.Type {
		case abi.ActReport:
			ev.Finding = append(ev.Finding, actionFinding(a))
		case abi.ActBlock, abi.ActFail:
			ev.ErrMsg = a.ErrMsg
			ev.Finding = append(ev.Finding, actionFinding(a))
			return nil, ev
		case abi.ActStart:
			start = a
		}
	}
	dctx := ctx
	if start.TimeoutMs > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, time.Duration(start.TimeoutMs)*time.Millisecond)
		defer cancel()
	}
	ws, err := c.dialWebSocket(dctx, u.String(), host, port, start.Headers)
	if err != nil {
		c.sim.Event(ctx, abi.Event{Type: abi.EvFinish, ID: id})
		ev.ErrMsg = "connectSocket:fail " + netReason(err)
		if dctx.Err() != nil {
			ev.ErrMsg = "connectSocket:fail timeout"
		}
		return nil, ev
	}
	c.sim.Event(ctx, abi.Event{Type: abi.EvConnected, ID: id})
	ev.Event = "open"
	return &openSocket{n: n, id: id, ws: ws}, ev
}

// dialWebSocket makes the TCP, TLS and WebSocket handshakes, forcing headers.
func (c *client) dialWebSocket(ctx context.Context, rawURL, host string, port int, headers map[string]string) (*websocket.Conn, error) {
	cfg, err := websocket.NewConfig(rawURL, socketOrigin)
	if err != nil {
		return nil, err
	}
	for k, v := range headers {
		cfg.Header.Set(k, v)
	}
	conn, err := c.dial(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	if cfg.Location.Scheme == "wss" {
		tc := tls.Client(conn, c.tlsConfig(host))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	ws, err := websocket.NewClient(cfg, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ws, nil
}
