// Package demorun builds httpdemo, runs it as a child process on loopback
// and drives HTTP load at it with vegeta's library. It is shared by the
// bench module's commands and end-to-end tests (bench/cmd/load,
// bench/cmd/stepload, bench/lb), which must all build, start, stop and read
// httpdemo the same way; demoruntest holds the tests' setup.
package demorun
