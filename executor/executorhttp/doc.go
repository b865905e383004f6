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
//   - A request whose client has gone (its context is done) before its task
//     starts is skipped: the wrapped handler is not called and nothing is
//     written. A request abandoned while queued releases net/http's goroutine
//     at once; its task, when a worker reaches it, returns without touching
//     anything.
//   - A panic in the wrapped handler is raised again on net/http's goroutine,
//     so net/http handles it as it would without the executor: the
//     connection is closed, and http.ErrAbortHandler is passed on unchanged.
//     The executor never sees it.
//
// # Rejected requests
//
// When Submit fails, the wrapped handler does not run and the client gets:
//
//   - executor.ErrOverloaded: 503 Service Unavailable with a Retry-After
//     header (see Handler.RetryAfter);
//   - executor.ErrClosed: 503 Service Unavailable with Connection: close,
//     since a closed executor means the server is going away;
//   - any other error: 500 Internal Server Error.
//
// The package does not import go.uber.org/fx or any backend; it works with
// any Executor.
package executorhttp
