package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Inputs are bounded before they are read: a configuration file over the
// module's 4 MiB is refused by its size, /dev/zero and a FIFO by reading no
// more than the limit (the 300 MB file took 118 s and 10.9 GB
// before exit 2; /dev/zero grew without bound).
func TestConfigFilesAreBoundedBeforeReading(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "mpnet.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(300 << 20); err != nil { // sparse: no disk, no memory
		t.Fatal(err)
	}
	f.Close()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() { // an endless writer
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}()
	many := make([]string, 33)
	for i := range many {
		many[i] = demo("mpnet.json")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--config", big, "https://a.com/"}, "larger than 4 MiB; configuration files are at most that"},
		{[]string{"lint", big}, "larger than 4 MiB"},
		{[]string{"check", "--config", "/dev/zero", "https://a.com/"}, "/dev/zero: larger than 4 MiB"},
		{[]string{"lint", fifo}, "fifo.json: larger than 4 MiB"},
		{append([]string{"lint"}, many...), "33 configuration files; one import merges at most 32"},
		{[]string{"lint", dir}, "is a directory"},
		{[]string{"request", "--data", "@" + big, "https://a.com/"}, "larger than 64 MiB; request bodies (--data @FILE) are at most that"},
		{[]string{"request", "--data", "@/dev/zero", "https://a.com/"}, "/dev/zero: larger than 64 MiB"},
	} {
		t0 := time.Now()
		code, _, errs := cli(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args[:2], code, errs, tc.want)
		}
		if d := time.Since(t0); d > 20*time.Second {
			t.Errorf("%v took %v", tc.args[:2], d)
		}
	}
}

// A stdin line longer than a message may be ends hostsim socket loudly
// (exit 2), after the lines before it were sent; it used to end the input
// silently with exit 0.
func TestSocketStdinLineIsBounded(t *testing.T) {
	defer func(old int) { maxSocketLine = old }(maxSocketLine)
	maxSocketLine = 1 << 10
	s := fx(t)
	args := append(append([]string{"socket", "--config", fxConfig(t)}, fxArgs(t)...), s.URL("wss"))
	var out, errb strings.Builder
	code := run(t.Context(), args, strings.NewReader("first\n"+strings.Repeat("x", 2<<10)+"\nlast\n"), &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "stdin: a line longer than 1 KiB") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "first") || strings.Contains(out.String(), "last") {
		t.Errorf("frames: %q", out.String())
	}
}
