package main

import (
	"fmt"
	"os/exec"
	"time"

	"github.com/swapexec/swapexec/bench/internal/haproxy"
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

// startHAProxy runs bin in front of back with the given maxconn and queue
// timeout on a free loopback port, and returns it and that port once the
// port accepts connections; an error if bin is missing, exits or has not
// listened within 10s. The caller must Stop it.
func startHAProxy(bin, back string, maxconn int, queue time.Duration) (*haproxy.Process, string, error) {
	if _, err := exec.LookPath(bin); err != nil {
		return nil, "", fmt.Errorf("stepload: %w (%s)", err, installHint)
	}
	front, err := haproxy.FreeAddr()
	if err != nil {
		return nil, "", fmt.Errorf("stepload: %w", err)
	}
	h, err := haproxy.Start(bin, haproxyConfig(front, back, maxconn, queue))
	if err != nil {
		return nil, "", fmt.Errorf("stepload: %w", err)
	}
	if err := h.WaitListening(front, 10*time.Second); err != nil {
		h.Stop()
		return nil, "", fmt.Errorf("stepload: %w", err)
	}
	return h, front, nil
}

// installHint says how to get HAProxy.
const installHint = "install it with `apt-get install -y haproxy` (Debian, Ubuntu) or `brew install haproxy`, or name it with -haproxy"
