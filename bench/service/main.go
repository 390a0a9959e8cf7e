// Command service is the team service's load and fault benchmark (not a
// test): N concurrent reporters each send M batches of R records to the
// native server (dist/mpnet-team) and to the built Worker in workerd with
// a local D1 (service/worker/local.mjs), and it prints throughput and
// latency, then proves that nothing was lost or counted twice: the counts
// in the database equal what was sent, after retries through injected
// failures (connections killed mid-request, the server killed and
// restarted).
//
//	go run ./build service && go run ./bench/service [--target native,worker,worker=DIR] [--reporters 8] [--batches 40] [--records 50] [--faults]
//
// It talks to loopback only and stops by itself (bounded counts, a
// deadline). Results: docs/BENCHMARKS.md, "Team service".
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mpnet/internal/buildwasm"
	"mpnet/internal/buildworker"
	"mpnet/service/api"
)

const appid = "wx0123456789abcdef"

var (
	targets   = flag.String("target", "native,worker", "targets: native, worker, worker=DIR (a Worker built into DIR) (comma-separated)")
	reporters = flag.Int("reporters", 8, "concurrent reporters (one token each)")
	batches   = flag.Int("batches", 40, "batches per reporter")
	records   = flag.Int("records", 50, "records per batch (3 in 4 fail: counted)")
	faults    = flag.Bool("faults", true, "kill some connections mid-request and kill and restart the server once")
	killRate  = flag.Float64("kill", 0.05, "share of requests whose connection is killed mid-request (with --faults)")
	dist      = flag.String("dist", "dist", "the build's output directory")
	deadline  = flag.Duration("deadline", 10*time.Minute, "give up after this long")
)

func main() {
	flag.Parse()
	root := buildwasm.Root()
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	fmt.Printf("| target | reporters x batches x records | faults | wall | batches/s | records/s | p50 | p99 | attempts (killed, refused) | restarts | counted in DB | sent to count | duplicates answered | result |\n")
	fmt.Printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	failed := false
	for _, t := range strings.Split(*targets, ",") {
		var srv server
		switch strings.TrimSpace(t) {
		case "native":
			srv = &native{exe: filepath.Join(root, *dist, "mpnet-team")}
		case "worker":
			srv = &worker{dir: filepath.Join(root, *dist, "worker")}
		default:
			// worker=DIR: another build of the Worker (an A/B against an
			// older commit's, built into DIR).
			if dir, ok := strings.CutPrefix(strings.TrimSpace(t), "worker="); ok && dir != "" {
				srv = &worker{dir: dir}
				break
			}
			fmt.Fprintf(os.Stderr, "unknown target %q\n", t)
			os.Exit(2)
		}
		r, err := bench(ctx, t, srv)
		srv.stop(true)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", t, err)
			os.Exit(1)
		}
		fmt.Println(r.row())
		failed = failed || !r.ok()
	}
	if failed {
		os.Exit(1)
	}
}

// server is a target the benchmark starts, kills and restarts.
type server interface {
	start(ctx context.Context) error
	stop(kill bool)
	url() string
	operator() string
}

// ----------------------------------------------------------------- native

type native struct {
	exe, db, addr, op string
	cmd               *exec.Cmd
}

func (n *native) start(ctx context.Context) error {
	if n.db == "" {
		dir, err := os.MkdirTemp("", "mpnet-bench-")
		if err != nil {
			return err
		}
		n.db, n.addr = filepath.Join(dir, "team.db"), "127.0.0.1:0"
	}
	cmd := exec.CommandContext(ctx, n.exe, "serve", "--db", n.db, "--listen", n.addr, "--json", "--quiet", "--rate", "1000000")
	line, err := startLine(cmd)
	if err != nil {
		return err
	}
	var doc struct {
		URL      string `json:"url"`
		Operator string `json:"operatorToken"`
	}
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		return err
	}
	n.cmd, n.addr = cmd, strings.TrimPrefix(doc.URL, "http://")
	if doc.Operator != "" {
		n.op = doc.Operator
	}
	return nil
}

func (n *native) stop(kill bool) { stopCmd(n.cmd, kill); n.cmd = nil }
func (n *native) url() string    { return "http://" + n.addr }
func (n *native) operator() string {
	return n.op
}

// ----------------------------------------------------------------- worker

type worker struct {
	dir, persist, port, op string
	l                      *buildworker.Local
}

