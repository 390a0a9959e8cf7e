//go:build js && wasm

// Command worker is the team service on Cloudflare Workers: the same
// handler as the native server (service.New), its storage in D1 through
// syumai/workers' database/sql driver. `go run ./build service` builds it
// with syumai/workers' JavaScript glue into dist/worker; wrangler.toml
// beside this file deploys it (README.md, "Team service").
//
// Environment (wrangler.toml [vars], secrets with `wrangler secret put`):
//
//	DB                     the D1 database binding
//	MPNET_OPERATOR_TOKEN   secret: the operator's token (creates projects)
//	MPNET_RATE_PER_MINUTE  requests per token and minute (default 600)
//	MPNET_CORS_ORIGINS     the extension's origins, comma-separated
//	                       (default: any browser extension)
package main

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
	_ "github.com/syumai/workers/cloudflare/d1" // the "d1" database/sql driver

	"mpnet/service"
	"mpnet/service/store"
)

// schemaFlag remembers in a JavaScript global that the schema is up to
// date: the glue runs a fresh Go instance for every request, but the
// isolate's globals live on, so only an isolate's first request checks.
type schemaFlag struct{}

const flagName = "__mpnetSchema"

func (schemaFlag) Load() bool   { return js.Global().Get(flagName).Truthy() }
func (schemaFlag) Store(v bool) { js.Global().Set(flagName, v) }

func main() {
	db, err := sql.Open("d1", "DB")
	if err != nil {
		panic(err)
	}
	rate, _ := strconv.Atoi(cloudflare.Getenv("MPNET_RATE_PER_MINUTE"))
	var origins []string
	for _, o := range strings.Split(cloudflare.Getenv("MPNET_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	h := service.New(service.Options{
		Store:         store.New(db, schemaFlag{}),
		OperatorToken: cloudflare.Getenv("MPNET_OPERATOR_TOKEN"),
		RatePerMinute: rate,
		CORSOrigins:   origins,
		Log:           func(line string) { js.Global().Get("console").Call("log", line) },
	})
	workers.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "" {
			r.Host = r.URL.Host
		}
		h.ServeHTTP(w, r)
	}))
}
