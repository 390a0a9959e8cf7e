// Package store is the team service's storage: one schema and one set of
// SQL statements over database/sql, run unchanged on Cloudflare D1 (through
// syumai/workers' driver) and on SQLite natively (see sqlite.go).
//
// What both backends allow decides its shape: no transactions (D1's driver
// has none), one statement per call, at most 100 bound parameters, numbers
// as int64 (times are Unix milliseconds). Every write that must be atomic is
// a single statement; a report batch is one INSERT whose trigger adds its
// counts (schema.go).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
)

// Flag remembers that the schema is up to date. *atomic.Bool is one; the
// Worker keeps it in a JavaScript global, which outlives the Go instance
// each request gets.
type Flag interface {
	Load() bool
	Store(bool)
}

// Store runs the service's statements on one database.
type Store struct {
	db       *sql.DB
	migrated Flag
}

// New returns a Store on db. migrated remembers across Stores (and
// requests) that Migrate has run; nil asks the database every time.
func New(db *sql.DB, migrated Flag) *Store {
	return &Store{db: db, migrated: migrated}
}

// DB returns the underlying database.
func (s *Store) DB() *sql.DB { return s.db }

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Version is the schema version this code needs.
func Version() int { return len(migrations) - 1 }

// Migrate brings the schema to Version, applying what is missing. It is
// safe to run concurrently with itself (see schema.go).
func (s *Store) Migrate(ctx context.Context) error {
	if s.migrated != nil && s.migrated.Load() {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: creating schema_migrations: %w", err)
	}
	var have sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: reading the schema version: %w", err)
	}
	if int(have.Int64) > Version() {
		return fmt.Errorf("store: the database has schema version %d, newer than this service's %d: run a newer build", have.Int64, Version())
	}
	for v := int(have.Int64) + 1; v <= Version(); v++ {
		for i, stmt := range migrations[v] {
			if _, err := s.db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: migration %d, statement %d: %w", v, i+1, err)
			}
		}
		if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO schema_migrations (version, applied_at) VALUES (?, strftime('%s', 'now') * 1000)`, v); err != nil {
			return fmt.Errorf("store: recording migration %d: %w", v, err)
		}
	}
	if s.migrated != nil {
		s.migrated.Store(true)
	}
	return nil
}

// ---------------------------------------------------------------- projects

// Project is a row of projects.
type Project struct {
	AppID     string
	Name      string
	CreatedAt int64
}

// CreateProject adds a project; created is false when it already exists.
func (s *Store) CreateProject(ctx context.Context, p Project) (created bool, err error) {
	return s.insertReturning(ctx, `INSERT INTO projects (appid, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1`,
		p.AppID, p.Name, p.CreatedAt)
}

// Project returns one project.
func (s *Store) Project(ctx context.Context, appid string) (Project, error) {
	var p Project
	err := s.db.QueryRowContext(ctx, `SELECT appid, name, created_at FROM projects WHERE appid = ?`, appid).Scan(&p.AppID, &p.Name, &p.CreatedAt)
	return p, notFound(err)
}

// Projects lists every project by appid.
func (s *Store) Projects(ctx context.Context) ([]Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT appid, name, created_at FROM projects ORDER BY appid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		if err := rows.Scan(&p.AppID, &p.Name, &p.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ------------------------------------------------------------------ tokens

// Token is a row of tokens.
type Token struct {
	ID        string
	Project   string // "" for operator tokens
	Role      string
	Name      string
	Hash      string // hex SHA-256 of the secret
	CreatedAt int64
	CreatedBy string
	RevokedAt int64 // 0 while valid
	LastUsed  int64
}

// CreateToken stores a token.
func (s *Store) CreateToken(ctx context.Context, t Token) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (id, project, role, name, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Project, t.Role, t.Name, t.Hash, t.CreatedAt, t.CreatedBy)
	return err
}

const tokenCols = `id, project, role, name, hash, created_at, created_by, coalesce(revoked_at, 0), coalesce(last_used, 0)`

func scanToken(sc interface{ Scan(...any) error }) (Token, error) {
	var t Token
	err := sc.Scan(&t.ID, &t.Project, &t.Role, &t.Name, &t.Hash, &t.CreatedAt, &t.CreatedBy, &t.RevokedAt, &t.LastUsed)
	return t, err
}

// TokenByID returns a token, revoked or not.
func (s *Store) TokenByID(ctx context.Context, id string) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = ?`, id))
	return t, notFound(err)
}

