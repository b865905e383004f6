// Command httpdemo is the Rust book's multithreaded web server, done as a Go
// engineer would ship it: every page request runs on a swapexec executor
// chosen with -backend, and the parts are wired with go.uber.org/fx.
//
//	go run ./httpdemo                       # 127.0.0.1:7878, chanpool, 4 workers
//	go run ./httpdemo -backend ants -workers 64
//	go run ./httpdemo -backend none         # net/http's goroutines: the baseline
//
//	go run ./httpdemo -limit gradient2 -max-wait 30ms   # an adaptive limit, no worker count to guess
//
// Routes: GET or HEAD / (hello.html), /sleep (hello.html after -sleep),
// /work (hello.html after a call to a simulated downstream that serves
// -work-slots calls at once, each taking -work-time, and slows down at
// -work-slowdown-at), any other path 404.html; /healthz, /readyz (503 once
// shutdown begins) and /metrics (Prometheus). Run with -h for every flag
// and its SWAPEXEC_* environment variable.
//
// -limit aimd or gradient2 lets executor/adaptive set the bound on running
// requests between -limit-min and -limit-max; pair it with -max-wait or
// -nonblocking, since a limit bounds how many requests run, not how long
// the others wait. A page request that could not start before its reply
// would miss the server's WriteTimeout gets 503 without doing its work, and
// /metrics counts what each client got.
//
// SIGINT or SIGTERM stops gracefully: /readyz turns 503, the server keeps
// serving for -drain-delay (default 0) so that load balancers see it, the
// listener closes, the requests in flight finish, then the executor drains
// and logs "executor drained". A second signal exits at once. The exit status is 0
// after a graceful stop, 1 when starting or stopping fails, 2 for a bad flag
// or environment variable.
package main
