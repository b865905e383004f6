package main

// End-to-end tests: build the binary once, run it as a real process, talk to
// it over TCP and signal it.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// e2eWait bounds every wait on the process, so a broken build fails instead
// of hanging.
const e2eWait = 20 * time.Second

var (
	buildOnce sync.Once
	binDir    string // removed by TestMain's cleanup
	binPath   string
	buildErr  error
)

// demoBinary builds httpdemo once per test run (with -race when the tests
// have it) and returns its path.
func demoBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the tests that build and run the binary")
	}
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "httpdemo-e2e-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "httpdemo")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// logLines collects a process's stderr line by line and lets tests wait for
// a line.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	lines   []string
	changed chan struct{} // closed, and replaced, whenever a line arrives
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		l.lines = append(l.lines, string(l.buf.Next(i+1)))
		close(l.changed)
		l.changed = make(chan struct{})
	}
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "") + l.buf.String()
}

// find returns the first JSON log record whose msg is msg (nil if none yet)
// and a channel closed when another line arrives.
func (l *logLines) find(msg string) (map[string]any, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec, nil
		}
	}
	return nil, l.changed
}

// proc is a running httpdemo.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	logs   *logLines
	exited chan struct{} // closed once Wait has returned and every log line is in
}

// startDemo runs the binary with args and extra environment variables; the
// environment's own SWAPEXEC_ variables are dropped. The process is killed
// when the test ends, if it still runs.
func startDemo(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(demoBinary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) && !strings.HasPrefix(kv, "GORACE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// A -race binary otherwise sleeps 1s before a clean exit.
	cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	cmd.Env = append(cmd.Env, env...)
	p := &proc{t: t, cmd: cmd, logs: &logLines{changed: make(chan struct{})}, exited: make(chan struct{})}
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait() // its error is in cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		if strings.Contains(p.logs.String(), "DATA RACE") {
			t.Errorf("the race detector fired in the process:\n%s", p.logs)
		}
	})
	return p
}

// waitLog waits for the JSON log record whose msg is msg.
func (p *proc) waitLog(msg string) map[string]any {
	p.t.Helper()
	timeout := time.After(e2eWait)
	for {
		rec, changed := p.logs.find(msg)
		if rec != nil {
			return rec
		}
		select {
		case <-changed:
		case <-p.exited:
			if rec, _ := p.logs.find(msg); rec != nil {
				return rec
			}
			p.t.Fatalf("process exited (%v) without logging %q; its output:\n%s", p.cmd.ProcessState, msg, p.logs)
		case <-timeout:
			p.t.Fatalf("no log %q within %v; output so far:\n%s", msg, e2eWait, p.logs)
		}
	}
}

// exitCode waits up to limit for the process to exit and returns its status.
func (p *proc) exitCode(limit time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		p.t.Fatalf("process still running after %v; output so far:\n%s", limit, p.logs)
		return -1
	}
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// rawConn is a client connection driven by hand, so a test decides when it
// is opened, when it sends, and when it reads.
type rawConn struct {
	conn net.Conn
	br   *bufio.Reader
	req  *http.Request
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(e2eWait))
	return &rawConn{conn: c, br: bufio.NewReader(c)}
}

// send writes a GET for path.
func (c *rawConn) send(t *testing.T, path string) {
	t.Helper()
	c.req, _ = http.NewRequest("GET", "http://"+c.conn.RemoteAddr().String()+path, nil)
	if err := c.req.Write(c.conn); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// response reads the reply to the last send.
func (c *rawConn) response(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.ReadResponse(c.br, c.req)
	if err != nil {
		t.Fatalf("GET %s: %v", c.req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", c.req.URL.Path, err)
	}
	return resp.StatusCode, string(body)
}

func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c := dial(t, addr)
	c.send(t, path)
	return c.response(t)
}

// inFlightMetric finds the in-flight gauge in a /metrics page.
func inFlightMetric(t *testing.T, page string) int {
	t.Helper()
	const name = "swapexec_http_requests_in_flight "
	i := strings.Index(page, "\n"+name)
	if i < 0 {
		t.Fatalf("/metrics has no %s:\n%s", name, page)
	}
	var n int
	if _, err := fmt.Sscan(page[i+1+len(name):], &n); err != nil {
		t.Fatalf("/metrics: %s: %v", name, err)
	}
	return n
}

// waitInFlight scrapes /metrics on c until n requests besides the scrape
// are in flight: read by the server and not yet answered. Only a request
// the server has read before it shuts down is served (golang/go#65802).
func waitInFlight(t *testing.T, c *rawConn, n int) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		c.send(t, "/metrics")
		code, page := c.response(t)
		if code != 200 {
			t.Fatalf("/metrics %d, want 200", code)
		}
		got := inFlightMetric(t, page) - 1
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests in flight after %v, want %d", got, e2eWait, n)
		}
	}
}

