// Package consumer is a program's-eye test of swapexec: a module of its own,
// outside the workspace, at the oldest Go the library supports (go 1.21 in
// go.mod), that uses only the public API, as a user's module would. CI runs
// it with GOWORK=off.
package consumer
