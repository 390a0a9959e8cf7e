package serve

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The module leaves charset conversion to its hosts (policy/body,
// internal/decode, wasm/loader.js) and reads and writes JSON with
// abi/wire only: it must not link the legacy encodings' tables, the HTML
// tokenizer or encoding/json again (a sixth and an eighth of its size),
// nor goccy/go-json, which the team service uses natively
// (docs/RATIONALE.md).
func TestModuleLinksNoCharsetTablesNorEncodingJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", "list", "-deps", "mpnet/wasm")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list answered %d packages", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "golang.org/x/text/encoding") || strings.HasPrefix(p, "golang.org/x/net/html") || p == "golang.org/x/text/language" || p == "encoding/json" || strings.HasPrefix(p, "github.com/goccy/go-json") {
			t.Errorf("the module links %s", p)
		}
	}
}
