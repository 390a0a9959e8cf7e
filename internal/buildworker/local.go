//go:build unix

package buildworker

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"mpnet/internal/buildwasm"
)

// Local is a built Worker running locally in workerd with a local D1
// database, as service/worker/local.mjs starts it (Miniflare, no network).
type Local struct {
	// URL is where it answers, e.g. http://127.0.0.1:34567.
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// StartLocal runs local.mjs on the Worker in dir with its flags (--operator,
// --rate, --persist, --port, --cors) and waits until it answers.
func StartLocal(dir string, args ...string) (*Local, error) {
	root := buildwasm.Root()
	cmd := exec.Command("node", append([]string{filepath.Join(root, "service/worker/local.mjs"), "--dir", dir}, args...)...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	// Its own process group: workerd, its child, goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	l := &Local{cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	select {
	case s, ok := <-line:
		var doc struct{ URL string }
		if !ok || json.Unmarshal([]byte(s), &doc) != nil || doc.URL == "" {
			l.Stop(true)
			return nil, fmt.Errorf("local.mjs printed %q", s)
		}
		l.URL = doc.URL
		return l, nil
	case <-time.After(90 * time.Second):
		l.Stop(true)
		return nil, fmt.Errorf("the local Worker did not start within 90 s")
	}
}

// Stop ends it: gracefully (its stdin closes, then SIGTERM), or at once
// (SIGKILL to its process group: a crash).
func (l *Local) Stop(kill bool) {
	if l == nil || l.cmd.Process == nil {
		return
	}
	pid := l.cmd.Process.Pid
	if kill {
		syscall.Kill(-pid, syscall.SIGKILL)
	} else {
		l.stdin.Close()
		syscall.Kill(-pid, syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() { l.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
}
