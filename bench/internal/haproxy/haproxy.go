// Package haproxy runs HAProxy as a child process for the bench module's
// load balancer measurements (bench/cmd/stepload, bench/lb): each writes
// its own configuration, and both start, watch and stop the process the
// same way, here.
package haproxy

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Process is a running HAProxy in the foreground (-db), started by Start.
// Its methods are safe for concurrent use; the caller must Stop it.
type Process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	dir  string        // holds haproxy.cfg; removed by Stop
	done chan struct{} // closed once the process has exited
}

// Start writes config to a new temporary directory and runs `bin -f
// <that file> -db`. It returns once the process has started, not once it
// listens: wait for that with WaitListening, or however the configuration
// shows it. An error if bin is not found or does not start.
func Start(bin, config string) (*Process, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("haproxy: %w", err)
	}
	dir, err := os.MkdirTemp("", "swapexec-haproxy-")
	if err != nil {
		return nil, fmt.Errorf("haproxy: %w", err)
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("haproxy: %w", err)
	}
	p := &Process{out: &syncBuffer{}, dir: dir, done: make(chan struct{})}
	p.cmd = exec.Command(path, "-f", cfg, "-db")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("haproxy: start: %w", err)
	}
	go func() {
		_ = p.cmd.Wait() // how it ended is in ProcessState, read after done
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited describes how the process ended, such as "exit status 1"; call it
// only after Done is closed.
func (p *Process) Exited() string { return p.cmd.ProcessState.String() }

// Output returns what the process has written to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// WaitListening returns once addr accepts TCP connections, or an error
// (with the process's output) if the process exits first or within has
// passed. HAProxy says nothing when it is ready; a port answering is the
// sign.
func (p *Process) WaitListening(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("haproxy: exited (%s); its output:\n%s", p.Exited(), p.Output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy: did not listen on %s within %s; its output:\n%s", addr, within, p.Output())
		}
	}
}

// Stop ends HAProxy with SIGTERM (a hard stop: callers stop it once the
// load is over), kills it if it has not exited 5s later, waits for it and
// removes its configuration. Stop after the process has exited only
// removes the configuration.
func (p *Process) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	os.RemoveAll(p.dir)
}

// FreeAddr returns a loopback host:port that was free a moment ago, for
// HAProxy to bind. Another process could take it before HAProxy binds it;
// on a test machine that is rare, and the bind then fails loudly.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("haproxy: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// syncBuffer is a bytes.Buffer that exec's copying goroutine writes while
// an error message or a test reads it.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
