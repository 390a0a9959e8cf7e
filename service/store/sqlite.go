//go:build !js

package store

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	// SQLite natively: github.com/ncruces/go-sqlite3, SQLite translated
	// from its wasm build to Go (no cgo). Chosen over modernc.org/sqlite by
	// measurement (docs/RATIONALE.md, "Team service").
	_ "github.com/ncruces/go-sqlite3/driver"
)

// OpenSQLite opens (creating it if need be) a SQLite database file for the
// native service: WAL journal (readers never wait for the writer), a busy
// timeout instead of "database is locked" errors, and synchronous=NORMAL
// (WAL keeps the database consistent on power loss; a commit may be lost,
// which a client's retry of the same batch makes good).
func OpenSQLite(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("store: want a database file (an in-memory database would be one per connection)")
	}
	dsn := "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path) + "?" + q.Encode()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	// Writes take SQLite's one write lock in turn; a few connections let
	// reads run beside them.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	return db, nil
}
