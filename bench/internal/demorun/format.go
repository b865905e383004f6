package demorun

import (
	"fmt"
	"slices"
	"time"
)

// FormatDuration formats d with three significant figures or so, in the
// unit that suits it; zero or less (no samples) is "–".
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// Number is what Median can average.
type Number interface{ ~int64 | ~float64 }

// Median returns the middle value of xs, the mean of the two middle ones
// for an even count, or 0 for none. It sorts a copy; xs is left as is.
func Median[T Number](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}
