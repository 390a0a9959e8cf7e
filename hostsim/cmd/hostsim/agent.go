package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mpnet/hostsim/fixtures"
)

// agentCacheTTL is how long a host's R12 report is reused.
const agentCacheTTL = 5 * time.Minute

// agentReport is what GET /v1/cert answers: the facts and the module's verdict.
type agentReport struct {
	Facts   any       `json:"facts"`
	Verdict any       `json:"verdict"`
	At      time.Time `json:"at"`
}

type agentEntry struct {
	done   chan struct{}
	report agentReport
	err    error
}

// agent serves R12 reports to the browser extension, which cannot see
// certificate chains or probe TLS versions itself:
//
//	GET /v1/cert?host=H&port=P -> {"facts": abi.TLSFacts, "verdict": abi.TLSVerdict}
//	GET /v1/version            -> {"abi": 2, "sha256": "..."}
//
// It listens on loopback only and answers only extension origins (CORS).
func (e *env) agent(args []string) error {
	fs, module := e.flags("agent", "agent [--listen 127.0.0.1:7460] [--roots FILE] [--resolve H:P:A]... [--timeout MS]")
	var cf clientFlags
	fs.Var(&cf.resolves, "resolve", "HOST:PORT:ADDR: connect to ADDR for HOST:PORT (repeatable)")
	fs.StringVar(&cf.roots, "roots", "", "PEM file of root certificates to trust instead of the system's")
	listen := fs.String("listen", "127.0.0.1:7460", "loopback address to listen on (port 0 picks one)")
	timeout := fs.Int("timeout", 10000, "timeout of each TLS handshake in ms")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return badInput("agent takes no arguments, got %q", pos)
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return badInput("--listen %q: %v", *listen, err)
	}
	if fixtures.CheckLoopback(host) != nil {
		return badInput("--listen %q is not a loopback address: the agent probes servers for the local browser only", *listen)
	}
	c, err := e.newClient(*module, &cf)
	if err != nil {
		return err
	}
	defer c.close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return badInput("--listen: %v", err)
	}
	var mu sync.Mutex
	cache := map[string]*agentEntry{}
	sem := make(chan struct{}, 4)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/version", func(w http.ResponseWriter, r *http.Request) {
		writeAgentJSON(w, http.StatusOK, map[string]any{"abi": c.m.ABI, "sha256": c.m.SHA256})
	})
	mux.HandleFunc("GET /v1/cert", func(w http.ResponseWriter, r *http.Request) {
		h := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("host")))
		port, perr := strconv.Atoi(r.URL.Query().Get("port"))
		if r.URL.Query().Get("port") == "" {
			port, perr = 443, nil
		}
		if h == "" || strings.ContainsAny(h, " /@?#") || len(h) > 253 || perr != nil || port < 1 || port > 65535 {
			writeAgentJSON(w, http.StatusBadRequest, map[string]string{"error": "want ?host=NAME&port=N"})
			return
		}
		key := net.JoinHostPort(h, strconv.Itoa(port))
		mu.Lock()
		ent := cache[key]
		if ent != nil && ent.err == nil && isClosed(ent.done) && time.Since(ent.report.At) > agentCacheTTL {
			ent = nil
		}
		if ent == nil {
			ent = &agentEntry{done: make(chan struct{})}
			cache[key] = ent
			go func() {
				defer close(ent.done)
				sem <- struct{}{}
				defer func() { <-sem }()
				facts, v, err := c.judgeTLS(e.ctx, h, port, time.Duration(*timeout)*time.Millisecond, nil)
				ent.report, ent.err = agentReport{Facts: facts, Verdict: v, At: time.Now()}, err
			}()
		}
		mu.Unlock()
		select {
		case <-ent.done:
		case <-r.Context().Done():
			return
		}
		if ent.err != nil {
			writeAgentJSON(w, http.StatusInternalServerError, map[string]string{"error": ent.err.Error()})
			return
		}
		writeAgentJSON(w, http.StatusOK, ent.report)
	})
	srv := &http.Server{Handler: agentCORS(mux), ReadHeaderTimeout: 10 * time.Second}
	enc := json.NewEncoder(e.stdout)
	enc.Encode(map[string]string{"url": "http://" + ln.Addr().String()})
	if f, ok := e.stdout.(*os.File); ok {
		f.Sync()
	}
	fmt.Fprintf(e.stderr, "hostsim agent: serving R12 reports on http://%s for the mpnet extension; stop with Ctrl-C\n", ln.Addr())
	ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// agentCORS lets browser extensions (and only them) read the answers.
func agentCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !strings.HasPrefix(origin, "chrome-extension://") && !strings.HasPrefix(origin, "moz-extension://") {
				writeAgentJSON(w, http.StatusForbidden, map[string]string{"error": "only browser extensions may use the agent"})
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Add("Vary", "Origin")
		}
		h.ServeHTTP(w, r)
	})
}

func writeAgentJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
