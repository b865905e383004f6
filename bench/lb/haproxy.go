package lb

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/swapexec/swapexec/bench/internal/haproxy"
)

// checkSettings are the HAProxy health-check settings for the replicas.
type checkSettings struct {
	Inter   time.Duration // time between two checks of one server
	Fall    int           // failed checks in a row that mark a server DOWN
	Rise    int           // passed checks in a row that mark it UP again
	Timeout time.Duration // HAProxy's timeout check: the longest one check may take
}

// WorstDetection is the longest HAProxy can take, after a replica's /readyz
// turns 503, to mark it DOWN: up to one interval until the next check, then
// Fall checks an interval apart, the last of which may take Timeout.
func (c checkSettings) WorstDetection() time.Duration {
	return time.Duration(c.Fall)*c.Inter + c.Timeout
}

// CheckDrainDelay reports an error unless drainDelay leaves HAProxy time to
// mark a replica DOWN before its listener closes, with margin to spare.
func (c checkSettings) CheckDrainDelay(drainDelay, margin time.Duration) error {
	if need := c.WorstDetection() + margin; drainDelay < need {
		return fmt.Errorf("lb: -drain-delay %s is too short for inter %s × fall %d + timeout check %s + margin %s = %s",
			drainDelay, c.Inter, c.Fall, c.Timeout, margin, need)
	}
	return nil
}

// haproxyConfig is one HAProxy configuration: a frontend, a stats page and
// one backend with its servers.
type haproxyConfig struct {
	Frontend string            // host:port HAProxy listens on for the load
	Stats    string            // host:port of its stats page (/stats, and /stats;csv)
	Servers  map[string]string // server name -> host:port
	Check    checkSettings
	Retries  int // HAProxy's retries, with option redispatch 1; 0: none
}

// render returns the configuration file's text. The servers come in name
// order, so the text is stable.
func (c haproxyConfig) render() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }
	fmt.Fprintf(&b, `global
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    # Log only errors and abnormal sessions: a clean run logs nothing.
    option dontlog-normal
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check %s
    # A connection refused or reset while connecting is retried, on
    # another server (redispatch): a safety net, not the plan; the drain
    # delay is. The stats count every retry.
    retries %d
    option redispatch 1

frontend stats
    bind %s
    stats enable
    stats uri /stats
    stats refresh 1s

frontend web
    bind %s
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    # drain-delay > inter × fall + timeout check (see package lb's doc).
    default-server check inter %s fall %d rise %d
`, ms(c.Check.Timeout), c.Retries, c.Stats, c.Frontend, ms(c.Check.Inter), c.Check.Fall, c.Check.Rise)
	for _, name := range sortedKeys(c.Servers) {
		fmt.Fprintf(&b, "    server %s %s\n", name, c.Servers[name])
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// serverStat is one row of HAProxy's CSV statistics.
type serverStat struct {
	Proxy, Server string
	Status        string // UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (going up), OPEN, ...
	Sessions      int64  // stot: sessions (requests, for HTTP) in total
	Retries       int64  // wretr: connection attempts retried
	Redispatches  int64  // wredis: requests sent to another server after a failure
	HTTP5xx       int64  // hrsp_5xx
	HTTP2xx       int64  // hrsp_2xx
}

// parseStats reads HAProxy's "show stat" CSV (its header line starts with
// "# "), keyed by "proxy/server".
func parseStats(r io.Reader) (map[string]serverStat, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("lb: haproxy stats: %w", err)
	}
	if len(rows) == 0 || len(rows[0]) == 0 || !strings.HasPrefix(rows[0][0], "# ") {
		return nil, errors.New("lb: haproxy stats: no header line")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[strings.TrimPrefix(name, "# ")] = i
	}
	for _, name := range []string{"pxname", "svname", "status", "stot", "wretr", "wredis", "hrsp_2xx", "hrsp_5xx"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("lb: haproxy stats: no column %q", name)
		}
	}
	num := func(row []string, name string) int64 {
		n, _ := strconv.ParseInt(row[col[name]], 10, 64) // empty: not counted for this row
		return n
	}
	out := map[string]serverStat{}
	// csv.Reader has checked that every row has the header's fields.
	for _, row := range rows[1:] {
		s := serverStat{Proxy: row[col["pxname"]], Server: row[col["svname"]], Status: row[col["status"]],
			Sessions: num(row, "stot"), Retries: num(row, "wretr"), Redispatches: num(row, "wredis"),
			HTTP2xx: num(row, "hrsp_2xx"), HTTP5xx: num(row, "hrsp_5xx")}
		out[s.Proxy+"/"+s.Server] = s
	}
	return out, nil
}

// proxy is a running HAProxy with a stats page.
type proxy struct {
	*haproxy.Process
	stats  string // URL of the CSV statistics
	client *http.Client
}

// startHAProxy runs HAProxy with config and returns once its stats page
// (on statsAddr) answers, or an error if it exits or has not answered
// within 10s.
func startHAProxy(config, statsAddr string) (*proxy, error) {
	p, err := haproxy.Start("haproxy", config)
	if err != nil {
		return nil, fmt.Errorf("lb: %w", err)
	}
	h := &proxy{Process: p, stats: "http://" + statsAddr + "/stats;csv", client: &http.Client{Timeout: 2 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.waitStatus(ctx, "", func(map[string]serverStat) bool { return true }); err != nil {
		h.Stop()
		return nil, fmt.Errorf("lb: haproxy's stats page did not answer: %w; its output:\n%s", err, h.Output())
	}
	return h, nil
}

// Stats reads HAProxy's statistics.
func (h *proxy) Stats() (map[string]serverStat, error) {
	resp, err := h.client.Get(h.stats)
	if err != nil {
		return nil, fmt.Errorf("lb: haproxy stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("lb: haproxy stats: status %d", resp.StatusCode)
	}
	return parseStats(resp.Body)
}

// pollEvery is how often waitStatus reads the statistics: HAProxy cannot
// tell us when a server changes state, so we ask, a few times per check
// interval.
const pollEvery = 20 * time.Millisecond

// waitStatus reads the statistics until ok accepts them and returns how
// long that took. It fails if ctx ends first or HAProxy exits; what is the
// label for its error.
func (h *proxy) waitStatus(ctx context.Context, what string, ok func(map[string]serverStat) bool) (time.Duration, error) {
	start := time.Now()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var last error
	for {
		st, err := h.Stats()
		if err == nil && ok(st) {
			return time.Since(start), nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("not yet %s", what)
		}
		select {
		case <-tick.C:
		case <-h.Done():
			return 0, fmt.Errorf("lb: haproxy exited (%s) waiting for %s", h.Exited(), what)
		case <-ctx.Done():
			return 0, fmt.Errorf("lb: waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		}
	}
}

// serverStatus returns a predicate for waitStatus: server name of the
// replicas backend has exactly the given status.
func serverStatus(name, status string) func(map[string]serverStat) bool {
	return func(st map[string]serverStat) bool { return st["replicas/"+name].Status == status }
}
