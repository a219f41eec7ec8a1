// Command event_sourced_counter folds counter events into state with
// batpak's projections: a plain projection, one served from a file cache
// that survives a restart, a schema bump, a watch that follows the counter
// as it changes, and a live read model with read-your-writes. -backend
// jetstream runs it over a NATS server started in-process.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
	"github.com/batpak-go/batpak/projector"
)

// The counter's events. Their payload is the step, an int64.
var (
	Incremented = event.MustCustom(0x1, 0x001)
	Decremented = event.MustCustom(0x1, 0x002)
	Renamed     = event.MustCustom(0x1, 0x003) // not the counter's business
)

// Counter is the state folded from one counter's events.
type Counter struct {
	Value   int64
	Changes int
}

// Projection describes the fold. Renamed events are not listed, so the
// store skips them without reading them.
func (*Counter) Projection() projector.Spec {
	return projector.Spec{
		Name:        "counter",
		Version:     1,
		Kinds:       []event.EventKind{Incremented, Decremented},
		Incremental: true, // Apply is a pure fold: cached states can be extended
	}
}

// Apply folds one event into the counter.
func (c *Counter) Apply(ev *event.StoredEvent) error {
	step, err := batpak.Decode[int64](ev)
	if err != nil {
		return err
	}
	if ev.Kind == Decremented {
		step = -step
	}
	c.Value += step
	c.Changes++
	return nil
}

// CounterV2 is the next schema of the same projection: it also remembers
// the largest value reached. Its new version makes caches ignore the
// version-1 states.
type CounterV2 struct {
	Counter
	Peak int64
}

func (*CounterV2) Projection() projector.Spec {
	s := (*Counter)(nil).Projection()
	s.Version = 2
	return s
}

func (c *CounterV2) Apply(ev *event.StoredEvent) error {
	if err := c.Counter.Apply(ev); err != nil {
		return err
	}
	c.Peak = max(c.Peak, c.Value)
	return nil
}

// Totals is a read model across every counter.
type Totals struct {
	Sum      int64
	Counters map[string]int64
}

func (*Totals) Projection() projector.Spec {
	return projector.Spec{Name: "totals", Version: 1, Kinds: []event.EventKind{Incremented, Decremented}, Incremental: true}
}

func (t *Totals) Apply(ev *event.StoredEvent) error {
	var c Counter
	if err := c.Apply(ev); err != nil {
		return err
	}
	if t.Counters == nil {
		t.Counters = make(map[string]int64)
	}
	t.Counters[ev.Coordinate.Entity()] += c.Value
	t.Sum += c.Value
	return nil
}

var backendName = backend.Flag()

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "batpak-counter-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), *backendName, dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, kind, dir string) error {
	storeDir, cacheDir := filepath.Join(dir, "store"), filepath.Join(dir, "cache")
	clicks := event.MustCoordinate("counter:clicks", "app")

	// First run: append, project, cache.
	store, err := backend.Open(ctx, kind, storeDir)
	if err != nil {
		return err
	}
	cache, err := projector.OpenFileCache(cacheDir)
	if err != nil {
		return err
	}
	for _, e := range []struct {
		kind event.EventKind
		step any
	}{{Incremented, int64(5)}, {Renamed, "clicks"}, {Incremented, int64(3)}, {Decremented, int64(2)}} {
		if _, err := store.Append(ctx, clicks, e.kind, e.step); err != nil {
			return err
		}
	}
	c, err := batpak.Project[Counter](ctx, store, "counter:clicks", batpak.Consistent)
	if err != nil {
		return err
	}
	fmt.Printf("replayed:       value %d after %d changes\n", c.Value, c.Changes)
	if _, err := batpak.Project[Counter](ctx, store, "counter:clicks", batpak.Consistent, batpak.FromCache(cache)); err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}

	// Second run: the file cache survives; only the new event is applied.
	store, err = backend.Open(ctx, kind, storeDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if cache, err = projector.OpenFileCache(cacheDir); err != nil {
		return err
	}
	if _, err := store.Append(ctx, clicks, Incremented, int64(10)); err != nil {
		return err
	}
	c, err = batpak.Project[Counter](ctx, store, "counter:clicks", batpak.Consistent, batpak.FromCache(cache))
	if err != nil {
		return err
	}
	fmt.Printf("after restart:  value %d after %d changes (cache hits: %d)\n", c.Value, c.Changes, cache.Stats().Hits)

	// A schema bump ignores version-1 states and replays.
	c2, err := batpak.Project[CounterV2](ctx, store, "counter:clicks", batpak.Consistent, batpak.FromCache(cache))
	if err != nil {
		return err
	}
	fmt.Printf("schema v2:      value %d, peak %d\n", c2.Value, c2.Peak)

	// A watch: the current state, then each change.
	w, err := batpak.WatchProjection[Counter](store, "counter:clicks")
	if err != nil {
		return err
	}
	defer w.Close()
	u, err := w.Next(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("watch:          value %d at position %d\n", u.State.Value, u.Watermark)
	if _, err := store.Append(ctx, clicks, Decremented, int64(1)); err != nil {
		return err
	}
	if u, err = w.Next(ctx); err != nil {
		return err
	}
	fmt.Printf("watch:          value %d at position %d\n", u.State.Value, u.Watermark)

	// A live read model over every counter, with read-your-writes.
	p, err := batpak.NewProjector(store)
	if err != nil {
		return err
	}
	defer p.Close()
	totals, err := projector.Register[Totals](p, "", projector.Over(event.ForEntity("counter:*")))
	if err != nil {
		return err
	}
	r, err := store.Append(ctx, event.MustCoordinate("counter:likes", "app"), Incremented, int64(7))
	if err != nil {
		return err
	}
	if err := p.WaitApplied(ctx, "totals", r.Global); err != nil {
		return err
	}
	t, err := totals.Snapshot(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("totals:         sum %d over %d counters\n", t.State.Sum, len(t.State.Counters))
	return nil
}
