// Package demorun builds httpdemo, runs it as a child process on loopback
// and drives HTTP load at it with vegeta's library. It is shared by the
// bench module's commands and end-to-end tests (bench/cmd/load, bench/lb),
// which must all start, stop and read httpdemo the same way.
package demorun