func (w *worker) start(ctx context.Context) error {
	if w.persist == "" {
		dir, err := os.MkdirTemp("", "mpnet-bench-d1-")
		if err != nil {
			return err
		}
		w.persist, w.port = dir, "0"
		w.op = "op-" + hex.EncodeToString(randBytes(16))
	}
	l, err := buildworker.StartLocal(w.dir, "--persist", w.persist, "--port", w.port, "--operator", w.op, "--rate", "1000000")
	if err != nil {
		return err
	}
	_, w.port, _ = net.SplitHostPort(strings.TrimPrefix(l.URL, "http://"))
	w.l = l
	return nil
}

func (w *worker) stop(kill bool)   { w.l.Stop(kill); w.l = nil }
func (w *worker) url() string      { return "http://127.0.0.1:" + w.port }
func (w *worker) operator() string { return w.op }

// startLine starts cmd and returns the first line it prints.
func startLine(cmd *exec.Cmd) (string, error) {
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children (workerd) die with it
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	stdin, _ := cmd.StdinPipe()
	_ = stdin // kept open: local.mjs stops when its stdin ends
	if err := cmd.Start(); err != nil {
		return "", err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
	}()
	select {
	case l, ok := <-lines:
		if !ok {
			return "", fmt.Errorf("%s printed nothing", cmd.Path)
		}
		return l, nil
	case <-time.After(90 * time.Second):
		return "", fmt.Errorf("%s did not start", cmd.Path)
	}
}

// stopCmd kills the process group: SIGKILL (a crash) or SIGTERM.
func stopCmd(cmd *exec.Cmd, kill bool) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-cmd.Process.Pid, sig)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// ------------------------------------------------------------------ bench

type result struct {
	target                        string
	wall                          time.Duration
	lat                           []time.Duration
	attempts, killed, refused     int64
	restarts                      int
	counted, expected, duplicates int64
}

func (r *result) ok() bool { return r.counted == r.expected }

func (r *result) row() string {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	q := func(p float64) string {
		if len(r.lat) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f ms", float64(r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))].Microseconds())/1000)
	}
	nb := *reporters * *batches
	verdict := "**equal**"
	if !r.ok() {
		verdict = "**MISMATCH**"
	}
	f := "none"
	if *faults {
		f = fmt.Sprintf("%.0f%% killed, 1 crash", *killRate*100)
	}
	return fmt.Sprintf("| %s | %d x %d x %d | %s | %.1f s | %.0f | %.0f | %s | %s | %d (%d, %d) | %d | %d | %d | %d | %s |",
		r.target, *reporters, *batches, *records, f, r.wall.Seconds(), float64(nb)/r.wall.Seconds(), float64(nb**records)/r.wall.Seconds(),
		q(0.50), q(0.99), r.attempts, r.killed, r.refused, r.restarts, r.counted, r.expected, r.duplicates, verdict)
}

