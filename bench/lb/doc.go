// Package lb holds the end-to-end test of a rolling restart of httpdemo
// behind HAProxy, and the helpers it needs to write HAProxy's
// configuration, run it and read its statistics. It has no API of its own.
//
// The test starts three httpdemo replicas (chanpool, ants, pond) on
// loopback with -drain-delay, puts HAProxy in front of them with /readyz
// health checks, drives steady load through HAProxy with vegeta, restarts
// each replica in turn with SIGTERM, and requires every response to be a
// 200, every replica to exit 0 with its executor drained, and HAProxy to
// have seen each replica go down before its listener closed. It skips when
// haproxy is not on PATH (Debian, Ubuntu: apt-get install -y haproxy):
//
//	go test ./bench/lb -run RollingRestart -v
//	go test ./bench/lb -run RollingRestart -v -args -out ../results/lb-rolling-restart-$(date +%F).md
//
// It also fails if HAProxy had to retry or redispatch any request: its
// retries would hide a request sent to a replica that no longer listens.
// -lb.drain-delay 0s (with -lb.retries 0 too) makes a control run that
// breaks the rule below and should fail; -lb.duration sets how long the
// load runs (10s).
//
// # The rule that makes a restart lose nothing
//
// From the moment a replica's /readyz turns 503, HAProxy needs up to one
// check interval (inter) to run its next check and fall failed checks in a
// row to mark the server DOWN; each check may take up to timeout check. Only
// then does it stop sending new requests there. A Go server that has begun
// Shutdown drops what it reads (golang/go#65802), so the replica must keep
// serving normally until then:
//
//	drain-delay > inter × fall + timeout check + margin
//
// (fastinter, if set lower than inter, shortens every check after the
// first failure; the bound above holds either way.) The test uses inter
// 200ms, fall 2, timeout check 250ms: 650ms, under a -drain-delay of 1s.
// Requests already sent to the replica finish during Shutdown, within
// -shutdown-timeout.
package lb
