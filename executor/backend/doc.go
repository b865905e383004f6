// Package backend holds what the authors of an executor.Executor need and its
// callers do not, as database/sql/driver does for database drivers: config
// validation with the contract's defaults ([Normalize], [CheckResize]),
// panic recovery that keeps the contract ([RunTask], [HandlePanic]), and the
// counters behind executor.Stats ([Counters], [Monotonic]).
//
// A backend's constructor starts with Normalize, runs every task through
// RunTask (or recovers panics itself and hands each value to HandlePanic),
// and proves the result with executortest.Run:
//
//	func New(cfg executor.Config) (*Pool, error) {
//		cfg, err := backend.Normalize(cfg)
//		if err != nil {
//			return nil, fmt.Errorf("mypool: %w", err)
//		}
//		...
//	}
//
// Programs that only submit tasks import executor and a backend (or the
// backends registry), never this package.
package backend