// Tokens lists a project's tokens ("" for the operator's), oldest first.
func (s *Store) Tokens(ctx context.Context, project string) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE project = ? ORDER BY created_at, id`, project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a project's token; false when there is no such
// valid token.
func (s *Store) RevokeToken(ctx context.Context, project, id string, at int64) (bool, error) {
	return s.insertReturning(ctx, `UPDATE tokens SET revoked_at = ? WHERE project = ? AND id = ? AND revoked_at IS NULL RETURNING 1`, at, project, id)
}

// TouchToken records that a token was used (callers do it rarely).
func (s *Store) TouchToken(ctx context.Context, id string, at int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, at, id)
	return err
}

// CountRequest adds one request to a token's minute and returns the
// minute's count so far.
func (s *Store) CountRequest(ctx context.Context, token string, minute int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `INSERT INTO rate (token, minute, n) VALUES (?, ?, 1)
		ON CONFLICT (token, minute) DO UPDATE SET n = n + 1 RETURNING n`, token, minute).Scan(&n)
	return n, err
}

// Prune deletes rate counts before minute and batch records (the
// idempotency keys) received before batchesBefore; the counts they added
// stay.
func (s *Store) Prune(ctx context.Context, minute, batchesBefore int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM rate WHERE minute < ?`, minute); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM batches WHERE at < ?`, batchesBefore)
	return err
}

// ----------------------------------------------------------------- configs

// Config is a row of configs: one version of a project's mpnet.json.
type Config struct {
	Project string
	Version int
	Body    string
	ETag    string
	Author  string
	At      int64
	Message string
}

const configCols = `project, version, body, etag, author, at, message`

func scanConfig(sc interface{ Scan(...any) error }) (Config, error) {
	var c Config
	err := sc.Scan(&c.Project, &c.Version, &c.Body, &c.ETag, &c.Author, &c.At, &c.Message)
	return c, err
}

// LatestConfig returns a project's newest configuration.
func (s *Store) LatestConfig(ctx context.Context, project string) (Config, error) {
	c, err := scanConfig(s.db.QueryRowContext(ctx, `SELECT `+configCols+` FROM configs WHERE project = ? ORDER BY version DESC LIMIT 1`, project))
	return c, notFound(err)
}

// ConfigAt returns one version.
func (s *Store) ConfigAt(ctx context.Context, project string, version int) (Config, error) {
	c, err := scanConfig(s.db.QueryRowContext(ctx, `SELECT `+configCols+` FROM configs WHERE project = ? AND version = ?`, project, version))
	return c, notFound(err)
}

// Configs returns up to limit versions, newest first, starting below
// before (0: from the newest).
func (s *Store) Configs(ctx context.Context, project string, before, limit int) ([]Config, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+configCols+` FROM configs WHERE project = ? AND version < ? ORDER BY version DESC LIMIT ?`, project, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Config
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PutConfig stores c as a new version; false when that version already
// exists (another writer got there first: a lost update averted).
func (s *Store) PutConfig(ctx context.Context, c Config) (bool, error) {
	return s.insertReturning(ctx, `INSERT INTO configs (`+configCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1`,
		c.Project, c.Version, c.Body, c.ETag, c.Author, c.At, c.Message)
}

// ----------------------------------------------------------------- reports

// Batch is a row of batches: one report batch, with the counts it adds.
type Batch struct {
	Project       string
	Key           string
	Token         string
	Who           string
	Hash          string
	At            int64
	ConfigVersion int
	Received      int
	Counted       int
	// Groups and Hours are JSON arrays (see Group, Hour): what the batch
	// adds to violations, violation_reporters, violation_examples and
	// violation_hours.
	Groups string
	Hours  string
}

// Group is one element of Batch.Groups: the calls of one batch that fail
// for one (list, host, rule). Examples are at most three URLs.
type Group struct {
	List     string   `json:"l"`
	Host     string   `json:"h"`
	Rule     string   `json:"r"`
	API      string   `json:"a"`
	N        int64    `json:"n"`
	First    int64    `json:"f"`
	Last     int64    `json:"s"`
	Examples []string `json:"u"`
}

