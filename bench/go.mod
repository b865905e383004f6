module github.com/swapexec/swapexec/bench

go 1.26.0

require (
	github.com/swapexec/swapexec v0.0.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.25.0
)

replace github.com/swapexec/swapexec => ../
