module mpnet

go 1.26.8

require (
	github.com/tetratelabs/wazero v1.12.0
	golang.org/x/net v0.62.0
	golang.org/x/text v0.43.0
)

require golang.org/x/sys v0.49.0 // indirect
