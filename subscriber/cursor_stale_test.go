package subscriber

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// TestCursorRetakesStaleEntries: when a compaction drops an event between
// the cursor's index query and its load, the load reports ErrStale and the
// cursor queries again, delivering the remaining events without an error.
func TestCursorRetakesStaleEntries(t *testing.T) {
	th := newTestHub(t, 16)
	var stale atomic.Int32
	load := th.opts.Log.Load
	// Set before the fan-out starts: it reads the options too.
	th.opts.Log.Load = func(es []index.Entry, dst []*event.StoredEvent) error {
		if slices.ContainsFunc(es, func(e index.Entry) bool { return e.Global == 2 }) && stale.Add(1) == 1 {
			// A compaction drops event 2 after the cursor took its entries.
			th.log.x.Rewrite(func(e *index.Entry) bool { return e.Global != 2 })
			return fmt.Errorf("%w: event 2", ErrStale)
		}
		return load(es, dst)
	}
	th.run(t)
	th.publish(5, "p:1", "room:1", kindA)
	c, err := th.Cursor(event.AllEvents(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	evs, err := c.NextBatch(hangGuard(t), 10)
	if err != nil || stale.Load() != 1 {
		t.Fatalf("NextBatch: %v (stale loads %d)", err, stale.Load())
	}
	if got := cursorGlobals(evs); !slices.Equal(got, []uint64{1, 3, 4, 5}) {
		t.Fatalf("delivered %v, want [1 3 4 5]", got)
	}
}
