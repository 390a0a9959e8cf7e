//go:build js && wasm

// Command worker is the team service on Cloudflare Workers: the same
// handler as the native server (service.New), its storage in D1 through
// syumai/workers' database/sql driver. One Go instance per isolate answers
// many requests (package bridge; worker.mjs beside this file is the glue
// that starts it, and replaces it when it dies). `go run ./build service`
// builds it into dist/worker; wrangler.toml beside this file deploys it
// (README.md, "Team service").
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
	"strconv"
	"strings"
	"syscall/js"

	"github.com/syumai/workers/cloudflare"
	_ "github.com/syumai/workers/cloudflare/d1" // the "d1" database/sql driver

	"mpnet/service"
	"mpnet/service/store"
	"mpnet/service/worker/bridge"
)

// schemaFlag remembers in a JavaScript global that the schema is up to
// date. A global of the isolate, not of the Go instance: it outlives an
// instance that died (a panic) and the glue replaced, so only an isolate's
// first request checks.
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
	bridge.Serve(testHooks(h))
}