// Hour is one element of Batch.Hours: calls per hour (Unix ms / 3600000) and rule.
type Hour struct {
	Hour int64  `json:"t"`
	Rule string `json:"r"`
	N    int64  `json:"n"`
}

// InsertBatch stores a batch and adds its counts, in one statement;
// inserted is false when the project already has a batch with this key
// (nothing is counted then).
func (s *Store) InsertBatch(ctx context.Context, b Batch) (inserted bool, err error) {
	return s.insertReturning(ctx, `INSERT INTO batches (project, key, token, who, hash, at, config_version, received, counted, groups, hours)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1`,
		b.Project, b.Key, b.Token, b.Who, b.Hash, b.At, b.ConfigVersion, b.Received, b.Counted, b.Groups, b.Hours)
}

// BatchByKey returns a stored batch (without its groups).
func (s *Store) BatchByKey(ctx context.Context, project, key string) (Batch, error) {
	var b Batch
	err := s.db.QueryRowContext(ctx, `SELECT project, key, token, who, hash, at, config_version, received, counted FROM batches WHERE project = ? AND key = ?`, project, key).
		Scan(&b.Project, &b.Key, &b.Token, &b.Who, &b.Hash, &b.At, &b.ConfigVersion, &b.Received, &b.Counted)
	return b, notFound(err)
}

// Violation is a row of violations, with its reporters and examples.
type Violation struct {
	List, Host, Rule, API string
	N                     int64
	FirstSeen, LastSeen   int64
	LastBy                string
	Reporters             []Reporter
	Examples              []string
}

// Reporter is a row of violation_reporters.
type Reporter struct {
	Who      string
	N        int64
	LastSeen int64
}

type vkey struct{ list, host, rule string }

// Violations returns a project's violations seen at or after since, most
// calls first, with their reporters and examples.
func (s *Store) Violations(ctx context.Context, project string, since int64) ([]Violation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT list, host, rule, api, n, first_seen, last_seen, last_by FROM violations
		WHERE project = ? AND last_seen >= ? ORDER BY n DESC, list, host, rule`, project, since)
	if err != nil {
		return nil, err
	}
	var out []Violation
	index := map[vkey]int{}
	for rows.Next() {
		var v Violation
		if err := rows.Scan(&v.List, &v.Host, &v.Rule, &v.API, &v.N, &v.FirstSeen, &v.LastSeen, &v.LastBy); err != nil {
			rows.Close()
			return nil, err
		}
		index[vkey{v.List, v.Host, v.Rule}] = len(out)
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT list, host, rule, who, n, last_seen FROM violation_reporters WHERE project = ? ORDER BY n DESC, who`, project)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k vkey
		var r Reporter
		if err := rows.Scan(&k.list, &k.host, &k.rule, &r.Who, &r.N, &r.LastSeen); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := index[k]; ok {
			out[i].Reporters = append(out[i].Reporters, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT list, host, rule, url FROM violation_examples WHERE project = ? ORDER BY at DESC, url`, project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k vkey
		var u string
		if err := rows.Scan(&k.list, &k.host, &k.rule, &u); err != nil {
			return nil, err
		}
		if i, ok := index[k]; ok {
			out[i].Examples = append(out[i].Examples, u)
		}
	}
	return out, rows.Err()
}

// TotalCount is the sum of every violation count of a project: what the
// load benchmark compares with what it sent.
func (s *Store) TotalCount(ctx context.Context, project string) (int64, error) {
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT sum(n) FROM violations WHERE project = ?`, project).Scan(&n)
	return n.Int64, err
}

// HourCount is one row of violation_hours.
type HourCount struct {
	Hour int64
	Rule string
	N    int64
}

// Hours returns a project's counts per hour and rule from hour since on.
func (s *Store) Hours(ctx context.Context, project string, since int64) ([]HourCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hour, rule, n FROM violation_hours WHERE project = ? AND hour >= ? ORDER BY hour, rule`, project, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HourCount
	for rows.Next() {
		var h HourCount
		if err := rows.Scan(&h.Hour, &h.Rule, &h.N); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// --------------------------------------------------------------------- util

// insertReturning runs a statement ending in RETURNING 1 and reports
// whether it returned a row: how both backends tell "inserted" from "was
// already there" in one statement (D1's change counts include triggers').
func (s *Store) insertReturning(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// Tables lists the schema's tables, sorted (for tests and the benchmark).
func (s *Store) Tables(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, rows.Err()
}
