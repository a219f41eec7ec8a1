// This program must compile: it is the control for the forgery cases, so a
// broken import path or build setup cannot pass for a refused forgery.
package main

import (
	"context"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
)

type nopStore struct{}

func (nopStore) AppendWithOptions(context.Context, event.Coordinate, event.EventKind, any, event.AppendOptions) (event.Receipt, error) {
	return event.Receipt{}, nil
}

func main() {
	gates := gatekeeper.MustGateSet(gatekeeper.Gate[int]{Name: "any", Check: func(int) *gatekeeper.Denial { return nil }})
	r, err := gatekeeper.Evaluate(gates, 1, gatekeeper.Propose(event.MustCoordinate("e", "s"), 0x1001, 1))
	if err != nil {
		panic(err)
	}
	var zero gatekeeper.Receipt[int] // compiles, and Commit refuses it at run time
	_, _ = gatekeeper.Commit(context.Background(), nopStore{}, zero)
	_, _ = gatekeeper.Commit(context.Background(), nopStore{}, r)
}
