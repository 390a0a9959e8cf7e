//go:build !js

package apitest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"mpnet/service"
	"mpnet/service/store"
)

// StartNative runs the service's handler over a fresh SQLite file, as
// mpnet-team does, for the test's lifetime. o's Store is filled in; the
// Target's operator token is the one Bootstrap printed.
func StartNative(t testing.TB, o service.Options) (Target, *store.Store) {
	t.Helper()
	db, err := store.OpenSQLite(filepath.Join(t.TempDir(), "team.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := store.New(db, &atomic.Bool{})
	op, err := service.Bootstrap(context.Background(), st, time.Now().UnixMilli())
	if err != nil || op == "" {
		t.Fatalf("bootstrap: %q %v", op, err)
	}
	o.Store = st
	srv := httptest.NewServer(service.New(o))
	t.Cleanup(srv.Close)
	return Target{URL: srv.URL, Operator: op, RatePerMinute: o.RatePerMinute}, st
}
