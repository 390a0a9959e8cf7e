//go:build !js

// Command mpnet-team is the team service for teams that host it
// themselves: the same handler as the Cloudflare Worker (mpnet/service),
// over a SQLite file.
//
//	mpnet-team serve --db FILE [--listen 127.0.0.1:7470] [--project APPID]...
//
// On a new database it prints the operator's token once (it creates
// projects); --project creates a project if it is missing and prints its
// first admin token once. It is its own program, not a hostsim command,
// because it links policy/ and hostsim must not (hostsim judges through
// the module only; ARCHITECTURE.md, "One implementation").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"mpnet/service"
	"mpnet/service/store"
)

const usage = `mpnet-team: the mpnet team service (configuration and violation log per mini program).

Usage:
  mpnet-team serve --db FILE [--listen 127.0.0.1:7470] [--project APPID]... [--rate N]
                   [--cors-origin chrome-extension://ID]... [--json] [--quiet]

The API is under /v1 (service/API.md), the dashboard under /dashboard/.
On a new database the operator's token is printed once; keep it.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "serve" {
		fmt.Fprintf(stderr, "mpnet-team: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := serve(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "mpnet-team serve: "+err.Error())
		return 2
	}
	return 0
}

// started is what serve prints first (one JSON line with --json): where
// it listens, and the tokens made now, shown this once.
type started struct {
	URL      string            `json:"url"`
	Operator string            `json:"operatorToken,omitempty"`
	Projects map[string]string `json:"projectAdminTokens,omitempty"`
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "", "SQLite database file (created if missing)")
	listen := fs.String("listen", "127.0.0.1:7470", "address to listen on (port 0 picks one)")
	rate := fs.Int("rate", 600, "requests per token and minute")
	asJSON := fs.Bool("json", false, "print the start-up line as JSON (for scripts)")
	quiet := fs.Bool("quiet", false, "do not log requests")
	var projects, origins multi
	fs.Var(&projects, "project", "create this project (appid) if missing and print its admin token (repeatable)")
	fs.Var(&origins, "cors-origin", "an extension origin allowed to call the API (repeatable; default: any browser extension)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbPath == "" {
		return errors.New("--db FILE is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	db, err := store.OpenSQLite(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(db, &atomic.Bool{})
	now := time.Now().UnixMilli()
	out := started{Projects: map[string]string{}}
	if out.Operator, err = service.Bootstrap(ctx, st, now); err != nil {
		return err
	}
	for _, appid := range projects {
		p, created, err := service.CreateProject(ctx, st, appid, "", "mpnet-team serve", now)
		if err != nil {
			return err
		}
		if created {
			out.Projects[appid] = p.Token.Secret
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	out.URL = "http://" + addr
	logf := func(line string) { fmt.Fprintln(stderr, time.Now().Format("15:04:05.000")+" "+line) }
	if *quiet {
		logf = nil
	}
	h := service.New(service.Options{Store: st, RatePerMinute: *rate, CORSOrigins: origins, Hosts: service.LoopbackHosts(addr), Log: logf})
	if *asJSON {
		json.NewEncoder(stdout).Encode(out)
	} else {
		fmt.Fprintf(stdout, "mpnet-team: serving %s (dashboard %s/dashboard/)\n", out.URL, out.URL)
		if out.Operator != "" {
			fmt.Fprintf(stdout, "operator token (shown once; it creates projects): %s\n", out.Operator)
		}
		for appid, tok := range out.Projects {
			fmt.Fprintf(stdout, "project %s: admin token (shown once): %s\n", appid, tok)
		}
	}
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-sctx.Done()
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(c)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
