package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"mpnet/abi"
	"mpnet/service/api"
)

// The team service (service/API.md) from the command line: --config takes
// a project's URL, `audit --report` sends the audit's findings there, and
// `gate` asks its release gate. The token comes from $MPNET_TOKEN, never
// from a flag (flags end up in shell histories and CI logs).
//
// hostsim only speaks the service's JSON (service/api holds types only):
// it links neither the service nor policy/.

// TokenEnv names the environment variable holding the service token.
const TokenEnv = "MPNET_TOKEN"

// ServiceEnv names the environment variable holding a project's URL, for
// `audit --report` and `gate` when --config names none.
const ServiceEnv = "MPNET_SERVICE"

// maxTeamAnswer bounds what hostsim reads of any answer of the service.
const maxTeamAnswer = 8 << 20

// isServiceURL reports whether a --config value names the team service.
func isServiceURL(p string) bool {
	return strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "http://")
}

// teamClient talks to one project of the service.
type teamClient struct {
	base    string // e.g. https://team.example.com (any path prefix kept)
	appid   string
	token   string
	http    *http.Client
	backoff func(try int) time.Duration
}

// newTeamClient reads a project URL, https://HOST[/PREFIX]/v1/projects/APPID[/...],
// or the service's base URL (the token's project is asked for), and the
// token from $MPNET_TOKEN.
func newTeamClient(ctx context.Context, raw string) (*teamClient, error) {
	tok := strings.TrimSpace(os.Getenv(TokenEnv))
	if tok == "" {
		return nil, badInput("%s names the team service; set $%s to a project token (member, ci or admin)", raw, TokenEnv)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, badInput("%q is not a team service URL such as https://team.example.com/v1/projects/wx0123456789abcdef", raw)
	}
	if u.User != nil {
		return nil, badInput("put the token in $%s, not in the URL", TokenEnv)
	}
	c := &teamClient{token: tok, http: &http.Client{Timeout: 30 * time.Second},
		backoff: func(try int) time.Duration { return time.Duration(1<<try) * 500 * time.Millisecond }}
	path := strings.TrimRight(u.Path, "/")
	if i := strings.Index(path, "/v1/projects/"); i >= 0 {
		c.base = u.Scheme + "://" + u.Host + path[:i]
		c.appid, _, _ = strings.Cut(path[i+len("/v1/projects/"):], "/")
	} else {
		c.base = u.Scheme + "://" + u.Host + strings.TrimSuffix(path, "/v1")
		var who api.Whoami
		if _, err := c.getJSON(ctx, "/v1/whoami", &who); err != nil {
			return nil, err
		}
		if who.Project == "" {
			return nil, badInput("%s: the token in $%s belongs to no project (an operator token); use a project token or the project's URL", raw, TokenEnv)
		}
		c.appid = who.Project
	}
	if c.appid == "" {
		return nil, badInput("%q names no project: want .../v1/projects/APPID", raw)
	}
	return c, nil
}

// projectURL is the project's URL (for messages).
func (c *teamClient) projectURL() string { return c.base + "/v1/projects/" + c.appid }

// do sends a request, retrying network failures, 429 and 5xx with backoff
// (the same body, so a report keeps its Idempotency-Key), and returns the
// answer's status, headers and body (read up to maxTeamAnswer).
func (c *teamClient) do(ctx context.Context, method, path string, body []byte, header map[string]string) (int, http.Header, []byte, error) {
	var lastErr error
	for try := 0; try < 4; try++ {
		if try > 0 {
			select {
			case <-time.After(c.backoff(try)):
			case <-ctx.Done():
				return 0, nil, nil, ctx.Err()
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("User-Agent", "hostsim (mpnet)")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := c.http.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, maxTeamAnswer+1))
		res.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if len(b) > maxTeamAnswer {
			return 0, nil, nil, fmt.Errorf("%s %s: the answer is over %d bytes", method, path, maxTeamAnswer)
		}
		if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
			lastErr = fmt.Errorf("%s %s: %s", method, path, serviceError(res.StatusCode, b))
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 && s <= 60 && try < 3 {
				select {
				case <-time.After(time.Duration(s) * time.Second):
				case <-ctx.Done():
					return 0, nil, nil, ctx.Err()
				}
			}
			continue
		}
		return res.StatusCode, res.Header, b, nil
	}
	return 0, nil, nil, fmt.Errorf("the team service at %s did not answer: %v", c.base, lastErr)
}

// serviceError renders an error answer: its message, or its status.
func serviceError(status int, body []byte) string {
	var e api.Error
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return fmt.Sprintf("%d %s: %s", status, e.Error.Code, e.Error.Message)
	}
	return fmt.Sprintf("status %d", status)
}

// getJSON GETs path and decodes a 200 answer into v.
func (c *teamClient) getJSON(ctx context.Context, path string, v any) (http.Header, error) {
	status, h, b, err := c.do(ctx, "GET", path, nil, nil)
	if err != nil {
		return nil, badInput("%v", err)
	}
	if status != http.StatusOK {
		return nil, badInput("GET %s%s: %s", c.base, path, serviceError(status, b))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, badInput("GET %s%s: the answer is not the expected JSON: %v", c.base, path, err)
	}
	return h, nil
}

