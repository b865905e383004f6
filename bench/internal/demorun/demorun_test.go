package demorun

import (
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestLogWriter(t *testing.T) {
	w := &logWriter{listening: make(chan string, 1), records: map[string]map[string]any{}}
	// The listening line arrives in two writes, and a second one must not
	// block or replace the first.
	lines := `{"level":"INFO","msg":"fx event"}` + "\n" +
		`{"level":"INFO","msg":"listening","addr":"127.0.0.1:4` + `1234","backend":"ants"}` + "\n" +
		`{"msg":"listening","addr":"127.0.0.1:9"}` + "\n" + "not json\n" +
		`{"msg":"executor drained","submitted":6,"completed":6}` + "\n" + `{"msg":"partial`
	for _, chunk := range []string{lines[:50], lines[50:]} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(chunk))
		}
	}
	select {
	case got := <-w.listening:
		if got != "127.0.0.1:41234" {
			t.Errorf("listening address = %q; want 127.0.0.1:41234", got)
		}
	default:
		t.Fatal("no listening address reported")
	}
	if tail := w.tail(); !strings.Contains(tail, "not json") || !strings.Contains(tail, `{"msg":"partial`) {
		t.Errorf("tail() = %q; want the last lines, the unterminated one included", tail)
	}
	s := &Server{log: w}
	if rec, ok := s.Record("listening"); !ok || rec["addr"] != "127.0.0.1:9" {
		t.Errorf(`Record("listening") = %v, %v; want the last one, addr 127.0.0.1:9`, rec, ok)
	}
	if rec, ok := s.Record("executor drained"); !ok || rec["submitted"] != 6.0 || rec["completed"] != 6.0 {
		t.Errorf(`Record("executor drained") = %v, %v; want submitted and completed 6`, rec, ok)
	}
	if rec, ok := s.Record("partial"); ok {
		t.Errorf(`Record("partial") = %v; want none for an unterminated line`, rec)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:7878": true,
		"127.0.0.1:0":    true,
		"[::1]:80":       true,
		"0.0.0.0:7878":   false,
		":7878":          false,
		"10.0.0.1:80":    false,
		"localhost:80":   false, // a name could resolve anywhere
		"no-port":        false,
	} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v; want ok=%v", addr, err, ok)
		}
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	if _, err := Start("/nonexistent/httpdemo", ":7878", time.Second); err == nil || !strings.Contains(err.Error(), "not on loopback") {
		t.Errorf(`Start(":7878") = %v; want an error saying it is not on loopback`, err)
	}
}

func TestLimitedPacer(t *testing.T) {
	p := Limited{Pacer: vegeta.ConstantPacer{}, Max: 3}
	for hits := uint64(0); hits < 5; hits++ {
		if _, stop := p.Pace(time.Second, hits); stop != (hits >= 3) {
			t.Errorf("Pace(1s, %d) stop = %v; want %v", hits, stop, hits >= 3)
		}
	}
}

func TestTopError(t *testing.T) {
	r := Result{Errors: map[string]int{"b": 2, "a": 2, "c": 1}}
	if got := r.TopError(); got != "a" {
		t.Errorf("TopError = %q; want a (most frequent, ties by name)", got)
	}
	if got := (Result{}).TopError(); got != "" {
		t.Errorf("TopError of no errors = %q; want empty", got)
	}
}

func TestEnvironment(t *testing.T) {
	env := NewEnvironment("go run ./bench/cmd/load", []string{"-overload-backends", "", "-out", "it's here.md", "-quick"})
	if want := `go run ./bench/cmd/load -overload-backends '' -out 'it'\''s here.md' -quick`; env.Command != want {
		t.Errorf("Command = %s; want %s (args quoted for a shell)", env.Command, want)
	}
	if env.Date.IsZero() || env.NumCPU < 1 || env.GoVersion == "" || env.CPU == "" || env.LoadStart == "" || env.LoadEnd != "" {
		t.Errorf("NewEnvironment = %+v; want the date, CPUs, Go version, CPU model and load average, no end yet", env)
	}
	env.End()
	if env.LoadEnd == "" || env.Took < 0 {
		t.Errorf("after End: LoadEnd %q, Took %s; want both set", env.LoadEnd, env.Took)
	}

	fixed := Environment{Date: time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC), Command: "go run ./x -n 2", GoVersion: "go1.26.0",
		OSArch: "linux/amd64", CPU: "Some CPU", NumCPU: 2, LoadStart: "0.50 0.40 0.30", LoadEnd: "1.00 0.60 0.40", Took: 61400 * time.Millisecond}
	var b strings.Builder
	fixed.WriteHeader(&b, " (a shared machine)")
	want := "- date: 2026-12-02 01:30 UTC; took 1m1s\n" +
		"- command: `go run ./x -n 2`\n" +
		"- go1.26.0 linux/amd64, Some CPU, 2 CPUs; load average before 0.50 0.40 0.30, after 1.00 0.60 0.40 (a shared machine)\n"
	if b.String() != want {
		t.Errorf("WriteHeader wrote\n%s\nwant\n%s", b.String(), want)
	}
}
