package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/adaptive"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// backendNone is the -backend value that uses no executor: handlers run on
// net/http's own goroutines, the baseline for comparisons.
const backendNone = "none"

// The -limit values: a fixed bound (-workers), or one of executor/adaptive's
// algorithms.
const (
	limitFixed     = "fixed"
	limitAIMD      = "aimd"
	limitGradient2 = "gradient2"
)

// limitNames lists every -limit value.
func limitNames() []string { return []string{limitFixed, limitAIMD, limitGradient2} }

// defaultWriteSlack is how much longer than its longest work (-sleep,
// -work-time) a request may take, waiting for a worker included, before the
// server's WriteTimeout cuts its reply.
const defaultWriteSlack = 30 * time.Second

// config is the demo's configuration, from flags and their environment
// variables. parseConfig returns only valid configs.
type config struct {
	Addr            string
	Backend         string // a backends.Names() entry or backendNone
	Workers         int    // 0 means GOMAXPROCS
	Queue           int
	Nonblocking     bool
	ShutdownTimeout time.Duration // > 0; fx's StopTimeout, shared by every OnStop hook
	DrainDelay      time.Duration // in [0, ShutdownTimeout): /readyz is 503 this long before the listener closes
	Sleep           time.Duration // how long /sleep sleeps
	MaxRequests     int           // 0: no limit; n > 0: stop after n page requests
	LogFormat       string        // "text" or "json"

	MaxWait          time.Duration // 0: none (but see startBudget)
	CodelTarget      time.Duration // executorhttp's Target once parsed: 0 (a fixed budget) or in (0, executorhttp.DefaultInterval)
	LIFO             bool          // executorhttp's LIFO once parsed: -lifo, on by default with -max-wait
	WorkSlots        int           // >= 1: the simulated downstream's concurrent slots for /work
	WorkTime         time.Duration // how long /work holds a slot
	WorkSlowdownAt   time.Duration // 0: never; else, this long after listening, /work holds a slot for WorkSlowdownTime
	WorkSlowdownTime time.Duration // > 0 once parsed: 0 given means twice WorkTime
	Limit            string        // limitFixed, limitAIMD or limitGradient2
	LimitMin         int           // adaptive limits only: >= 1
	LimitMax         int           // adaptive limits only: >= LimitMin
	LimitInitial     int           // adaptive limits only: -workers when given, else one per CPU within [-limit-min, -limit-max]
	AIMDTimeout      time.Duration // -limit aimd only: run time past which a request counts as a drop; 0: adaptive's default

	// WriteSlack is not a flag: WriteTimeout is the longest work plus
	// WriteSlack (defaultWriteSlack; tests shorten it).
	WriteSlack time.Duration
}

// defaultConfig is what `go run ./httpdemo` serves with: the book's address
// and its pool of four workers.
func defaultConfig() config {
	return config{
		Addr:            "127.0.0.1:7878",
		Backend:         backends.Default,
		Workers:         4,
		ShutdownTimeout: 30 * time.Second,
		Sleep:           5 * time.Second,
		LogFormat:       "text",
		WorkSlots:       8,
		WorkTime:        10 * time.Millisecond,
		Limit:           limitFixed,
		LimitMin:        adaptive.DefaultMin,
		LimitMax:        adaptive.DefaultMax,
		CodelTarget:     defaultCodelTarget,
		LIFO:            true,
		WriteSlack:      defaultWriteSlack,
	}
}

// defaultCodelTarget is -codel-target's default, applied with -max-wait:
// folly::Codel's default target delay (its codel_target_delay flag).
const defaultCodelTarget = 5 * time.Millisecond

// adaptive reports whether the limit is set by executor/adaptive.
func (c config) adaptive() bool { return c.Limit != limitFixed }

// longestWork is the longest a page's own work takes: /sleep's or /work's.
func (c config) longestWork() time.Duration {
	d := c.Sleep
	if c.WorkTime > d {
		d = c.WorkTime
	}
	if c.WorkSlowdownTime > d {
		d = c.WorkSlowdownTime
	}
	return d
}

// writeTimeout is the server's WriteTimeout: long enough for the longest
// work and a wait for a worker before it.
func (c config) writeTimeout() time.Duration { return c.longestWork() + c.WriteSlack }

// replyMargin is the part of WriteSlack kept for writing a reply: a request
// that has not started when only this much is left is turned away while a
// 503 can still reach its client.
func (c config) replyMargin() time.Duration {
	if m := c.WriteSlack / 4; m < time.Second {
		return m
	}
	return time.Second
}

// startBudget is the longest a page request can wait for a worker and
// still have its reply delivered before WriteTimeout: one that waited
// longer gets a 503 it can still read instead of doing work nobody
// receives (issue 13, defect 1; see startGuard).
func (c config) startBudget() time.Duration { return c.WriteSlack - c.replyMargin() }