// teamConfig fetches a project's configuration for --config URL. The file
// is named by its URL, so that problems point at it.
func teamConfig(ctx context.Context, raw string) (abi.File, error) {
	c, err := newTeamClient(ctx, raw)
	if err != nil {
		return abi.File{}, err
	}
	status, h, b, err := c.do(ctx, "GET", "/v1/projects/"+c.appid+"/config", nil, nil)
	if err != nil {
		return abi.File{}, badInput("%v", err)
	}
	if status != http.StatusOK {
		return abi.File{}, badInput("getting the configuration of %s: %s", c.projectURL(), serviceError(status, b))
	}
	name := c.projectURL() + "/config"
	if v := h.Get("X-Mpnet-Config-Version"); v != "" {
		name += "@" + v
	}
	return abi.File{Name: name, Content: string(b)}, nil
}

// reportTarget is the project `audit --report` and `gate` talk to: the
// first --config that names the service, else $MPNET_SERVICE.
func reportTarget(configs []string) (string, error) {
	for _, c := range configs {
		if isServiceURL(c) {
			return c, nil
		}
	}
	if s := os.Getenv(ServiceEnv); s != "" {
		return s, nil
	}
	return "", badInput("no team service: give --config https://.../v1/projects/APPID or set $%s", ServiceEnv)
}

// teamReporter collects an audit's findings and sends them as batches.
type teamReporter struct {
	c    *teamClient
	recs []api.Record
}

// reportBatch is how many records one batch carries.
const reportBatch = 500

// add keeps a judged row that the audit found something wrong with.
func (t *teamReporter) add(apiName, rawURL string, at int64) {
	t.recs = append(t.recs, api.Record{API: apiName, URL: rawURL, At: at})
}

// send posts the records in batches. Each batch's Idempotency-Key is the
// hash of its body: a retry, or the same audit reported twice, counts once.
func (t *teamReporter) send(ctx context.Context) (sent, counted, dup int, err error) {
	for i := 0; i < len(t.recs); i += reportBatch {
		body, err := json.Marshal(api.Batch{Source: "hostsim", Records: t.recs[i:min(i+reportBatch, len(t.recs))]})
		if err != nil {
			return sent, counted, dup, err
		}
		sum := sha256.Sum256(append([]byte(t.c.appid+"\n"), body...))
		key := "hostsim-" + hex.EncodeToString(sum[:16])
		status, _, b, err := t.c.do(ctx, "POST", "/v1/projects/"+t.c.appid+"/reports", body, map[string]string{"Idempotency-Key": key})
		if err != nil {
			return sent, counted, dup, err
		}
		if status != http.StatusOK {
			return sent, counted, dup, fmt.Errorf("sending findings to %s: %s", t.c.projectURL(), serviceError(status, b))
		}
		var res api.BatchResult
		if err := json.Unmarshal(b, &res); err != nil {
			return sent, counted, dup, fmt.Errorf("sending findings: the answer is not the expected JSON: %v", err)
		}
		sent += res.Received
		counted += res.Counted
		if res.Duplicate {
			dup += res.Received
		}
	}
	return sent, counted, dup, nil
}

// gate asks a project's release gate: exit 0 when it passes, 1 when it
// fails (the reasons printed), 2 when it cannot be asked.
func (e *env) gate(args []string) error {
	fs, _ := e.flags("gate", "gate [--json] [--since 7d] [PROJECT_URL]")
	asJSON := fs.Bool("json", false, "print the gate's JSON answer")
	since := fs.String("since", "", "count only violations seen since: a duration (24h, 7d), an RFC 3339 time or Unix ms")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return badInput("want at most one project URL, got %d arguments", len(pos))
	}
	target := ""
	if len(pos) == 1 {
		target = pos[0]
	} else if target, err = reportTarget(nil); err != nil {
		return err
	}
	c, err := newTeamClient(e.ctx, target)
	if err != nil {
		return err
	}
	path := "/v1/projects/" + c.appid + "/gate"
	if *since != "" {
		path += "?since=" + url.QueryEscape(*since)
	}
	var g api.Gate
	if _, err := c.getJSON(e.ctx, path, &g); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(g)
	} else if g.Pass {
		fmt.Fprintf(e.stdout, "gate: PASS (%s, configuration version %d)\n", c.projectURL(), g.ConfigVersion)
	} else {
		fmt.Fprintf(e.stdout, "gate: FAIL (%s, configuration version %d)\n", c.projectURL(), g.ConfigVersion)
		for _, r := range g.Reasons {
			fmt.Fprintf(e.stdout, "  %s\n", r.Message)
			if r.Fix != "" {
				fmt.Fprintf(e.stdout, "    fix: %s\n", r.Fix)
			}
		}
	}
	if !g.Pass {
		return &exitError{code: 1}
	}
	return nil
}
