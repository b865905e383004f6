package demorun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// Build builds httpdemo into dir and returns the binary's path. The build
// stops when ctx ends.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "httpdemo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, httpdemoPkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("demorun: go build %s: %w\n%s", httpdemoPkg, err, out)
	}
	return bin, nil
}

// buildWait bounds the build Binary makes.
const buildWait = 5 * time.Minute

// Binary returns prebuilt, and a remove that does nothing, if prebuilt is
// not empty. Otherwise it builds httpdemo into a new temporary directory
// (giving up after 5 minutes), saying "<name>: building httpdemo" to
// progress first, and returns the binary and a remove that deletes the
// directory; the caller calls remove once it is done with the binary.
func Binary(prebuilt, name string, progress io.Writer) (bin string, remove func(), err error) {
	if prebuilt != "" {
		return prebuilt, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "swapexec-"+name+"-")
	if err != nil {
		return "", nil, fmt.Errorf("demorun: %w", err)
	}
	fmt.Fprintf(progress, "%s: building httpdemo\n", name)
	ctx, cancel := context.WithTimeout(context.Background(), buildWait)
	defer cancel()
	if bin, err = Build(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// Server is one running httpdemo process, started by Start. Its methods
// are safe for concurrent use.
type Server struct {
	Addr string // host:port it listens on, always loopback

	cmd  *exec.Cmd
	log  *logWriter
	done chan struct{} // closed when the process has exited and err is set
	err  error         // cmd.Wait's result; read only after done is closed
	wait time.Duration // how long Stop waits after SIGTERM before it kills
}

// startWait bounds the wait for a new server's "listening" line.
const startWait = 20 * time.Second

// Start runs bin with -addr addr (a loopback host:port; port 0 picks a free
// one), -log-format json, -shutdown-timeout shutdownTimeout and the given
// extra flags, and returns once the server has logged its listen address.
// A server that exits, or has not listened within 20s, is an error (and is
// killed). The caller must Stop or Kill the server it gets.
func Start(bin, addr string, shutdownTimeout time.Duration, args ...string) (*Server, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	all := append([]string{"-addr", addr, "-log-format", "json",
		"-shutdown-timeout", shutdownTimeout.String()}, args...)
	lw := &logWriter{listening: make(chan string, 1), records: map[string]map[string]any{}}
	cmd := exec.Command(bin, all...)
	cmd.Stdout = lw
	cmd.Stderr = lw
	// Wait stops copying output this long after the process exits, should
	// anything else hold the pipe open.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("demorun: start httpdemo: %w", err)
	}
	s := &Server{cmd: cmd, log: lw, done: make(chan struct{}), wait: shutdownTimeout + 5*time.Second}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()

	t := time.NewTimer(startWait)
	defer t.Stop()
	select {
	case got := <-lw.listening:
		if err := CheckLoopback(got); err != nil {
			s.Kill()
			return nil, err
		}
		s.Addr = got
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("demorun: httpdemo %s exited before it listened (%v); its log ends:\n%s",
			strings.Join(all, " "), s.err, lw.tail())
	case <-t.C:
		s.Kill()
		return nil, fmt.Errorf("demorun: httpdemo %s did not log \"listening\" within %s; its log ends:\n%s",
			strings.Join(all, " "), startWait, lw.tail())
	}
}

// CheckLoopback reports an error unless addr is a loopback host:port.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("demorun: httpdemo address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("demorun: httpdemo address %q is not on loopback", addr)
	}
	return nil
}

// Stop sends SIGTERM and waits for the process to exit. It returns an error
// if the process exits non-zero, or has not exited after the shutdown
// timeout plus 5s (it is then killed). Calling it again, or after Kill,
// reports how the process ended.
func (s *Server) Stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		<-s.done
		if s.err != nil {
			return fmt.Errorf("demorun: SIGTERM httpdemo: %w (exit: %v)", err, s.err)
		}
		return nil // it had already exited 0
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.Kill()
		return fmt.Errorf("demorun: httpdemo had not exited %s after SIGTERM; killed it; its log ends:\n%s", s.wait, s.log.tail())
	}
	if s.err != nil {
		return fmt.Errorf("demorun: httpdemo exited after SIGTERM: %w; its log ends:\n%s", s.err, s.log.tail())
	}
	return nil
}

// Kill kills the process, if it still runs, and waits for it.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Record returns the last JSON log record whose "msg" is msg, decoded (JSON
// numbers as float64), and whether there was one.
func (s *Server) Record(msg string) (map[string]any, bool) {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	rec, ok := s.log.records[msg]
	return rec, ok
}

// Tail returns the last lines the process wrote, indented, for error
// messages.
func (s *Server) Tail() string { return s.log.tail() }

// logWriter receives httpdemo's JSON log lines: it reports the address of
// the first "listening" line, keeps the last record of each message and
// keeps the last lines for error messages.
type logWriter struct {
	listening chan string // gets the address once; buffered

	mu      sync.Mutex                // guards the fields below; exec's copying goroutine writes while others read
	partial []byte                    // an unterminated last line
	last    []string                  // the most recent lines, at most tailLines
	found   bool                      // the address has been sent
	records map[string]map[string]any // by msg; httpdemo's messages are constants, so this stays small
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
		line := w.partial[:i]
		w.partial = w.partial[i+1:]
		w.last = append(w.last, string(line))
		if len(w.last) > tailLines {
			w.last = w.last[1:]
		}
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil {
			continue
		}
		msg, _ := rec["msg"].(string)
		if w.records != nil {
			w.records[msg] = rec
		}
		if addr, _ := rec["addr"].(string); msg == "listening" && addr != "" && !w.found {
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
