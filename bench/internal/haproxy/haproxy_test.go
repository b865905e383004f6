package haproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestFreeAddr(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("FreeAddr() = %s; want a loopback host:port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("FreeAddr() = %s, which cannot be bound: %v", addr, err)
	}
	ln.Close()
}

func TestStartMissing(t *testing.T) {
	if _, err := Start("no-such-haproxy-binary", ""); err == nil || !strings.HasPrefix(err.Error(), "haproxy: ") {
		t.Errorf("Start(missing binary) = %v; want an error prefixed haproxy:", err)
	}
}

// needHAProxy skips the test unless haproxy is on PATH.
func needHAProxy(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy is not on PATH (Debian, Ubuntu: apt-get install -y haproxy)")
	}
}

// TestProxy starts HAProxy in front of a test server, sends a request
// through it and stops it: the request is answered by the server, and
// Stop ends the process and removes its configuration.
func TestProxy(t *testing.T) {
	needHAProxy(t)
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "from the back")
	}))
	defer back.Close()
	front, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend web
    bind %s
    default_backend app

backend app
    server one %s
`, front, strings.TrimPrefix(back.URL, "http://"))
	p, err := Start("haproxy", config)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitListening(front, 10*time.Second); err != nil {
		p.Stop()
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + front + "/")
	if err != nil {
		p.Stop()
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "from the back" {
		t.Errorf("GET through HAProxy = %d %q, %v; want 200 %q", resp.StatusCode, body, err, "from the back")
	}
	p.Stop()
	select {
	case <-p.Done():
	default:
		t.Error("Done is not closed after Stop")
	}
	if _, err := os.Stat(p.dir); !os.IsNotExist(err) {
		t.Errorf("after Stop, the configuration's directory %s: %v; want it removed", p.dir, err)
	}
}

// TestBadConfig checks that a process that exits at once is reported by
// WaitListening with how it ended and what it said.
func TestBadConfig(t *testing.T) {
	needHAProxy(t)
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start("haproxy", "this is not a configuration\n")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	err = p.WaitListening(addr, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "haproxy: exited (exit status") || !strings.Contains(err.Error(), "its output:\n") {
		t.Errorf("WaitListening after a bad configuration = %v; want it to say HAProxy exited, and its output", err)
	}
	if !strings.Contains(p.Output(), "this") {
		t.Errorf("Output() = %q; want HAProxy's complaint about the bad line", p.Output())
	}
}
