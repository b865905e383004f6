package group

import "fmt"

// PanicError is the error Wait returns for a task that panicked. Stack is
// the stack of the goroutine that ran the task, taken where the panic was
// recovered, so it shows where the task panicked.
type PanicError struct {
	Value any    // what the task panicked with
	Stack []byte // the task's stack (runtime/debug.Stack)
}

// Error returns the panic value, without the stack, so that logging the
// error stays one line; Stack holds the rest.
func (p *PanicError) Error() string {
	return fmt.Sprintf("group: task panicked: %v", p.Value)
}

// Unwrap returns the panic value if it is an error (panic(err), or a runtime
// error such as a nil dereference), so errors.Is and errors.As see through
// the panic; otherwise nil.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}
