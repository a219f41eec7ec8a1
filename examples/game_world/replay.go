package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/spatial"
)

// replay prints the world as it was at tick t: the zone projected as of
// the tick's clock event, the last event of its batch.
func replay(ctx context.Context, store batpak.EventStore, grid spatial.Grid, t int, out io.Writer) error {
	var at uint64
	for ev, err := range store.Query(ctx, event.ForEntity(clock).WithSequence(uint64(t), uint64(t))) {
		if err != nil {
			return err
		}
		at = ev.Global
	}
	if at == 0 {
		last := "none"
		if ev, err := store.Latest(ctx, clock); err == nil {
			last = fmt.Sprint(ev.Sequence)
		}
		return fmt.Errorf("tick %d is not in the store (the last durable tick: %s)", t, last)
	}
	w, err := batpak.ProjectRegion[World](ctx, store, spatial.Zone(zone), batpak.Consistent, batpak.AsOf(at))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "the world as of tick %d (global %d, %d events): %d players, %d items on the ground\n",
		w.Tick, at, w.Events, w.Players(), w.Items())
	fmt.Fprintln(out, "players/items per chunk:")
	var b strings.Builder
	b.WriteString("     ")
	for x := range grid.Width {
		fmt.Fprintf(&b, "%6d", x)
	}
	fmt.Fprintln(out, b.String())
	for y := range grid.Height {
		b.Reset()
		fmt.Fprintf(&b, "%5d", y)
		for x := range grid.Width {
			cell := "."
			if c := w.Chunks[spatial.Chunk{Zone: zone, X: x, Y: y}.Scope()]; c != nil && len(c.Players)+len(c.Items) > 0 {
				cell = fmt.Sprintf("%d/%d", len(c.Players), len(c.Items))
			}
			fmt.Fprintf(&b, "%6s", cell)
		}
		fmt.Fprintln(out, b.String())
	}
	scorers := sortedKeys(w.Scores)
	slices.SortStableFunc(scorers, func(a, b string) int { return w.Scores[b] - w.Scores[a] })
	if len(scorers) > 5 {
		scorers = scorers[:5]
	}
	for i, p := range scorers {
		scorers[i] = fmt.Sprintf("%s %d", p, w.Scores[p])
	}
	fmt.Fprintf(out, "most items picked up: %s\n", strings.Join(scorers, ", "))
	return nil
}
