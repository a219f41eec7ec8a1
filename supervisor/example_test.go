package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/batpak-go/batpak/supervisor"
)

// intake stands for an actor that accepts work: Quiesce closes its intake
// before anything is cancelled.
type intake struct{}

func (intake) Quiesce() { fmt.Println("quiesce intake") }

func (intake) Serve(ctx context.Context) error {
	<-ctx.Done()
	fmt.Println("stop intake")
	return ctx.Err()
}

// Example runs two services, survives a panic in one of them, and stops
// them in order: intake closed first, then the services in reverse Add order.
func Example() {
	sup := supervisor.New(supervisor.Options{
		Logger: slog.New(slog.DiscardHandler),
		OnRestart: func(name string, attempt int, cause error) {
			fmt.Printf("restart %s #%d: %v\n", name, attempt, cause)
		},
	})

	runs := 0
	ready := make(chan struct{})
	worker := supervisor.ServiceFunc(func(ctx context.Context) error {
		runs++ // only ever touched by the worker's own goroutine
		if runs == 1 {
			panic("boom")
		}
		fmt.Println("worker running")
		close(ready)
		<-ctx.Done()
		fmt.Println("stop worker")
		return ctx.Err()
	})

	_ = sup.Add("intake", intake{}, supervisor.Never())
	_ = sup.Add("worker", worker, supervisor.Once())
	_ = sup.Start()
	<-ready

	if err := sup.Stop(context.Background()); err != nil {
		fmt.Println("stop:", err)
	}
	<-sup.Done()
	fmt.Println("restarts:", sup.Restarts("worker"))
	fmt.Println(errors.Is(sup.Add("late", worker, supervisor.Never()), supervisor.ErrStopped))
	// Output:
	// restart worker #1: supervisor: service "worker" panicked: boom
	// worker running
	// quiesce intake
	// stop worker
	// stop intake
	// restarts: 1
	// true
}