// TestE2EGracefulShutdown runs the binary on every backend, sends requests,
// SIGTERMs it while they are in flight, and checks the whole drain.
func TestE2EGracefulShutdown(t *testing.T) {
	demoBinary(t)
	for _, backend := range backendNames() {
		backend := backend
		t.Run("backend="+backend, func(t *testing.T) {
			t.Parallel()
			// Six /sleeps on four workers: two wait for a worker until the
			// first four end, after the listener has closed.
			p := startDemo(t, nil, "-addr", "127.0.0.1:0", "-backend", backend, "-workers", "4",
				"-sleep", "1500ms", "-drain-delay", "1s", "-shutdown-timeout", "10s", "-log-format", "json")
			addr, _ := p.waitLog("listening")["addr"].(string)

			var inFlight []*rawConn
			for i := 0; i < 6; i++ {
				c := dial(t, addr)
				c.send(t, "/sleep")
				inFlight = append(inFlight, c)
			}
			// A kept-alive connection: it polls /metrics until the server
			// has read all six requests, then asks /readyz during the drain.
			probe := dial(t, addr)
			waitInFlight(t, probe, len(inFlight))

			p.signal(syscall.SIGTERM)
			p.waitLog("readiness off: /readyz is 503")
			// The server keeps serving for -drain-delay (1s) after that line;
			// this request is read well within it.
			probe.send(t, "/readyz")
			if code, body := probe.response(t); code != 503 {
				t.Errorf("/readyz during the drain: %d %q, want 503", code, body)
			}

			// Logged by Shutdown once the listener is closed.
			p.waitLog("http server draining: listener closed, /readyz is 503")
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				t.Error("a new connection was accepted after the listener closed")
			} else if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("new connection after the listener closed: %v, want connection refused", err)
			}
			for _, c := range inFlight {
				if code, body := c.response(t); code != 200 || !strings.Contains(body, "Hi from swapexec") {
					t.Errorf("in-flight GET %s: %d %q, want 200 and the hello page", c.req.URL.Path, code, body)
				}
			}

			if code := p.exitCode(e2eWait); code != 0 {
				t.Errorf("exit status %d, want 0; output:\n%s", code, p.logs)
			}
			p.waitLog("http server drained")
			if backend != backendNone {
				rec := p.waitLog("executor drained")
				// The six page requests, every one through the executor.
				if rec["submitted"] != 6.0 || rec["completed"] != 6.0 {
					t.Errorf("executor drained with submitted=%v completed=%v, want 6 and 6", rec["submitted"], rec["completed"])
				}
			}
			p.waitLog("stopped")
		})
	}
}

func TestE2EMaxRequests(t *testing.T) {
	p := startDemo(t, nil, "-addr", "127.0.0.1:0", "-max-requests", "2", "-log-format", "json")
	addr, _ := p.waitLog("listening")["addr"].(string)
	for i := 0; i < 2; i++ {
		if code, body := get(t, addr, "/"); code != 200 || !strings.Contains(body, "Hi from swapexec") {
			t.Errorf("request %d: %d %q, want 200 and the hello page", i+1, code, body)
		}
	}
	if code := p.exitCode(e2eWait); code != 0 {
		t.Errorf("exit status %d, want 0; output:\n%s", code, p.logs)
	}
	p.waitLog("stopping gracefully after -max-requests")
	p.waitLog("executor drained")
}

func TestE2ESecondSignalExitsAtOnce(t *testing.T) {
	p := startDemo(t, nil, "-addr", "127.0.0.1:0", "-sleep", "1h", "-shutdown-timeout", "1h", "-log-format", "json")
	addr, _ := p.waitLog("listening")["addr"].(string)
	c := dial(t, addr)
	c.send(t, "/sleep")
	waitInFlight(t, dial(t, addr), 1)
	p.signal(syscall.SIGTERM)
	p.waitLog("http server draining: listener closed, /readyz is 503")
	p.signal(syscall.SIGTERM)
	if code := p.exitCode(e2eWait); code != 1 {
		t.Errorf("exit status %d, want 1; output:\n%s", code, p.logs)
	}
	p.waitLog("second signal: exiting at once without draining")
}

func TestE2EStartFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests, unlike defer
	taken := ln.Addr().String()

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		want     []string
	}{
		{"taken port", nil, []string{"-addr", taken}, 1, []string{"start failed", "listen on " + taken, "address already in use"}},
		{"bad flag", nil, []string{"-workers", "-1"}, 2, []string{`invalid value "-1" for flag -workers: want 0 (one per CPU) or more`}},
		{"bad backend", []string{"SWAPEXEC_BACKEND=nope"}, nil, 2,
			[]string{`invalid value "nope" for environment variable SWAPEXEC_BACKEND (flag -backend): want one of ` + strings.Join(backendNames(), ", ")}},
		{"help", nil, []string{"-h"}, 0, []string{"-shutdown-timeout duration", "$SWAPEXEC_MAX_REQUESTS", "-max-wait duration", "$SWAPEXEC_LIMIT",
			"pair it with -max-wait (e.g. 30ms) or -nonblocking"}},
		// Issue 13, defect 7: an empty address must not bind every interface.
		{"empty SWAPEXEC_ADDR", []string{"SWAPEXEC_ADDR="}, nil, 2,
			[]string{`invalid value "" for environment variable SWAPEXEC_ADDR (flag -addr): want host:port`}},
		{"empty -addr", nil, []string{"-addr", ""}, 2, []string{`invalid value "" for flag -addr: want host:port`}},
		{"bad limit", nil, []string{"-limit", "vegas"}, 2, []string{`invalid value "vegas" for flag -limit: want one of fixed, aimd, gradient2`}},
		{"limit bounds crossed", nil, []string{"-limit", "aimd", "-limit-min", "9", "-limit-max", "3"}, 2, []string{"-limit-min 9 must not be above -limit-max 3"}},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startDemo(t, tt.env, tt.args...)
			if code := p.exitCode(e2eWait); code != tt.wantCode {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tt.wantCode, p.logs)
			}
			for _, w := range tt.want {
				if !strings.Contains(p.logs.String(), w) {
					t.Errorf("output does not contain %q:\n%s", w, p.logs)
				}
			}
		})
	}
}
