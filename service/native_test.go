//go:build !js

package service_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"mpnet/service"
	"mpnet/service/apitest"
	"mpnet/service/store"
)

// logBuf collects the service's request log.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// startNative runs the handler over a fresh SQLite file, as mpnet-team
// does, logging into a buffer.
func startNative(t *testing.T, rate int) (apitest.Target, *logBuf, *store.Store) {
	t.Helper()
	logs := &logBuf{}
	tg, st := apitest.StartNative(t, service.Options{RatePerMinute: rate, Log: logs.add})
	if again, err := service.Bootstrap(context.Background(), st, time.Now().UnixMilli()); err != nil || again != "" {
		t.Fatalf("a second bootstrap made another operator token: %q %v", again, err)
	}
	return tg, logs, st
}

// TestNative runs the HTTP suite against the native build; the Worker
// runs the same suite (service/worker).
func TestNative(t *testing.T) {
	tg, logs, _ := startNative(t, 100)
	apitest.Run(t, tg)
	// No secret reaches the log: not the operator's token, nor any part of it.
	out := logs.String()
	_, secret, _ := strings.Cut(strings.TrimPrefix(tg.Operator, "mpnet_"), "_")
	if strings.Contains(out, secret) || strings.Contains(out, "Bearer") {
		t.Errorf("the log shows a secret:\n%s", out)
	}
	if !strings.Contains(out, "POST /v1/projects 201") {
		t.Errorf("the log misses requests:\n%.2000s", out)
	}
}
