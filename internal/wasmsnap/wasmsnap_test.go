package wasmsnap

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

func sec(id byte, body ...byte) []byte {
	return append(append([]byte{id}, appendU32(nil, uint32(len(body)))...), body...)
}

func fn(body ...byte) []byte { return append(appendU32(nil, uint32(len(body))), body...) }

// tiny is a reactor whose _initialize adds 7 to a global, stores 35 at
// address 100 and grows memory by a page; get answers global + mem[100].
func tiny(extra ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, sec(secType, 2, 0x60, 0, 0, 0x60, 0, 1, 0x7F)...)
	b = append(b, sec(secFunction, 2, 0, 1)...)
	b = append(b, sec(secMemory, 1, 0, 1)...)
	b = append(b, sec(secGlobal, 1, 0x7F, 1, 0x41, 0, 0x0B)...)
	exports := []byte{3}
	exports = append(append(exports, appendName(nil, "_initialize")...), 0, 0)
	exports = append(append(exports, appendName(nil, "get")...), 0, 1)
	exports = append(append(exports, appendName(nil, "memory")...), 2, 0)
	b = append(b, sec(secExport, exports...)...)
	for _, e := range extra {
		b = append(b, e...)
	}
	f0 := fn(0, 0x23, 0, 0x41, 7, 0x6A, 0x24, 0, 0x41, 0xE4, 0, 0x41, 35, 0x3A, 0, 0, 0x41, 1, 0x40, 0, 0x1A, 0x0B)
	f1 := fn(0, 0x23, 0, 0x41, 0xE4, 0, 0x2D, 0, 0, 0x6A, 0x0B)
	b = append(b, sec(secCode, append(append([]byte{2}, f0...), f1...)...)...)
	b = append(b, sec(secData, 1, 0, 0x41, 0, 0x0B, 2, 'h', 'i')...)
	return b
}

func TestSnapshotStartsWhereInitialisationEnded(t *testing.T) {
	ctx := context.Background()
	snap, err := Snapshot(ctx, tiny(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	// The host calls _initialize as it always does: it must do nothing now
	// (run again, the original would make the global 14).
	mod, err := rt.InstantiateWithConfig(ctx, snap, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := mod.ExportedFunction("get").Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != 42 {
		t.Errorf("get = %d, want 42 (global 7 + mem[100] 35, each set once)", res[0])
	}
	if pages := mod.Memory().Size() / 65536; pages != 2 {
		t.Errorf("memory has %d pages, want the 2 it had after initialisation", pages)
	}
	if b, _ := mod.Memory().Read(0, 2); string(b) != "hi" {
		t.Errorf("memory starts with %q, want the original data %q", b, "hi")
	}
}

func TestSnapshotWarmUpIsKept(t *testing.T) {
	ctx := context.Background()
	snap, err := Snapshot(ctx, tiny(), func(ctx context.Context, mod api.Module) error {
		mod.Memory().WriteByte(100, 58) // the warm-up leaves its own state
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := mod.ExportedFunction("get").Call(ctx); res[0] != 65 {
		t.Errorf("get = %d, want 65 (7 + the warm-up's 58)", res[0])
	}
}

func TestSnapshotRefusesWhatItCannotKeep(t *testing.T) {
	ctx := context.Background()
	cases := map[string][]byte{
		"not WebAssembly":     []byte("hello world"),
		"has a start section": tiny(sec(secStart, 0)),
		"not a reactor":       []byte(strings.Replace(string(tiny()), "_initialize", "_initializX", 1)),
	}
	for name, bin := range cases {
		if _, err := Snapshot(ctx, bin, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNonZero(t *testing.T) {
	mem := make([]byte, 100)
	mem[3], mem[10], mem[60], mem[99] = 1, 2, 3, 4
	got := nonZero(mem)
	want := [][2]int{{3, 11}, {60, 61}, {99, 100}}
	if len(got) != len(want) {
		t.Fatalf("nonZero = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("nonZero = %v, want %v", got, want)
		}
	}
}
