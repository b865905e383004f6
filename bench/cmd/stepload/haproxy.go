package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// haproxyConfig returns an HAProxy configuration that listens on front and
// sends to the one server at back, at most maxconn requests at once there;
// the rest wait in HAProxy's queue for at most queue, then get 503. The
// other timeouts are generous: only the queue's should ever fire.
func haproxyConfig(front, back string, maxconn int, queue time.Duration) string {
	return fmt.Sprintf(`global
    # Two file descriptors a connection, under a ulimit -n of 20000.
    maxconn 9000

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout queue %dms
    # A 503 from the queue ends the request; no retry elsewhere.
    retries 0

frontend web
    bind %s
    default_backend app

backend app
    server demo %s maxconn %d
`, queue.Milliseconds(), front, back, maxconn)
}

// haproxy is a running HAProxy in the foreground.
type haproxy struct {
	Addr string // where it listens
	cmd  *exec.Cmd
	out  *lockedBuffer
	dir  string
	done chan struct{}
}

// startHAProxy runs bin in front of back with the given maxconn and queue
// timeout on a free loopback port, and returns once that port accepts
// connections; an error if bin is missing, exits or has not listened
// within 10s.
func startHAProxy(bin, back string, maxconn int, queue time.Duration) (*haproxy, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("stepload: %w (%s)", err, installHint)
	}
	front, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "stepload-haproxy-")
	if err != nil {
		return nil, fmt.Errorf("stepload: %w", err)
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyConfig(front, back, maxconn, queue)), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("stepload: %w", err)
	}
	h := &haproxy{Addr: front, out: &lockedBuffer{}, dir: dir, done: make(chan struct{})}
	h.cmd = exec.Command(path, "-f", cfg, "-db")
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
	h.cmd.WaitDelay = time.Second
	if err := h.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("stepload: start haproxy: %w", err)
	}
	go func() {
		_ = h.cmd.Wait() // how it ended is in ProcessState
		close(h.done)
	}()
	// HAProxy says nothing when it is ready; its port answering is the sign.
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", front, time.Second)
		if err == nil {
			conn.Close()
			return h, nil
		}
		select {
		case <-h.done:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("stepload: haproxy exited (%v); its output:\n%s", h.cmd.ProcessState, h.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.Stop()
			return nil, fmt.Errorf("stepload: haproxy did not listen on %s within 10s; its output:\n%s", front, h.out)
		}
	}
}

// installHint says how to get HAProxy.
const installHint = "install it with `apt-get install -y haproxy` (Debian, Ubuntu) or `brew install haproxy`, or name it with -haproxy"

// Stop ends HAProxy (SIGTERM; the load is over by then), waits for it and
// removes its configuration.
func (h *haproxy) Stop() {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
	}
	os.RemoveAll(h.dir)
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("stepload: find a free port: %w", err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// lockedBuffer is a bytes.Buffer that exec's copying goroutine writes
// while an error message reads it.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
