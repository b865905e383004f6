// Command load compares swapexec's backends under HTTP load: it builds
// httpdemo, runs it on 127.0.0.1 with a free port once per backend and
// round (chanpool, ants, pond, and none, where net/http's own goroutines run
// the handlers), drives it with vegeta's library
// (github.com/tsenart/vegeta/v12/lib) and prints a Markdown report.
//
// Usage, from the repository root:
//
//	go run ./bench/cmd/load                          # about 5 minutes
//	go run ./bench/cmd/load -quick                   # about 20 s, for CI
//	go run ./bench/cmd/load -out bench/results/http-$(date +%F).md
//	go run ./bench/cmd/load -backends chanpool,none -duration 20s -rounds 5
//
// For the fixed-rate and maximum runs, each backend gets a server process
// of its own, which gets, in turn:
//
//   - a warm-up (-warmup, unmeasured);
//   - a fixed-rate run: GET / at -rate requests per second for -duration;
//   - a maximum run: GET / from -clients concurrent clients for -duration,
//     each sending its next request when the last one returns (vegeta's
//     rate 0 with a fixed number of workers); its requests per second are
//     the most this machine sustains with that concurrency, load generator
//     included.
//
// All of that is repeated for -rounds rounds (3; 1 with -quick), each
// backend on a fresh server in every round. Round r runs the backends in
// the -backends order rotated left by r (round 0: chanpool ants pond none;
// round 1: ants pond none chanpool; ...), so each backend takes each
// position and a slow moment of the machine does not always hit the same
// one. The tables summarise the rounds: for the maximum run, the median
// ok/s, its min–max over the rounds, "vs none" as the median of the
// per-round ratios (a backend's ok/s ÷ none's in the same round), the
// median p50 and p99, the largest max, and total requests and errors; for
// the fixed-rate run, median rates, p50 and p99, the largest max, and total
// sent and errors.
//
// Then, for each of -overload-backends, two more servers with a small pool
// (-overload-workers, -overload-queue, -overload-sleep) get GET /sleep at
// -overload-rate, above their capacity (workers / sleep), one run each
// whatever -rounds says: one blocking, where a request waits for room in
// the queue and latency grows with the backlog, and one with -nonblocking,
// where the server sheds load with 503 and the requests it serves keep a
// flat latency.
//
// Latencies are those of 2xx responses, from vegeta's send to the last byte
// read; 503s and other failures are counted in their own columns. Every run
// stops by itself after its duration or -max-requests requests, whichever
// comes first, and each request after -timeout. Each server is stopped with
// SIGTERM and waited for; a start failure or a non-zero exit is reported at
// the end of the report, and the command then exits 1. A bad flag exits 2.
//
// The load generator runs on the same CPUs as the server, so the maximum
// run measures the pair, and a shared machine adds noise that rounds damp
// but do not remove: compare backends within one report, not across
// reports, and distrust a difference within the min–max ranges.
package main
