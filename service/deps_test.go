//go:build !js

package service_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func deps(t *testing.T, pkg string, env ...string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	d := strings.Fields(string(out))
	if len(d) < 20 {
		t.Fatalf("go list %s answered %d packages", pkg, len(d))
	}
	return d
}

// The JSON library is chosen per build by measurement (json_native.go,
// json_js.go): goccy/go-json natively, encoding/json in the Worker, where
// goccy would push the module past the free plan's 3 MB (gzipped).
func TestJSONLibraryPerBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	native := deps(t, "mpnet/service/cmd/mpnet-team")
	if !slices.Contains(native, "github.com/goccy/go-json") {
		t.Error("the native service does not link goccy/go-json")
	}
	if !slices.Contains(native, "mpnet/policy") {
		t.Error("the native service does not link policy/")
	}
	worker := deps(t, "mpnet/service/worker", "GOOS=js", "GOARCH=wasm")
	for _, p := range worker {
		if strings.HasPrefix(p, "github.com/goccy/go-json") || strings.HasPrefix(p, "github.com/ncruces/") {
			t.Errorf("the Worker links %s", p)
		}
	}
	for _, want := range []string{"mpnet/policy", "github.com/syumai/workers/cloudflare/d1"} {
		if !slices.Contains(worker, want) {
			t.Errorf("the Worker does not link %s", want)
		}
	}
}
