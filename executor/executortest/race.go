//go:build race

package executortest

// raceEnabled is true when the race detector is on; the suite then uses
// smaller task counts, as the detector slows every synchronisation.
const raceEnabled = true
