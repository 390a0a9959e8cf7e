package buildwasm

import (
	"bytes"
	"path/filepath"
	"testing"
)

// The pre-initialised module is a function of the compiled module alone:
// two snapshots of one build are byte-identical (the Go runtime records the
// wall time of every collection, and seeds its maps from the random source,
// so a snapshot that let either in differed on every build).
func TestSnapshotIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module")
	}
	bin, err := Raw(filepath.Join(t.TempDir(), "mpnet.wasm.raw"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Snapshot(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Snapshot(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		n := 0
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				n++
			}
		}
		t.Fatalf("two snapshots of one build differ (%d and %d bytes, %d bytes differ)", len(a), len(b), n)
	}
}