// maxWait is the MaxWait given to executorhttp: -max-wait, at most
// startBudget. It is 0 without -max-wait, so that no request pays for a
// timer: startGuard's check, when a worker starts the request, is then
// what keeps work that cannot be delivered from starting.
func (c config) maxWait() time.Duration {
	if b := c.startBudget(); c.MaxWait > b {
		return b
	}
	return c.MaxWait
}

// backendNames lists every -backend value: the registry's, then none.
func backendNames() []string { return append(backends.Names(), backendNone) }

// envPrefix starts every environment variable the flags fall back to.
const envPrefix = "SWAPEXEC_"

// envName returns the environment variable of flag name: -max-requests
// falls back to SWAPEXEC_MAX_REQUESTS.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parseConfig reads the flags in args over the environment (lookupEnv, as
// os.LookupEnv) over the defaults. It writes usage to out for -h and returns
// flag.ErrHelp; any invalid value returns an error naming the flag or
// environment variable, the value and what is allowed.
func parseConfig(args []string, lookupEnv func(string) (string, bool), out io.Writer) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("httpdemo", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, usage printed below
	fs.Var(&addrValue{&cfg.Addr}, "addr", "`host:port` to listen on; port 0 picks a free port, an empty host every interface (\":7878\")")
	fs.Var(&choiceValue{&cfg.Backend, backendNames()}, "backend",
		"`name` of the executor that runs the handlers: "+strings.Join(backendNames(), ", ")+"\n(none: net/http's own goroutines, the baseline)")
	fs.Var(&intValue{&cfg.Workers, 0, "0 (one per CPU) or more"}, "workers", "serve at most `n` requests at once (0: one per CPU; ignored by -backend none;\nwith an adaptive -limit, where the limit starts)")
	fs.Var(&intValue{&cfg.Queue, 0, "0 (no queue) or more"}, "queue", "let at most `n` accepted requests wait for a worker")
	fs.Var(&boolValue{&cfg.Nonblocking}, "nonblocking", "when workers and queue are full, reply 503 with Retry-After at once instead of waiting")
	fs.Var(&durationValue{&cfg.ShutdownTimeout, time.Nanosecond, "a positive duration such as 30s"}, "shutdown-timeout",
		"allow `duration` for a whole graceful stop: the HTTP server drains first, then the executor")
	fs.Var(&durationValue{&cfg.DrainDelay, 0, "a duration of 0 or more, such as 5s"}, "drain-delay",
		"after /readyz turns 503, keep serving for `duration` before closing the listener, so load balancers\nsee it (0: close at once; part of -shutdown-timeout)")
	fs.Var(&durationValue{&cfg.Sleep, 0, "a duration of 0 or more, such as 5s"}, "sleep", "make GET /sleep wait `duration` before it replies")
	fs.Var(&intValue{&cfg.MaxRequests, 0, "0 (no limit) or more"}, "max-requests",
		"stop gracefully after `n` page requests (/, /sleep, /work, 404s), as the book's take(2); 0: no limit")
	fs.Var(&choiceValue{&cfg.LogFormat, []string{"text", "json"}}, "log-format", "log `format`: text or json (log/slog)")
	fs.Var(&durationValue{&cfg.MaxWait, 0, "a duration of 0 or more, such as 30ms"}, "max-wait",
		"reply 503 with Retry-After to a page request that waited `duration` for a worker, in Submit and in the\nqueue together (0: no bound; even then, a request a worker reaches after "+cfg.startBudget().String()+" gets 503 instead\nof work whose reply would miss the server's WriteTimeout; more than that counts as "+cfg.startBudget().String()+")")
	fs.Var(&durationValue{&cfg.CodelTarget, 0, "a duration of 0 or more, below " + executorhttp.DefaultInterval.String() + ", such as 5ms"}, "codel-target",
		"with -max-wait, Facebook's CoDel target `duration`: once no page request has waited less than it for a\n"+
			"whole "+executorhttp.DefaultInterval.String()+" (the queue stands), one a worker reaches after twice it gets 503, until the queue\n"+
			"drains; -max-wait alone applies otherwise (0: -max-wait is a fixed budget; given without -max-wait,\n"+
			"CoDel alone bounds the wait under overload)")
	fs.Var(&boolValue{&cfg.LIFO}, "lifo",
		"with -max-wait, Facebook's adaptive LIFO: page requests that find every worker busy wait first in first\n"+
			"out until a queue stands (one waited over -codel-target, or CoDel sheds), then newest first, so those\n"+
			"served waited least and the oldest get 503 at -max-wait (-lifo=false: always first in first out;\n"+
			"-codel-target 0: always newest first, as Netflix's LifoBlockingLimiter)")
	fs.Var(&intValue{&cfg.WorkSlots, 1, "1 or more"}, "work-slots",
		"GET /work calls a simulated downstream that serves `n` requests at once; the others wait for a slot")
	fs.Var(&durationValue{&cfg.WorkTime, 0, "a duration of 0 or more, such as 10ms"}, "work-time",
		"each /work request holds a downstream slot for `duration` (capacity: work-slots / work-time per second)")
	fs.Var(&durationValue{&cfg.WorkSlowdownAt, 0, "a duration of 0 or more, such as 40s"}, "work-slowdown-at",
		"`duration` after listening, the downstream slows down: /work holds a slot for -work-slowdown-time\nfrom then on (0: never)")
	fs.Var(&durationValue{&cfg.WorkSlowdownTime, 0, "a duration of 0 or more, such as 20ms"}, "work-slowdown-time",
		"/work's slot time after -work-slowdown-at: `duration` (0: twice -work-time)")
	fs.Var(&choiceValue{&cfg.Limit, limitNames()}, "limit",
		"how the bound on running requests is set: `name` is "+strings.Join(limitNames(), ", ")+"\n(fixed: -workers; aimd, gradient2: adaptive, between -limit-min and -limit-max,\nstarting at -workers if given, else at one per CPU; pair them with -max-wait or -nonblocking;\nunder -max-wait, gradient2 runs adaptive.QueuedGradient2Config, else Netflix's defaults)")
	fs.Var(&intValue{&cfg.LimitMin, 1, "1 or more"}, "limit-min", "an adaptive -limit never goes below `n`")
	fs.Var(&intValue{&cfg.LimitMax, 1, "1 or more"}, "limit-max", "an adaptive -limit never goes above `n`")
	fs.Var(&durationValue{&cfg.AIMDTimeout, 0, "a duration of 0 or more, such as 50ms"}, "aimd-timeout",
		"with -limit aimd, a request that ran longer than `duration` counts as a drop, and the limit backs off,\nas it does for one whose client left or whose deadline passed while it ran\n(0: Netflix's 5s, which a downstream that slows down but never fails may never reach)")

	// Each flag falls back to its environment variable, checked the same
	// way; a flag on the command line wins.
	var errs []error
	given := map[string]bool{} // flags set by the command line or the environment
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v, ok := lookupEnv(env); ok {
			given[f.Name] = true
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("invalid value %q for environment variable %s (flag -%s): %w", v, env, f.Name, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, out)
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q: httpdemo takes only flags", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if cfg.DrainDelay >= cfg.ShutdownTimeout {
		return cfg, fmt.Errorf("-drain-delay %v must be shorter than -shutdown-timeout %v, which it is part of", cfg.DrainDelay, cfg.ShutdownTimeout)
	}
	if !given["codel-target"] && cfg.MaxWait == 0 {
		cfg.CodelTarget = 0 // CoDel comes with a wait budget unless asked for alone
	}
	if !given["lifo"] && cfg.MaxWait == 0 {
		cfg.LIFO = false // so does LIFO: without a budget its oldest waiters could wait forever
	}
	if cfg.CodelTarget >= executorhttp.DefaultInterval {
		return cfg, fmt.Errorf("-codel-target %v must be below CoDel's interval, %v", cfg.CodelTarget, executorhttp.DefaultInterval)
	}
	if cfg.WorkSlowdownTime == 0 {
		cfg.WorkSlowdownTime = 2 * cfg.WorkTime
	}
	if err := checkSizes(cfg); err != nil {
		return cfg, err
	}
	if err := checkLimit(&cfg, given); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// checkSizes refuses -workers and -queue beyond what every executor accepts,
// here, with the flags' names, rather than as a failed start.
func checkSizes(cfg config) error {
	if cfg.Backend == backendNone {
		return nil
	}
	const most = executor.MaxCapacity
	if cfg.Queue > most || cfg.Workers > most-cfg.Queue {
		return fmt.Errorf("-workers %d and -queue %d: want -workers plus -queue at most %d (executor.MaxCapacity); a queue slot costs about 8 bytes, allocated at start",
			cfg.Workers, cfg.Queue, most)
	}
	return nil
}

// checkLimit checks the -limit flags together, and sets an adaptive
// limit's LimitInitial: -workers when given, else one per CPU.
func checkLimit(cfg *config, given map[string]bool) error {
	if cfg.Backend == backendNone {
		if cfg.adaptive() {
			return fmt.Errorf("-limit %s needs an executor to resize: want another -backend than %s", cfg.Limit, backendNone)
		}
		for _, name := range []string{"max-wait", "codel-target", "lifo"} {
			if given[name] {
				return fmt.Errorf("-%s bounds the wait for an executor's worker: want another -backend than %s", name, backendNone)
			}
		}
	}
	if given["aimd-timeout"] && cfg.Limit != limitAIMD {
		return fmt.Errorf("-aimd-timeout applies only to -limit %s, not -limit %s", limitAIMD, cfg.Limit)
	}
	if !cfg.adaptive() {
		for _, name := range []string{"limit-min", "limit-max"} {
			if given[name] {
				return fmt.Errorf("-%s applies only to an adaptive limit: want -limit %s or %s with it, not -limit %s",
					name, limitAIMD, limitGradient2, cfg.Limit)
			}
		}
		return nil
	}
	if cfg.LimitMin > cfg.LimitMax {
		return fmt.Errorf("-limit-min %d must not be above -limit-max %d", cfg.LimitMin, cfg.LimitMax)
	}
	if most := executor.MaxCapacity - cfg.Queue; cfg.LimitMax > most {
		return fmt.Errorf("-limit-max %d with -queue %d: want -limit-max plus -queue at most %d", cfg.LimitMax, cfg.Queue, executor.MaxCapacity)
	}
	if given["workers"] && cfg.Workers > 0 {
		if cfg.Workers < cfg.LimitMin || cfg.Workers > cfg.LimitMax {
			return fmt.Errorf("-workers %d is where -limit %s starts: want it between -limit-min %d and -limit-max %d",
				cfg.Workers, cfg.Limit, cfg.LimitMin, cfg.LimitMax)
		}
		cfg.LimitInitial = cfg.Workers
	} else {
		// One per CPU, as a fixed -workers 0, not Netflix's 20: a limit
		// grows only while in use, so starting low it follows what load
		// shows is needed, and the first overload does not run at a limit
		// no load has tried.
		cfg.LimitInitial = min(max(runtime.GOMAXPROCS(0), cfg.LimitMin), cfg.LimitMax)
	}
	return nil
}

// usage writes the help for -h: every flag, its default and its
// environment variable.
func usage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprintf(out, `httpdemo serves the Rust book's hello page, running each request on a swapexec executor.

Usage: httpdemo [flags]

Routes: GET|HEAD / (hello.html), /sleep (hello.html after -sleep), /work (hello.html after a call to
a simulated downstream: -work-slots, -work-time), any other path 404.html;
/healthz, /readyz (503 once shutdown begins), /metrics (Prometheus).

An adaptive -limit (aimd, gradient2) bounds how many requests run, not how long the others wait:
pair it with -max-wait (e.g. 30ms) or -nonblocking, or requests still queue without bound in a
blocking Submit. -max-wait comes with CoDel (-codel-target 5ms): while the queue stands, requests
that waited over 10ms get 503, so those served waited little; -codel-target 0 keeps the budget fixed.
-max-wait also comes with adaptive LIFO (-lifo): once a queue stands, the newest waiting request is
served first and the oldest get 503 at -max-wait; -lifo=false keeps the wait first in first out.

SIGINT or SIGTERM stops gracefully; a second signal exits at once.

Flags (each falls back to the environment variable shown; a flag wins):
`)
	fs.SetOutput(out)
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " [$" + envName(f.Name) + "]"
	})
	fs.PrintDefaults()
}

