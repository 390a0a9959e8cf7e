package store

// migrations are the schema's versions, applied in order by Migrate, each
// statement on its own (D1 prepares one statement at a time and has no
// transactions). Every statement may run twice (IF NOT EXISTS) so that two
// instances migrating at once (two Worker isolates) do no harm. Never edit
// a released version: add one.
//
// There are no transactions anywhere: every write the service makes is one
// statement. A report batch is one INSERT into batches whose trigger adds
// its counts, so a batch is counted entirely or not at all, and its
// primary key (project, key) makes a retry count nothing.
var migrations = [][]string{
	1: {
		`CREATE TABLE IF NOT EXISTS projects (
			appid TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			created_at INTEGER NOT NULL
		)`,
		// project is '' for the operator's tokens. hash is the SHA-256 of
		// the secret part, hex; the secret itself is never stored.
		`CREATE TABLE IF NOT EXISTS tokens (
			id TEXT PRIMARY KEY,
			project TEXT NOT NULL,
			role TEXT NOT NULL,
			name TEXT NOT NULL,
			hash TEXT NOT NULL,
			created_at INTEGER NOT NULL,
			created_by TEXT NOT NULL,
			revoked_at INTEGER,
			last_used INTEGER
		)`,
		`CREATE INDEX IF NOT EXISTS tokens_project ON tokens (project)`,
		`CREATE TABLE IF NOT EXISTS configs (
			project TEXT NOT NULL,
			version INTEGER NOT NULL,
			body TEXT NOT NULL,
			etag TEXT NOT NULL,
			author TEXT NOT NULL,
			at INTEGER NOT NULL,
			message TEXT NOT NULL,
			PRIMARY KEY (project, version)
		)`,
		// One row per report batch: the idempotency record. groups and
		// hours are the batch's counts, aggregated by the service after
		// judging (JSON arrays); the trigger below adds them up.
		`CREATE TABLE IF NOT EXISTS batches (
			project TEXT NOT NULL,
			key TEXT NOT NULL,
			token TEXT NOT NULL,
			who TEXT NOT NULL,
			hash TEXT NOT NULL,
			at INTEGER NOT NULL,
			config_version INTEGER NOT NULL,
			received INTEGER NOT NULL,
			counted INTEGER NOT NULL,
			groups TEXT NOT NULL,
			hours TEXT NOT NULL,
			PRIMARY KEY (project, key)
		)`,
		`CREATE INDEX IF NOT EXISTS batches_at ON batches (at)`,
		`CREATE TABLE IF NOT EXISTS violations (
			project TEXT NOT NULL,
			list TEXT NOT NULL,
			host TEXT NOT NULL,
			rule TEXT NOT NULL,
			api TEXT NOT NULL,
			n INTEGER NOT NULL,
			first_seen INTEGER NOT NULL,
			last_seen INTEGER NOT NULL,
			last_by TEXT NOT NULL,
			PRIMARY KEY (project, list, host, rule)
		)`,
		`CREATE TABLE IF NOT EXISTS violation_reporters (
			project TEXT NOT NULL,
			list TEXT NOT NULL,
			host TEXT NOT NULL,
			rule TEXT NOT NULL,
			who TEXT NOT NULL,
			n INTEGER NOT NULL,
			last_seen INTEGER NOT NULL,
			PRIMARY KEY (project, list, host, rule, who)
		)`,
		`CREATE TABLE IF NOT EXISTS violation_examples (
			project TEXT NOT NULL,
			list TEXT NOT NULL,
			host TEXT NOT NULL,
			rule TEXT NOT NULL,
			url TEXT NOT NULL,
			at INTEGER NOT NULL,
			PRIMARY KEY (project, list, host, rule, url)
		)`,
		`CREATE TABLE IF NOT EXISTS violation_hours (
			project TEXT NOT NULL,
			hour INTEGER NOT NULL,
			rule TEXT NOT NULL,
			n INTEGER NOT NULL,
			PRIMARY KEY (project, hour, rule)
		)`,
		// Requests per token and minute, for the rate limit.
		`CREATE TABLE IF NOT EXISTS rate (
			token TEXT NOT NULL,
			minute INTEGER NOT NULL,
			n INTEGER NOT NULL,
			PRIMARY KEY (token, minute)
		)`,
		// A batch's counts, added in the same statement as the batch row.
		`CREATE TRIGGER IF NOT EXISTS batches_count AFTER INSERT ON batches
		BEGIN
			INSERT INTO violations (project, list, host, rule, api, n, first_seen, last_seen, last_by)
			SELECT NEW.project, json_extract(g.value, '$.l'), json_extract(g.value, '$.h'), json_extract(g.value, '$.r'),
				json_extract(g.value, '$.a'), json_extract(g.value, '$.n'), json_extract(g.value, '$.f'), json_extract(g.value, '$.s'), NEW.who
			FROM json_each(NEW.groups) AS g WHERE true
			ON CONFLICT (project, list, host, rule) DO UPDATE SET
				n = n + excluded.n,
				api = excluded.api,
				first_seen = min(first_seen, excluded.first_seen),
				last_seen = max(last_seen, excluded.last_seen),
				last_by = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_by ELSE last_by END;
			INSERT INTO violation_reporters (project, list, host, rule, who, n, last_seen)
			SELECT NEW.project, json_extract(g.value, '$.l'), json_extract(g.value, '$.h'), json_extract(g.value, '$.r'),
				NEW.who, json_extract(g.value, '$.n'), json_extract(g.value, '$.s')
			FROM json_each(NEW.groups) AS g WHERE true
			ON CONFLICT (project, list, host, rule, who) DO UPDATE SET
				n = n + excluded.n,
				last_seen = max(last_seen, excluded.last_seen);
			INSERT OR IGNORE INTO violation_examples (project, list, host, rule, url, at)
			SELECT NEW.project, json_extract(g.value, '$.l'), json_extract(g.value, '$.h'), json_extract(g.value, '$.r'), u.value, json_extract(g.value, '$.s')
			FROM json_each(NEW.groups) AS g, json_each(g.value, '$.u') AS u
			WHERE (SELECT count(*) FROM violation_examples AS e
				WHERE e.project = NEW.project AND e.list = json_extract(g.value, '$.l')
				AND e.host = json_extract(g.value, '$.h') AND e.rule = json_extract(g.value, '$.r')) < 5;
			INSERT INTO violation_hours (project, hour, rule, n)
			SELECT NEW.project, json_extract(h.value, '$.t'), json_extract(h.value, '$.r'), json_extract(h.value, '$.n')
			FROM json_each(NEW.hours) AS h WHERE true
			ON CONFLICT (project, hour, rule) DO UPDATE SET n = n + excluded.n;
		END`,
	},
}
