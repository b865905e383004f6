package lb

import (
	"strings"
	"testing"
	"time"
)

func TestCheckDrainDelay(t *testing.T) {
	c := checkSettings{Inter: 200 * time.Millisecond, Fall: 2, Rise: 2, Timeout: 250 * time.Millisecond}
	if got, want := c.WorstDetection(), 650*time.Millisecond; got != want {
		t.Errorf("WorstDetection() = %s; want %s (inter × fall + timeout check)", got, want)
	}
	for _, tc := range []struct {
		delay, margin time.Duration
		ok            bool
	}{
		{time.Second, 200 * time.Millisecond, true},
		{850 * time.Millisecond, 200 * time.Millisecond, true},
		{849 * time.Millisecond, 200 * time.Millisecond, false},
		{0, 0, false},
	} {
		err := c.CheckDrainDelay(tc.delay, tc.margin)
		if (err == nil) != tc.ok {
			t.Errorf("CheckDrainDelay(%s, %s) = %v; want ok=%v", tc.delay, tc.margin, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "-drain-delay "+tc.delay.String()) {
			t.Errorf("CheckDrainDelay(%s, %s) = %q; want it to name the drain delay", tc.delay, tc.margin, err)
		}
	}
}

func TestRender(t *testing.T) {
	cfg := haproxyConfig{Frontend: "127.0.0.1:8080", Stats: "127.0.0.1:8404", Retries: 3,
		Servers: map[string]string{"r1": "127.0.0.1:2", "r0": "127.0.0.1:1"},
		Check:   checkSettings{Inter: 200 * time.Millisecond, Fall: 2, Rise: 3, Timeout: 250 * time.Millisecond}}
	got := cfg.render()
	for _, want := range []string{
		"timeout check 250ms",
		"retries 3\n    option redispatch 1",
		"bind 127.0.0.1:8404\n    stats enable",
		"bind 127.0.0.1:8080\n    default_backend replicas",
		"option httpchk GET /readyz\n    http-check expect status 200",
		"default-server check inter 200ms fall 2 rise 3",
		"server r0 127.0.0.1:1\n    server r1 127.0.0.1:2\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render() lacks %q; got:\n%s", want, got)
		}
	}
}

func TestParseStats(t *testing.T) {
	const csv = "# pxname,svname,qcur,stot,wretr,wredis,status,hrsp_2xx,hrsp_5xx,\n" +
		"web,FRONTEND,,47,,,OPEN,2200,0,\n" +
		"replicas,r0,0,760,1,26,UP,734,2,\n" +
		"replicas,r1,0,0,0,0,DOWN 1/2,0,0,\n" +
		"short,row\n"
	st, err := parseStats(strings.NewReader(csv))
	if err == nil {
		t.Fatalf("parseStats accepted a short row: %v", st)
	}
	st, err = parseStats(strings.NewReader(strings.TrimSuffix(csv, "short,row\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]serverStat{
		"web/FRONTEND": {Proxy: "web", Server: "FRONTEND", Status: "OPEN", Sessions: 47, HTTP2xx: 2200},
		"replicas/r0":  {Proxy: "replicas", Server: "r0", Status: "UP", Sessions: 760, Retries: 1, Redispatches: 26, HTTP2xx: 734, HTTP5xx: 2},
		"replicas/r1":  {Proxy: "replicas", Server: "r1", Status: "DOWN 1/2"},
	}
	if len(st) != len(want) {
		t.Errorf("parseStats gave %d rows %v; want %d", len(st), st, len(want))
	}
	for k, w := range want {
		if st[k] != w {
			t.Errorf("%s = %+v; want %+v", k, st[k], w)
		}
	}
	if !serverStatus("r1", "DOWN 1/2")(st) || serverStatus("r0", "DOWN")(st) {
		t.Error("serverStatus does not match the replicas backend's exact status")
	}
	for _, bad := range []string{"", "pxname,svname\nweb,FRONTEND\n", "# pxname,svname\nweb,FRONTEND\n"} {
		if _, err := parseStats(strings.NewReader(bad)); err == nil {
			t.Errorf("parseStats(%q) = nil error; want one (no header, or missing columns)", bad)
		}
	}
}
