// Package supervisor runs batpak's actors as services: it starts each in its
// own goroutine, restarts the ones that fail within a restart budget,
// escalates the ones it may not restart, and shuts them all down in order,
// joining every goroutine it started.
//
// A service is anything with Serve(ctx) error, usually an actor's run loop.
// Returning nil means its work is done; returning an error or panicking is a
// failure, and its Policy decides between an immediate restart and
// escalation (OnEscalate, after which the service stays down); returning an
// error wrapping ErrDoNotRestart ends it quietly. Whatever Serve returns
// after Stop cancelled its context is not a failure. The ideas come from
// thejerf/suture; the code is batpak's own.
//
//	sup := supervisor.New(supervisor.Options{
//		OnEscalate: func(name string, cause error) { failStop(name, cause) },
//	})
//	// Dependencies first: writer sends to fsync, fsync hands to fanout.
//	sup.Add("fanout", fanout, supervisor.Bounded{MaxRestarts: 5, Within: time.Minute})
//	sup.Add("fsync", fsyncActor, supervisor.Never())
//	sup.Add("writer", writerActor, supervisor.Once())
//	if err := sup.Start(); err != nil { ... }
//	...
//	err := sup.Stop(ctx) // quiesce all; then stop writer, fsync, fanout, in that order
//
// Stop works in two phases so that intake closes before anything drains:
// first it calls Quiesce on every service that implements Quiescer, in Add
// order; then, in reverse Add order, it cancels each service and waits for
// its Serve to return. Add services in dependency order (a service after the
// ones it sends to), and each one stops while everything it depends on is
// still running. If Stop's ctx ends first, it cancels the rest at once and
// returns ctx.Err(); see Stop for what happens to a service that ignores
// cancellation.
//
// Each service goroutine carries the pprof label actor=<name>.
package supervisor
