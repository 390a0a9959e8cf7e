module mpnet

go 1.26.8

require (
	github.com/goccy/go-json v0.12.0
	github.com/ncruces/go-sqlite3 v0.37.0
	github.com/syumai/workers v0.32.0
	github.com/tetratelabs/wazero v1.12.0
	golang.org/x/net v0.62.0
	golang.org/x/text v0.43.0
)

require (
	github.com/ncruces/go-sqlite3-wasm/v6 v6.5.35401 // indirect
	github.com/ncruces/julianday v1.0.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
