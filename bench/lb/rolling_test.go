package lb

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/bench/internal/demorun"
	"github.com/swapexec/swapexec/bench/internal/demorun/demoruntest"
	"github.com/swapexec/swapexec/bench/internal/haproxy"
)

var (
	outFile    = flag.String("out", "", "also write the rolling restart's figures as Markdown to this `file`")
	loadFor    = flag.Duration("lb.duration", 10*time.Second, "how long the load runs; the three restarts must fit in it")
	drainDelay = flag.Duration("lb.drain-delay", time.Second, "httpdemo -drain-delay of the replicas; one that breaks the rule makes a control run, which should fail")
	retries    = flag.Int("lb.retries", 3, "HAProxy's retries (with option redispatch 1); 0 for a control run without them")
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The setup of TestRollingRestart.
var (
	// One replica per backend, so a restart exercises each one's drain.
	replicaBackends = []string{"chanpool", "ants", "pond"}
	checks          = checkSettings{Inter: 200 * time.Millisecond, Fall: 2, Rise: 2, Timeout: 250 * time.Millisecond}
)

const (
	// ruleMargin is the slack CheckDrainDelay wants on top of HAProxy's
	// worst detection time: a shared machine may run a check late.
	ruleMargin      = 200 * time.Millisecond
	shutdownTimeout = 10 * time.Second
	workers         = 4
	sleep           = 300 * time.Millisecond // httpdemo -sleep: /sleep requests are in flight at every SIGTERM
	pageRate        = 200                    // GET / per second
	sleepRate       = 20                     // GET /sleep per second: about 6 in flight
	leadIn          = time.Second            // steady load before the first restart
	requestTimeout  = 10 * time.Second
	stateWait       = 10 * time.Second // bound on each wait for HAProxy to see a server change state
)

// restart is what one replica's restart measured.
type restart struct {
	Name, Backend, Addr string
	DownAfter           time.Duration // SIGTERM to HAProxy's DOWN
	ExitAfter           time.Duration // SIGTERM to exit 0
	HTTPDrain           time.Duration // the replica's "http server drained" took: Shutdown, after the drain delay
	ExecDrain           time.Duration // its "executor drained" took
	Submitted           int64         // its executor's lifetime count, from the same log line
	Completed           int64
	UpAfter             time.Duration // new process listening to HAProxy's UP
}

// TestRollingRestart restarts three httpdemo replicas, one at a time,
// behind HAProxy under steady load, and requires that no client sees
// anything but a 200. See the package doc for the setup and the rule it
// checks.
func TestRollingRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds httpdemo and runs HAProxy: skipped with -short")
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy is not on PATH, so the rolling restart behind a load balancer is not tested; " +
			"install it to run this test (Debian, Ubuntu: apt-get install -y haproxy)")
	}
	control := checks.CheckDrainDelay(*drainDelay, ruleMargin)
	if control != nil {
		t.Logf("control run, the rule broken on purpose; expect failures: %v", control)
	}
	bin := demoruntest.Build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	replicas := make([]*demorun.Server, len(replicaBackends))
	names := make([]string, len(replicaBackends))
	servers := map[string]string{}
	for i, backend := range replicaBackends {
		names[i] = fmt.Sprintf("r%d-%s", i, backend)
		replicas[i] = startReplica(t, bin, "127.0.0.1:0", backend)
		servers[names[i]] = replicas[i].Addr
	}
	frontend, err := haproxy.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := haproxy.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfg := haproxyConfig{Frontend: frontend, Stats: stats, Servers: servers, Check: checks, Retries: *retries}
	h, err := startHAProxy(cfg.render(), stats)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	allUp := func(st map[string]serverStat) bool {
		for _, n := range names {
			if st["replicas/"+n].Status != "UP" {
				return false
			}
		}
		return true
	}
	wctx, wcancel := context.WithTimeout(ctx, stateWait)
	_, err = h.waitStatus(wctx, "every replica UP", allUp)
	wcancel()
	if err != nil {
		t.Fatalf("%v; haproxy's output:\n%s", err, h.Output())
	}

	// Steady load through HAProxy: pages, and slow pages that are in
	// flight whenever a replica gets its SIGTERM.
	client := demorun.NewClient(requestTimeout)
	defer client.CloseIdleConnections()
	plans := []demorun.Plan{
		{Label: fmt.Sprintf("GET / %d/s", pageRate), URL: "http://" + frontend + "/", Rate: pageRate,
			Workers: 10, MaxWorkers: 1000, Duration: *loadFor, MaxReqs: 1 << 30, Timeout: requestTimeout},
		{Label: fmt.Sprintf("GET /sleep %d/s", sleepRate), URL: "http://" + frontend + "/sleep", Rate: sleepRate,
			Workers: 10, MaxWorkers: 1000, Duration: *loadFor, MaxReqs: 1 << 30, Timeout: requestTimeout},
	}
	results := make([]demorun.Result, len(plans))
	var wg sync.WaitGroup
	loadStart := time.Now()
	for i, p := range plans {
		wg.Add(1)
		go func(i int, p demorun.Plan) {
			defer wg.Done()
			results[i] = demorun.Attack(client, p, "lb:", testWriter{t})
		}(i, p)
	}

	// A fixed lead-in: the restarts should begin under load that has
	// settled, not with the first requests.
	lead := time.NewTimer(leadIn)
	<-lead.C
	var restarts []restart
	for i := range replicas {
		r, next, err := restartReplica(ctx, t, h, bin, names[i], replicaBackends[i], replicas[i])
		if next != nil {
			replicas[i] = next
		}
		restarts = append(restarts, r)
		if err != nil {
			t.Error(err)
			break
		}
	}
	restartsTook := time.Since(loadStart)
	wg.Wait()
	loadTook := time.Since(loadStart)
	if restartsTook > *loadFor {
		t.Errorf("the restarts ended %s into the load, after it stopped sending at %s: raise -lb.duration", restartsTook.Round(time.Millisecond), *loadFor)
	}

	st, statsErr := h.Stats()
	if statsErr != nil {
		t.Error(statsErr)
	} else if be := st["replicas/BACKEND"]; be.Retries != 0 || be.Redispatches != 0 {
		// Each is a request that found a replica no longer listening:
		// HAProxy's retries hid it from the client this time.
		t.Errorf("HAProxy retried %d and redispatched %d requests; want none: the drain delay should have covered HAProxy's detection",
			be.Retries, be.Redispatches)
	}
	var total demorun.Result
	for i, r := range results {
		total.Sent += r.Sent
		total.OK += r.OK
		total.Shed += r.Shed
		total.Failed += r.Failed
		if r.Sent == 0 || r.OK != r.Sent {
			t.Errorf("%s: sent %d, 200 %d, 503 %d, failed %d (%v); want every response a 200", plans[i].Label, r.Sent, r.OK, r.Shed, r.Failed, r.Errors)
		}
	}
	// Stop the new replicas too, all at once: their drains are part of
	// the contract.
	stopErrs := make([]error, len(replicas))
	for i, s := range replicas {
		wg.Add(1)
		go func(i int, s *demorun.Server) {
			defer wg.Done()
			if stopErrs[i] = s.Stop(); stopErrs[i] == nil {
				stopErrs[i] = drained(s)
			}
		}(i, s)
	}
	wg.Wait()
	for i, err := range stopErrs {
		if err != nil {
			t.Errorf("%s: final stop: %v", names[i], err)
		}
	}
	if t.Failed() {
		t.Logf("haproxy's output:\n%s", h.Output())
	}

	report := rollingReport{Config: cfg.render(), Plans: plans, Results: results, Total: total, Restarts: restarts,
		Stats: st, Names: names, RestartsTook: restartsTook, LoadTook: loadTook, Control: control, Failed: t.Failed()}
	t.Logf("\n%s", report.markdown())
	if *outFile != "" {
		if err := os.WriteFile(*outFile, []byte(report.markdown()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// startReplica starts an httpdemo replica of backend on addr and kills it
// when the test ends if it still runs.
func startReplica(t *testing.T, bin, addr, backend string) *demorun.Server {
	t.Helper()
	s, err := demorun.Start(bin, addr, shutdownTimeout, "-backend", backend, "-workers", fmt.Sprint(workers),
		"-drain-delay", drainDelay.String(), "-sleep", sleep.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	return s
}

// restartReplica stops old with SIGTERM while it watches HAProxy mark it
// DOWN, checks that it exited 0 with its executor drained, starts a new
// replica on the same address and waits until HAProxy marks that UP. It
// returns what it measured, the new replica if one started, and the first
// thing that went wrong.
func restartReplica(ctx context.Context, t *testing.T, h *proxy, bin, name, backend string, old *demorun.Server) (restart, *demorun.Server, error) {
	r := restart{Name: name, Backend: backend, Addr: old.Addr}
	term := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- old.Stop() }()

	wctx, cancel := context.WithTimeout(ctx, stateWait)
	down, downErr := h.waitStatus(wctx, name+" DOWN", serverStatus(name, "DOWN"))
	cancel()
	stopErr := <-stopped
	r.ExitAfter = time.Since(term)
	if downErr != nil {
		return r, nil, downErr
	}
	r.DownAfter = down
	if stopErr != nil {
		return r, nil, fmt.Errorf("%s: %w", name, stopErr)
	}
	if rec, ok := old.Record("http server drained"); ok {
		r.HTTPDrain = took(rec)
	}
	if rec, ok := old.Record("executor drained"); ok {
		r.ExecDrain = took(rec)
		r.Submitted, r.Completed = count(rec, "submitted"), count(rec, "completed")
	}
	if err := drained(old); err != nil {
		return r, nil, fmt.Errorf("%s: %w", name, err)
	}
	if r.DownAfter >= *drainDelay {
		// HAProxy may have sent requests after the listener closed. The
		// restarts go on, so a control run shows what clients then see.
		t.Errorf("%s: HAProxy marked it DOWN %s after SIGTERM, not within -drain-delay %s", name, r.DownAfter, *drainDelay)
	}

	s, err := demorun.Start(bin, r.Addr, shutdownTimeout, "-backend", backend, "-workers", fmt.Sprint(workers),
		"-drain-delay", drainDelay.String(), "-sleep", sleep.String())
	if err != nil {
		return r, nil, fmt.Errorf("%s: restart on %s: %w", name, r.Addr, err)
	}
	t.Cleanup(s.Kill)
	wctx, cancel = context.WithTimeout(ctx, stateWait)
	r.UpAfter, err = h.waitStatus(wctx, name+" UP", serverStatus(name, "UP"))
	cancel()
	return r, s, err
}

// drained reports an error unless s logged "http server drained" and
// "executor drained" with every submitted task completed.
func drained(s *demorun.Server) error {
	if _, ok := s.Record("http server drained"); !ok {
		return fmt.Errorf("no \"http server drained\" in the log; it ends:\n%s", s.Tail())
	}
	rec, ok := s.Record("executor drained")
	if !ok {
		return fmt.Errorf("no \"executor drained\" in the log; it ends:\n%s", s.Tail())
	}
	if sub, done := count(rec, "submitted"), count(rec, "completed"); sub != done || sub == 0 {
		return fmt.Errorf("executor drained with submitted=%d completed=%d; want equal and above 0", sub, done)
	}
	return nil
}

// took reads a log record's "took": slog's JSON handler writes a duration
// as nanoseconds.
func took(rec map[string]any) time.Duration {
	ns, _ := rec["took"].(float64)
	return time.Duration(ns)
}

func count(rec map[string]any, key string) int64 {
	n, _ := rec[key].(float64)
	return int64(n)
}

// testWriter sends the attack's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// rollingReport is the Markdown record of one run.
type rollingReport struct {
	Config       string
	Plans        []demorun.Plan
	Results      []demorun.Result
	Total        demorun.Result
	Restarts     []restart
	Stats        map[string]serverStat
	Names        []string
	RestartsTook time.Duration
	LoadTook     time.Duration
	Control      error // non-nil: the rule was broken on purpose
	Failed       bool
}

func (r rollingReport) markdown() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(&b, "# Rolling restart of three httpdemo replicas behind HAProxy\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- command: `go test ./bench/lb -run RollingRestart -v -args -lb.drain-delay %s -lb.retries %d -lb.duration %s -out <this file>`\n", *drainDelay, *retries, *loadFor)
	fmt.Fprintf(&b, "- %s, %s/%s, %d CPUs (shared with other work); %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), haproxyVersion())
	fmt.Fprintf(&b, "- replicas: httpdemo -backend chanpool / ants / pond -workers %d -sleep %s -drain-delay %s -shutdown-timeout %s, on 127.0.0.1\n",
		workers, sleep, *drainDelay, shutdownTimeout)
	fmt.Fprintf(&b, "- HAProxy checks: GET /readyz every %s, DOWN after %d failures, UP after %d passes, timeout check %s: worst detection %s\n",
		checks.Inter, checks.Fall, checks.Rise, checks.Timeout, checks.WorstDetection())
	if r.Control != nil {
		fmt.Fprintf(&b, "- **control run**: %v\n", r.Control)
	}
	if *retries == 0 {
		fmt.Fprintf(&b, "- **control run**: HAProxy retries 0: no second try for a connection refused\n")
	}
	verdict := "passed: every response a 200, every replica exited 0 with its executor drained"
	if r.Failed {
		verdict = "**failed** (see the test log)"
	}
	fmt.Fprintf(&b, "- result: %s\n\n", verdict)

	fmt.Fprintf(&b, "## Load through HAProxy (vegeta, %s, restarts from %s to %s)\n\n", *loadFor, leadIn, r.RestartsTook.Round(time.Millisecond))
	fmt.Fprintf(&b, "| load | sent | 200 | 503 | other failures | p50 | p99 | max |\n|---|---|---|---|---|---|---|---|\n")
	for i, p := range r.Plans {
		res := r.Results[i]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s | %s |\n", p.Label, res.Sent, res.OK, res.Shed, res.Failed,
			res.OKLat.P50.Round(10*time.Microsecond), res.OKLat.P99.Round(10*time.Microsecond), res.OKLat.Max.Round(10*time.Microsecond))
	}
	fmt.Fprintf(&b, "| total | %d | %d | %d | %d | | | |\n", r.Total.Sent, r.Total.OK, r.Total.Shed, r.Total.Failed)
	for i, res := range r.Results {
		if e := res.TopError(); e != "" {
			fmt.Fprintf(&b, "\n%s: most often %q (%d)\n", r.Plans[i].Label, e, res.Errors[e])
		}
	}

	fmt.Fprintf(&b, "\n## Restarts, one replica at a time\n\n")
	fmt.Fprintf(&b, "SIGTERM → DOWN: until HAProxy's stats showed the replica DOWN (polled every %s); it must be under -drain-delay. "+
		"HTTP drain and executor drain: the replica's own \"took\" log fields. Tasks: its executor's lifetime Submitted = Completed at exit. "+
		"UP after: from the new process listening on the same port to HAProxy's UP.\n\n", pollEvery)
	fmt.Fprintf(&b, "| replica | SIGTERM → DOWN | SIGTERM → exit 0 | HTTP drain | executor drain | tasks | UP after |\n|---|---|---|---|---|---|---|\n")
	for _, x := range r.Restarts {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d/%d | %s |\n", x.Name, ms(x.DownAfter), ms(x.ExitAfter),
			x.HTTPDrain.Round(10*time.Microsecond), x.ExecDrain.Round(time.Microsecond), x.Completed, x.Submitted, ms(x.UpAfter))
	}

	fmt.Fprintf(&b, "\n## HAProxy's counters at the end\n\n")
	fmt.Fprintf(&b, "Sessions: HAProxy's stot, one per request for a server, one per client connection for the frontend. "+
		"Retries and redispatches: requests HAProxy had to send again, another server included, after a failed connection; "+
		"a clean restart needs none.\n\n")
	fmt.Fprintf(&b, "| server | sessions | 2xx | 5xx | retries | redispatches |\n|---|---|---|---|---|---|\n")
	for _, key := range append(append([]string{}, prefixed("replicas/", r.Names)...), "replicas/BACKEND", "web/FRONTEND") {
		s := r.Stats[key]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", key, s.Sessions, s.HTTP2xx, s.HTTP5xx, s.Retries, s.Redispatches)
	}
	fmt.Fprintf(&b, "\n## haproxy.cfg\n\n```\n%s```\n", r.Config)
	return b.String()
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

// haproxyVersion returns the first line of `haproxy -v`.
func haproxyVersion() string {
	out, err := exec.Command("haproxy", "-v").Output()
	if err != nil {
		return "haproxy: " + err.Error()
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}
