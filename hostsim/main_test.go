package hostsim

import (
	"os"
	"testing"

	"mpnet/internal/buildwasm"
)

func TestMain(m *testing.M) {
	code := m.Run()
	buildwasm.Cleanup() // the module built for these tests, if they built one
	os.Exit(code)
}
