package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/swapexec/swapexec/backends"
)

// backendNone is the -backend value that uses no executor: handlers run on
// net/http's own goroutines, the baseline for comparisons.
const backendNone = "none"

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
	}
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
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "`host:port` to listen on; port 0 picks a free port")
	fs.Var(&choiceValue{&cfg.Backend, backendNames()}, "backend",
		"`name` of the executor that runs the handlers: "+strings.Join(backendNames(), ", ")+"\n(none: net/http's own goroutines, the baseline)")
	fs.Var(&intValue{&cfg.Workers, 0, "0 (one per CPU) or more"}, "workers", "serve at most `n` requests at once (0: one per CPU; ignored by -backend none)")
	fs.Var(&intValue{&cfg.Queue, 0, "0 (no queue) or more"}, "queue", "let at most `n` accepted requests wait for a worker")
	fs.Var(&boolValue{&cfg.Nonblocking}, "nonblocking", "when workers and queue are full, reply 503 with Retry-After at once instead of waiting")
	fs.Var(&durationValue{&cfg.ShutdownTimeout, time.Nanosecond, "a positive duration such as 30s"}, "shutdown-timeout",
		"allow `duration` for a whole graceful stop: the HTTP server drains first, then the executor")
	fs.Var(&durationValue{&cfg.DrainDelay, 0, "a duration of 0 or more, such as 5s"}, "drain-delay",
		"after /readyz turns 503, keep serving for `duration` before closing the listener, so load balancers\nsee it (0: close at once; part of -shutdown-timeout)")
	fs.Var(&durationValue{&cfg.Sleep, 0, "a duration of 0 or more, such as 5s"}, "sleep", "make GET /sleep wait `duration` before it replies")
	fs.Var(&intValue{&cfg.MaxRequests, 0, "0 (no limit) or more"}, "max-requests",
		"stop gracefully after `n` page requests (/, /sleep, 404s), as the book's take(2); 0: no limit")
	fs.Var(&choiceValue{&cfg.LogFormat, []string{"text", "json"}}, "log-format", "log `format`: text or json (log/slog)")

	// Each flag falls back to its environment variable, checked the same
	// way; a flag on the command line wins.
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v, ok := lookupEnv(env); ok {
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
	if cfg.DrainDelay >= cfg.ShutdownTimeout {
		return cfg, fmt.Errorf("-drain-delay %v must be shorter than -shutdown-timeout %v, which it is part of", cfg.DrainDelay, cfg.ShutdownTimeout)
	}
	return cfg, nil
}

// usage writes the help for -h: every flag, its default and its
// environment variable.
func usage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprintf(out, `httpdemo serves the Rust book's hello page, running each request on a swapexec executor.

Usage: httpdemo [flags]

Routes: GET|HEAD / (hello.html), /sleep (hello.html after -sleep), any other path 404.html;
/healthz, /readyz (503 once shutdown begins), /metrics (Prometheus).
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