// intValue is an int flag that rejects values below min.
type intValue struct {
	p       *int
	min     int
	allowed string
}

func (v *intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < v.min {
		return fmt.Errorf("want %s", v.allowed)
	}
	*v.p = n
	return nil
}

// durationValue is a time.Duration flag that rejects values below min.
type durationValue struct {
	p       *time.Duration
	min     time.Duration
	allowed string
}

func (v *durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < v.min {
		return fmt.Errorf("want %s", v.allowed)
	}
	*v.p = d
	return nil
}

// addrValue is the -addr flag: a host:port, never empty, so that an unset
// variable in a templated SWAPEXEC_ADDR= cannot bind every interface on a
// random port (issue 13, defect 7).
type addrValue struct{ p *string }

func (v *addrValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *addrValue) Set(s string) error {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return errors.New(`want host:port, such as 127.0.0.1:7878 or ":7878" for every interface`)
	}
	*v.p = s
	return nil
}

// choiceValue is a string flag that accepts only one of choices.
type choiceValue struct {
	p       *string
	choices []string
}

func (v *choiceValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *choiceValue) Set(s string) error {
	for _, c := range v.choices {
		if s == c {
			*v.p = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(v.choices, ", "))
}

// boolValue is a bool flag whose error says what is allowed.
type boolValue struct{ p *bool }

func (v *boolValue) IsBoolFlag() bool { return true }

func (v *boolValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatBool(*v.p)
}

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return errors.New("want true or false")
	}
	*v.p = b
	return nil
}
