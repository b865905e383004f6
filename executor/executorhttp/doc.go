// Package executorhttp runs net/http handlers on an [executor.Executor].
//
// A [Handler] wraps an http.Handler so that each request runs as a task on the
// executor while net/http's own goroutine waits for it. The executor, not the
// number of connections, then bounds how many requests are served at once,
// and a Nonblocking executor turns overload into a fast 503 instead of a
// growing pile of goroutines.
//
// # What a wrapped handler can rely on
//
//   - It runs at most once per request, on one of the executor's goroutines,
//     and ServeHTTP does not return before it has returned. The
//     ResponseWriter and Request are never touched after ServeHTTP returns,
//     which is what net/http requires.
//   - A request whose context ends before its task starts is not served:
//     the wrapped handler is not called. If its client has gone (the
//     context was canceled with no cause of its own, as net/http does when
//     the connection closes) nothing is written; otherwise (a deadline set
//     by an outer middleware, a cancellation with a cause) it is rejected
//     as below. A request abandoned while queued releases net/http's
//     goroutine at once; its task, when a worker reaches it, returns
//     without touching anything.
//   - Admission goes through [executor.SubmitContext] with the request's
//     context, so a client that leaves while Submit waits for room gives
//     that room up at once (without a goroutine for executors that
//     implement [executor.ContextSubmitter]). With Handler.LIFO, a
//     request waiting on the Handler's own list leaves it at once too.
//   - A panic in the wrapped handler is raised again on net/http's goroutine,
//     so net/http handles it as it would without the executor: the
//     connection is closed, and http.ErrAbortHandler is passed on unchanged.
//     The executor never sees it.
//
// # Rejected requests
//
// When the wrapped handler will not run and the client is still there, the
// client gets, unless Handler.Reject shapes the reply itself:
//
//   - executor.ErrOverloaded: 503 Service Unavailable with a Retry-After
//     header (see Handler.RetryAfter);
//   - executor.ErrClosed: 503 Service Unavailable with Connection: close,
//     since a closed executor means the server is going away;
//   - ErrWaitBudget (Handler.MaxWait passed before a worker was free), or
//     the request's context ending for another reason than the client
//     leaving (a deadline): 503 Service Unavailable with Retry-After;
//   - any other error: 500 Internal Server Error.
//
// # Bounding the wait
//
// With a blocking executor a request waits for room as long as its context
// lasts. Handler.MaxWait bounds that wait, in Submit and in the queue
// together, in the spirit of the CoDel variant Facebook runs in its servers
// (Ben Maurer, "Fail at Scale", ACM Queue 13(8), 2015,
// https://queue.acm.org/detail.cfm?id=2839461; the algorithm is Nichols and
// Jacobson's "Controlling Queue Delay", ACM Queue 10(5), 2012): a request
// that has waited too long is worth less than a fast 503, and one that a
// worker reaches after its budget is dropped at dequeue instead of being
// served late. Handler.Target adds the part of Facebook's variant that
// adapts the budget (folly::Codel): while the queue stands (no request got
// through it in less than Target for a whole Interval, 100 ms by default),
// a request that a worker reaches after more than 2*Target is dropped at
// dequeue; otherwise MaxWait alone applies. A queue that absorbs a burst
// still holds requests up to MaxWait, and one that stays full serves
// requests that waited at most about 2*Target, instead of every served
// request waiting nearly MaxWait. Without a Target the budget is fixed.
// When the executor has a
// SubmitSampled(ctx, func() executor.Outcome) error method (as
// executor/adaptive's does), tasks go through it and report how each
// request ended. One dropped without running the handler reports
// executor.Ignored: an adaptive limit then takes no sample from it, as
// from a refusal, instead of timing it as a request served in no time.
// One whose context ended while its handler ran (its client left, or a
// deadline set by a middleware or a server's timeout passed) reports
// executor.Dropped, its work lost, as Netflix's gRPC interceptor reports a
// canceled or DEADLINE_EXCEEDED call: AIMD backs off on it.
// Behind a MaxWait, give a Gradient2 limit adaptive.QueuedGradient2Config:
// the requests it holds back wait here, so it need leave no room for them
// inside the downstream.
//
// # The order of waiting: adaptive LIFO
//
// Handler.LIFO adds the other half of Facebook's scheme, adaptive LIFO
// ("Fail at Scale": "during normal operating conditions requests are
// processed in FIFO order, but when a queue is starting to form, the
// server switches to LIFO mode"), in the shape of Netflix's
// LifoBlockingLimiter (concurrency-limits): a request the executor refuses
// at once (TrySubmit) waits on a list of the Handler's own, and each place
// that frees goes to the oldest waiter while no waiter has waited longer
// than Target, and to the newest while one has or CoDel's verdict is
// overloaded (always to the newest without a Target). Under overload the
// requests served are then those that waited least, and the oldest get
// ErrWaitBudget at MaxWait, having held no worker. The executor still
// decides when a place frees: one waiter at a time waits in its
// SubmitContext and, once admitted, passes its turn to the next in the
// order, so a waiter never sleeps while the executor has room for it
// unless another waiter or a newcomer is taking that room. It needs an
// executor with TrySubmit (TrySubmitSampled for one with SubmitSampled);
// with any other, LIFO is ignored.
//
// MaxWait bounds only the wait for a worker: a handler that then waits on
// something else (a database's connection pool, a downstream's slots) is
// not bounded by it.
//
// The package does not import go.uber.org/fx or any backend; it works with
// any Executor.
package executorhttp
