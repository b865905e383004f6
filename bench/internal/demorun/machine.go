package demorun

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// CommandLine returns cmd followed by args, each arg quoted where a shell
// needs it, so a report's command can be pasted back into a shell.
func CommandLine(cmd string, args []string) string {
	line := cmd
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		line += " " + a
	}
	return line
}

// CPUModel returns the CPU's model name from /proc/cpuinfo, or GOARCH.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// LoadAverage returns the 1, 5 and 15 minute load averages, or "?".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return "?"
	}
	return strings.Join(fields[:3], " ")
}

// Environment describes the machine and a run, for a report's header. It
// is plain data, so a command can save it with its results and report
// them again later.
type Environment struct {
	Date      time.Time
	Command   string
	GoVersion string
	OSArch    string
	CPU       string
	NumCPU    int
	LoadStart string // /proc/loadavg before the run
	LoadEnd   string // and after
	Took      time.Duration
}

// NewEnvironment returns the Environment of a run of cmd with args (as
// CommandLine writes them) that starts now on this machine; End completes
// it.
func NewEnvironment(cmd string, args []string) Environment {
	return Environment{
		Date:      time.Now(),
		Command:   CommandLine(cmd, args),
		GoVersion: runtime.Version(),
		OSArch:    runtime.GOOS + "/" + runtime.GOARCH,
		CPU:       CPUModel(),
		NumCPU:    runtime.NumCPU(),
		LoadStart: LoadAverage(),
	}
}

// End records that the run ends now: how long it took and the load
// average after it.
func (e *Environment) End() {
	e.Took = time.Since(e.Date)
	e.LoadEnd = LoadAverage()
}

// WriteHeader writes the three Markdown list items that start a report:
// the date and how long the run took, the command, and the Go version,
// platform, CPU and load averages, that line followed by aside as given
// (such as " (a shared machine)"; empty: nothing).
func (e Environment) WriteHeader(w io.Writer, aside string) {
	fmt.Fprintf(w, "- date: %s; took %s\n", e.Date.Format("2006-01-02 15:04 MST"), e.Took.Round(time.Second))
	fmt.Fprintf(w, "- command: `%s`\n", e.Command)
	fmt.Fprintf(w, "- %s %s, %s, %d CPUs; load average before %s, after %s%s\n",
		e.GoVersion, e.OSArch, e.CPU, e.NumCPU, e.LoadStart, e.LoadEnd, aside)
}
