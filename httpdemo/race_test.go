//go:build race

package main

// raceEnabled: the e2e binary is built with -race when the tests are.
const raceEnabled = true
