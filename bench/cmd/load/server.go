package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// httpdemoPkg is built by import path, so the build works from anywhere in
// the workspace (go.work) and from bench/ alone (its replace directive).
const httpdemoPkg = "github.com/swapexec/swapexec/httpdemo"

// buildHTTPDemo builds httpdemo into dir and returns the binary's path.
func buildHTTPDemo(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "httpdemo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, httpdemoPkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("load: go build %s: %w\n%s", httpdemoPkg, err, out)
	}
	return bin, nil
}

// server is one running httpdemo process.
type server struct {
	Addr string // host:port it listens on, always loopback
	cmd  *exec.Cmd
	log  *logWriter
	done chan struct{} // closed when the process has exited and err is set
	err  error         // cmd.Wait's result; read only after done is closed
	wait time.Duration // how long Stop waits after SIGTERM before it kills
}

// startServer runs bin on 127.0.0.1 with a free port and the given extra
// flags, and returns once the server has logged its listen address. A
// server that exits, or has not listened within 20s, is an error (and is
// killed).
func startServer(bin string, shutdownTimeout time.Duration, args ...string) (*server, error) {
	all := append([]string{"-addr", "127.0.0.1:0", "-log-format", "json",
		"-shutdown-timeout", shutdownTimeout.String()}, args...)
	lw := &logWriter{listening: make(chan string, 1)}
	cmd := exec.Command(bin, all...)
	cmd.Stdout = lw
	cmd.Stderr = lw
	// Wait stops copying output this long after the process exits, should
	// anything else hold the pipe open.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: start httpdemo: %w", err)
	}
	s := &server{cmd: cmd, log: lw, done: make(chan struct{}), wait: shutdownTimeout + 5*time.Second}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()

	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	select {
	case addr := <-lw.listening:
		if err := checkLoopback(addr); err != nil {
			s.kill()
			return nil, err
		}
		s.Addr = addr
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("load: httpdemo %s exited before it listened (%v); its log ends:\n%s",
			strings.Join(args, " "), s.err, lw.tail())
	case <-t.C:
		s.kill()
		return nil, fmt.Errorf("load: httpdemo %s did not log \"listening\" within 20s; its log ends:\n%s",
			strings.Join(args, " "), lw.tail())
	}
}

// checkLoopback reports an error unless addr is a loopback host:port.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("load: httpdemo listens on %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load: httpdemo listens on %q, not on loopback", addr)
	}
	return nil
}

// Stop sends SIGTERM and waits for the process to exit. It returns an error
// if the process exits non-zero, or has not exited after the shutdown
// timeout plus 5s (it is then killed).
func (s *server) Stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		<-s.done
		return fmt.Errorf("load: SIGTERM httpdemo: %w (exit: %v)", err, s.err)
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.kill()
		return fmt.Errorf("load: httpdemo had not exited %s after SIGTERM; killed it; its log ends:\n%s", s.wait, s.log.tail())
	}
	if s.err != nil {
		return fmt.Errorf("load: httpdemo exited after SIGTERM: %w; its log ends:\n%s", s.err, s.log.tail())
	}
	return nil
}

// kill kills the process and waits for it.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// logWriter receives httpdemo's JSON log lines: it reports the address of
// the first "listening" line and keeps the last lines for error messages.
type logWriter struct {
	listening chan string // gets the address once; buffered

	mu      sync.Mutex // guards the fields below; exec's copying goroutine writes while tail reads
	partial []byte     // an unterminated last line
	last    []string   // the most recent lines, at most tailLines
	found   bool       // the address has been sent
}

const tailLines = 20

// Write implements io.Writer.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.last = append(w.last, line)
		if len(w.last) > tailLines {
			w.last = w.last[1:]
		}
		if addr, ok := listenAddr(line); ok && !w.found {
			w.found = true
			w.listening <- addr
		}
	}
	return len(p), nil
}

// tail returns the last lines written, indented.
func (w *logWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := append(append([]string(nil), w.last...), string(w.partial))
	return "    " + strings.Join(lines, "\n    ")
}

// listenAddr returns the addr of httpdemo's JSON "listening" log line.
func listenAddr(line string) (string, bool) {
	var rec struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "listening" || rec.Addr == "" {
		return "", false
	}
	return rec.Addr, true
}

// tempDir makes a directory for the build and returns it with its remover.
func tempDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "swapexec-load-")
	if err != nil {
		return "", nil, fmt.Errorf("load: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
