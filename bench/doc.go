// Package bench compares swapexec's backends with each other and with plain
// Go baselines. The comparisons are benchmarks; this package holds only the
// workload definitions that both the benchmarks and the report command
// (bench/cmd/report) use.
//
// # Running
//
// From the repository root:
//
//	go test -run '^$' -bench . ./bench                 # everything, once
//	go test -run '^$' -bench . -benchtime 1x ./bench   # smoke run (CI), about a minute
//	go run ./bench/cmd/report                          # run -count 6 and write bench/results
//
// Every benchmark name carries its dimensions as key=value, so benchstat can
// slice them:
//
//	go test -run '^$' -bench . -count 6 ./bench > out.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl out.txt
//
// # Implementations (the impl= dimension)
//
// Every name in backends.Names(), built with backends.New and driven only
// through the executor API, beside four baselines that show what the pools
// cost and save:
//
//   - direct: the submitter calls the task itself (no concurrency; left out
//     of the sleeping shapes, where it would take hours);
//   - gopertask: a new goroutine per task, unbounded;
//   - errgroup: golang.org/x/sync/errgroup with SetLimit(Workers), a goroutine
//     per task behind a semaphore, no queue;
//   - barechan: Workers goroutines ranging over a chan func() buffered to
//     QueueSize, with nothing added.
//
// # Workloads
//
//   - BenchmarkTiny: each task is one atomic add; one op is one task, from
//     submitters=1 goroutine or from 8×GOMAXPROCS goroutines (RunParallel),
//     with Workers 4 and QueueSize 1024. The time includes the final Shutdown,
//     amortised over b.N tasks.
//   - BenchmarkCPU: the same, with a task of a fixed spin loop
//     ([SpinIterations] rounds of xorshift, about 1µs on the 2-core machine
//     the committed results come from; impl=direct shows its cost there).
//   - BenchmarkAntsShape: ants' published benchmark, 1,000,000 tasks that
//     each sleep 10ms on 50,000 workers, no queue, one submitter.
//   - BenchmarkPondShape: pond's published shapes, users×tasks-per-user of
//     1×1M, 100×10K, 1K×1K, 10K×100 and 1M×1, each task sleeping 10ms, on
//     200,000 workers with a queue of 1,000,000 (pond's own benchmark
//     configuration).
//
// In the two shape benchmarks one op is the whole shape: build the executor,
// submit every task, Shutdown (which waits for them all). They report, beside
// ns/op, B/op and allocs/op, peak-B (the most heap-object and stack bytes in
// use during the op, above what was in use when it began, sampled every
// millisecond) and peak-goroutines (likewise for the goroutine count).
//
// # Scale
//
// The shapes are divided by the scale factor in the environment variable
// SWAPEXEC_BENCH_SCALE (default 10: 100,000 tasks on 5,000 workers for ants'
// shape), so that the smoke run fits a 2-core CI machine. Tasks, users and
// workers are divided alike, so each shape keeps its ratio of tasks to
// workers. SWAPEXEC_BENCH_SCALE=1 runs the published sizes, which needs about
// 6 GiB of memory (a million sleeping goroutines for gopertask). The scale is
// written into each shape benchmark's name (scale=1:10) and, as a
// "swapexec-scale" configuration line, into the benchmark output.
package bench