func bench(ctx context.Context, name string, srv server) (*result, error) {
	if err := srv.start(ctx); err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 60 * time.Second}
	op := srv.operator()
	call := func(method, path, token string, body []byte, h ...string) (int, []byte, error) {
		req, _ := http.NewRequestWithContext(ctx, method, srv.url()+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
		return res.StatusCode, b, err
	}
	status, b, err := call("POST", "/v1/projects", op, mustJSON(api.NewProject{AppID: appid}))
	if err != nil || status != 201 {
		return nil, fmt.Errorf("create project: %d %s %v", status, b, err)
	}
	var p api.Project
	json.Unmarshal(b, &p)
	admin := p.Token.Secret
	cfg := fmt.Sprintf(`{"appid": %q, "domains": {"request": ["https://api.example.com"]}}`, appid)
	if status, b, err = call("PUT", "/v1/projects/"+appid+"/config", admin, []byte(cfg)); err != nil || status != 201 {
		return nil, fmt.Errorf("put config: %d %s %v", status, b, err)
	}
	tokens := make([]string, *reporters)
	for i := range tokens {
		status, b, err = call("POST", "/v1/projects/"+appid+"/tokens", admin, mustJSON(api.NewToken{Name: fmt.Sprintf("reporter-%d", i), Role: api.RoleMember}))
		if err != nil || status != 201 {
			return nil, fmt.Errorf("create token: %d %s %v", status, b, err)
		}
		var t api.Token
		json.Unmarshal(b, &t)
		tokens[i] = t.Secret
	}

	r := &result{target: name}
	var mu sync.Mutex
	base := srv.url() // restarts keep the port
	var sent atomic.Int64
	total := int64(*reporters * *batches)
	crashAt := total / 2
	crashed := make(chan struct{})
	var crashOnce sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, *reporters)
	start := time.Now()
	for i := 0; i < *reporters; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(i), 7))
			for j := 0; j < *batches; j++ {
				body, fail := batch(i, j)
				key := fmt.Sprintf("r%d-b%d-%s", i, j, hex.EncodeToString(randBytes(6)))
				lat, dup, attempts, killed, refused, err := send(ctx, c, base, tokens[i], key, body, rng)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				r.lat = append(r.lat, lat)
				r.attempts += attempts
				r.killed += killed
				r.refused += refused
				r.expected += fail
				if dup {
					r.duplicates++
				}
				mu.Unlock()
				if n := sent.Add(1); *faults && n == crashAt {
					crashOnce.Do(func() {
						go func() {
							// A crash: SIGKILL, in the middle of other reporters'
							// requests, which fail and are retried meanwhile.
							srv.stop(true)
							time.Sleep(300 * time.Millisecond)
							err := srv.start(ctx)
							if err != nil {
								errs <- fmt.Errorf("restart: %w", err)
							}
							mu.Lock()
							r.restarts++
							mu.Unlock()
							close(crashed)
						}()
					})
				}
			}
		}(i)
	}
	wg.Wait()
	r.wall = time.Since(start)
	if *faults {
		<-crashed
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	status, b, err = call("GET", "/v1/projects/"+appid+"/summary", admin, nil)
	if err != nil || status != 200 {
		return nil, fmt.Errorf("summary: %d %v", status, err)
	}
	var s api.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	for _, v := range s.Violations {
		r.counted += v.Count
	}
	return r, nil
}

// batch makes reporter i's batch j: records to unlisted hosts (R2, counted)
// and to the listed one (allowed), 3 in 4 counted.
func batch(i, j int) ([]byte, int64) {
	b := api.Batch{Source: "bench"}
	var fail int64
	for k := 0; k < *records; k++ {
		u := fmt.Sprintf("https://api.example.com/v1/item/%d/%d/%d", i, j, k)
		if k%4 != 3 {
			u = fmt.Sprintf("https://h%d.example.net/v1/item/%d/%d?q=%d", (i*31+k)%40, j, k, k)
			fail++
		}
		b.Records = append(b.Records, api.Record{API: "request", URL: u})
	}
	return mustJSON(b), fail
}

// send posts one batch until the service answers 200, retrying with the
// same key through killed connections and the restart. It returns the
// latency of the successful attempt.
func send(ctx context.Context, c *http.Client, base, token, key string, body []byte, rng *mrand.Rand) (lat time.Duration, dup bool, attempts, killed, refused int64, err error) {
	for try := 0; try < 60; try++ {
		if try > 0 {
			time.Sleep(time.Duration(min(2000, 20<<min(try, 7))) * time.Millisecond)
		}
		attempts++
		rctx, cancel := context.WithCancel(ctx)
		if *faults && rng.Float64() < *killRate {
			// Kill the connection at a random moment of the request: before,
			// during or after the service handled it.
			d := time.Duration(rng.IntN(40)) * time.Millisecond
			time.AfterFunc(d, cancel)
		}
		req, _ := http.NewRequestWithContext(rctx, "POST", base+"/v1/projects/"+appid+"/reports", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		res, e := c.Do(req)
		if e != nil {
			if errors.Is(rctx.Err(), context.Canceled) && ctx.Err() == nil {
				killed++ // our injected failure
			} else {
				refused++ // the server was down (the crash) or closed the connection
			}
			cancel()
			continue
		}
		b, e := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		if e != nil {
			killed++
			continue
		}
		if res.StatusCode != 200 {
			if res.StatusCode >= 500 || res.StatusCode == 429 {
				refused++
				continue
			}
			return 0, false, attempts, killed, refused, fmt.Errorf("batch %s: %d %s", key, res.StatusCode, b)
		}
		var br api.BatchResult
		json.Unmarshal(b, &br)
		return time.Since(t0), br.Duplicate, attempts, killed, refused, nil
	}
	return 0, false, attempts, killed, refused, fmt.Errorf("batch %s: no answer after 60 tries", key)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
