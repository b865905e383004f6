package cliflag

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParse(t *testing.T) {
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("n", 1, "")
		return fs
	}
	if err := Parse(newFS(), []string{"-n", "3"}); err != nil {
		t.Errorf("Parse(-n 3) = %v; want nil", err)
	}
	if err := Parse(newFS(), []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Parse(-h) = %v; want flag.ErrHelp", err)
	}
	for _, args := range [][]string{{"-n", "many"}, {"-m"}, {"-n", "2", "extra"}} {
		if err := Parse(newFS(), args); !errors.Is(err, ErrUsage) {
			t.Errorf("Parse(%q) = %v; want an error wrapping ErrUsage", args, err)
		}
	}
}

func TestFirst(t *testing.T) {
	err := First([]Check{Want(true, "a", 1, "> 0"), Want(false, "rate", -5, "> 0"), Want(false, "b", 0, "never shown")})
	if !errors.Is(err, ErrUsage) || !strings.HasSuffix(err.Error(), "-rate -5: want > 0") {
		t.Errorf("First = %v; want the first failing check, -rate -5: want > 0", err)
	}
	if err := First([]Check{Want(true, "a", 1, "> 0")}); err != nil {
		t.Errorf("First(all OK) = %v; want nil", err)
	}
}

func TestNames(t *testing.T) {
	known := []string{"chanpool", "ants", "pond"}
	got, err := Names("backend", "backend", " pond, chanpool ", known)
	if err != nil || fmt.Sprint(got) != "[pond chanpool]" {
		t.Errorf("Names(pond, chanpool) = %v, %v; want [pond chanpool] in that order", got, err)
	}
	if got, err := Names("backend", "backend", " ", known); err != nil || got != nil {
		t.Errorf("Names(blank) = %v, %v; want none", got, err)
	}
	for list, want := range map[string]string{
		"ants,fast": `-backend "ants,fast": unknown backend "fast"; want some of chanpool, ants, pond`,
		"ants,ants": `-backend "ants,ants": ants is named twice`,
		"ants,":     `unknown backend ""`,
	} {
		if _, err := Names("backend", "backend", list, known); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), want) {
			t.Errorf("Names(%q) = %v; want an ErrUsage containing %q", list, err, want)
		}
	}
	want := `bad flag: -modes "aimd,fast": unknown "fast"; want some of aimd, gradient2`
	if _, err := Names("modes", "", "aimd,fast", []string{"aimd", "gradient2"}); err == nil || err.Error() != want {
		t.Errorf("Names with no kind = %v; want %s", err, want)
	}
}

func TestNewFlagSet(t *testing.T) {
	var b bytes.Buffer
	fs := NewFlagSet("x", "x does things.\n\nFlags:\n", &b)
	fs.Int("n", 7, "how `many`")
	if err := Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse(-h) = %v; want flag.ErrHelp", err)
	}
	want := "x does things.\n\nFlags:\n  -n many\n    \thow many (default 7)\n"
	if b.String() != want {
		t.Errorf("-h printed %q; want %q", b.String(), want)
	}
	if fs.Name() != "x" || fs.ErrorHandling() != flag.ContinueOnError {
		t.Errorf("NewFlagSet: name %q, error handling %v; want x, ContinueOnError", fs.Name(), fs.ErrorHandling())
	}
}

func TestGivenFill(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	a, b, c := fs.Int("a", 1, ""), fs.Int("b", 1, ""), fs.Int("c", 1, "")
	if err := Parse(fs, []string{"-a", "1", "-b=5"}); err != nil {
		t.Fatal(err)
	}
	given := Given(fs)
	if fmt.Sprint(given) != "map[a:true b:true]" {
		t.Errorf("Given = %v; want a and b (a given at its default still counts)", given)
	}
	Fill(given, map[string]func(){"a": func() { *a = 10 }, "b": func() { *b = 10 }, "c": func() { *c = 10 }})
	if *a != 1 || *b != 5 || *c != 10 {
		t.Errorf("after Fill: a, b, c = %d, %d, %d; want 1, 5, 10 (only the flag not given changes)", *a, *b, *c)
	}
}

func TestStatus(t *testing.T) {
	var b bytes.Buffer
	if st, goOn := Status(nil, "go run ./bench/cmd/soak", &b); st != 0 || !goOn || b.Len() != 0 {
		t.Errorf("Status(nil) = %d, %v, printed %q; want 0, true, nothing", st, goOn, b.String())
	}
	if st, goOn := Status(flag.ErrHelp, "go run ./bench/cmd/soak", &b); st != 0 || goOn || b.Len() != 0 {
		t.Errorf("Status(ErrHelp) = %d, %v, printed %q; want 0, false, nothing", st, goOn, b.String())
	}
	st, goOn := Status(fmt.Errorf("%w: -n -1: want > 0", ErrUsage), "go run ./bench/cmd/soak", &b)
	want := "soak: bad flag: -n -1: want > 0\nRun 'go run ./bench/cmd/soak -h' to see every flag.\n"
	if st != 2 || goOn || b.String() != want {
		t.Errorf("Status(usage) = %d, %v, printed %q; want 2, false, %q", st, goOn, b.String(), want)
	}
}
