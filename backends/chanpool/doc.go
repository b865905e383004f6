// Package chanpool is the hand-rolled executor: the Rust book's thread pool
// (chapter 21, "Turning Our Single-Threaded Server into a Multithreaded
// Server") done in Go and hardened.
//
// A fixed set of Config.Workers goroutines, started by New, receive tasks from
// one channel whose buffer is Config.QueueSize (Workers+QueueSize when
// Nonblocking). Shutdown is the book's "drop the sender, then join": it stops
// intake, lets the workers drain what is queued, and waits for them to exit,
// bounded here by a context. Go cannot drop the sender while a Submit may
// still be sending (closing the channel would make that send panic), and
// counting Submits in flight would cost every Submit a shared atomic write.
// So Submit only reads a flag and sends; the workers stay until none of them
// is running a task (a running task may still submit one more), then leave
// as the channel empties, and the last one fills the channel's buffer with
// nils, running any task it meets, until no send can succeed. Shutdown thus
// costs a channel operation per slot of the buffer, even for an idle pool.
// Nils are also how idle workers are woken to leave: as in the book, a
// worker waiting for a task waits on the channel alone (in a buffered
// pool), which wakes faster than a select on two channels.
//
// Beyond the book: a panicking task is recovered, its value handed to
// Config.PanicHandler through executor.HandlePanic, and its worker keeps
// serving (one deferred recover covers a worker's whole run of tasks, so a
// task that returns pays for none); a task that calls runtime.Goexit ends only its worker's
// goroutine, which is replaced at once; Submit never panics after Shutdown;
// submitters blocked on a full queue are woken by Shutdown; and a Nonblocking
// pool admits exactly Workers+QueueSize outstanding tasks, whether or not the
// workers have reached their receive yet.
//
// Unlike ants and pond, chanpool keeps its workers for its whole life: no
// reaping of idle workers, no spawning on demand.
package chanpool
