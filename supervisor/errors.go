package supervisor

import (
	"errors"
	"fmt"
)

// Errors returned or recognised by the supervisor. Compare with errors.Is; a
// service may wrap ErrDoNotRestart with context of its own.
var (
	// ErrDoNotRestart, returned (possibly wrapped) from Serve, ends the
	// service for good without counting as a failure: no restart, no
	// escalation.
	ErrDoNotRestart = errors.New("supervisor: do not restart")

	// ErrStopped is returned by Add and Start once Stop has begun. It is also
	// the cause of the context a service's Serve receives, so a service can
	// tell a supervisor stop (context.Cause(ctx) == ErrStopped) from its own
	// derived deadlines.
	ErrStopped = errors.New("supervisor: stopped")

	// ErrAlreadyStarted is returned by a second call to Start.
	ErrAlreadyStarted = errors.New("supervisor: already started")

	// ErrDuplicateName is returned by Add when a service of that name exists.
	// Names identify services in logs, hooks, profiles and Restarts, so they
	// must be unique.
	ErrDuplicateName = errors.New("supervisor: duplicate service name")
)

// PanicError is a panic recovered from a service's Serve. It is the error of
// that run: it counts as a failure and is passed to OnRestart or OnEscalate.
type PanicError struct {
	Service string // the name the service was added under
	Value   any    // the value passed to panic
	Stack   []byte // the panicking goroutine's stack, captured in the recovery
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("supervisor: service %q panicked: %v", e.Service, e.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through a panic(err) the same way they see through a returned
// err.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
