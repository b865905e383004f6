// Package cliflag is the flag handling the bench module's commands share:
// parsing into a FlagSet with one error for every bad flag, rules on the
// values that name the flag, the value and what is allowed, lists of known
// names, and the exit status that follows.
package cliflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrUsage is wrapped by every error this package returns for a bad flag
// value; commands exit 2 for it.
var ErrUsage = errors.New("bad flag")

// NewFlagSet returns a FlagSet named name that reports errors rather than
// exiting, writes to stderr, and whose -h prints usage (which ends with
// its own "Flags:" line) and then every flag with its default.
func NewFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs. It returns flag.ErrHelp for -h, and an error
// wrapping ErrUsage for a bad flag or an argument left over.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// Check is one rule a flag's value must keep.
type Check struct {
	OK   bool   // the value keeps the rule
	Flag string // the flag's name, without the dash
	Val  any    // the value, as the message shows it
	Want string // what is allowed, such as "in [1, 10000]"
}

// Want is the Check that the flag's value val keeps the rule (ok), what
// is allowed being want.
func Want(ok bool, flag string, val any, want string) Check {
	return Check{OK: ok, Flag: flag, Val: val, Want: want}
}

// First returns an error wrapping ErrUsage for the first check that is not
// OK, "-flag value: want ...", or nil if all are.
func First(checks []Check) error {
	for _, c := range checks {
		if !c.OK {
			return fmt.Errorf("%w: -%s %v: want %s", ErrUsage, c.Flag, c.Val, c.Want)
		}
	}
	return nil
}

// Given returns the names of the flags fs's Parse set, whatever their
// values: a flag given at its default value is still given.
func Given(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

// Fill calls set[name] for each flag name that is not in given: how a
// preset such as -quick changes defaults while flags given explicitly win.
func Fill(given map[string]bool, set map[string]func()) {
	for name, apply := range set {
		if !given[name] {
			apply()
		}
	}
}

// Names splits the comma-separated list given to flagName into names, each
// one of known and none twice; an empty list gives none. Otherwise it
// returns an error wrapping ErrUsage naming the flag, the list and the
// name at fault, which the message calls an unknown kind ("backend"; empty:
// just unknown).
func Names(flagName, kind, list string, known []string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		ok := false
		for _, k := range known {
			ok = ok || k == name
		}
		switch {
		case !ok:
			what := "unknown " + kind
			if kind == "" {
				what = "unknown"
			}
			return nil, fmt.Errorf("%w: -%s %q: %s %q; want some of %s", ErrUsage, flagName, list, what, name, strings.Join(known, ", "))
		case seen[name]:
			return nil, fmt.Errorf("%w: -%s %q: %s is named twice", ErrUsage, flagName, list, name)
		}
		seen[name] = true
		out = append(out, name)
	}
	return out, nil
}

// Status turns what parsing a command's flags returned into whether to go
// on and, if not, the exit status: 0 after -h (the usage is printed
// already), 2 for a bad flag, after printing err and how to see every flag
// to stderr. command is how the hint runs it, such as "go run
// ./bench/cmd/soak"; the message is prefixed with its last element.
func Status(err error, command string, stderr io.Writer) (status int, goOn bool) {
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	}
	name := command[strings.LastIndex(command, "/")+1:]
	fmt.Fprintf(stderr, "%s: %v\nRun '%s -h' to see every flag.\n", name, err, command)
	return 2, false
}
