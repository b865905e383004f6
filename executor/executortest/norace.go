//go:build !race

package executortest

const raceEnabled = false
