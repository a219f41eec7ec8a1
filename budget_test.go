package batpak

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// TestOpenSegmentBudgetUnderConcurrentReads keeps at most one sealed
// segment open while readers read events spread over many segments, a
// producer seals more and a compaction rewrites some (run with -race):
// every read returns the right event, and segments are evicted and
// reopened.
func TestOpenSegmentBudgetUnderConcurrentReads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, WithSegmentSize(64<<10), WithMaxOpenSegments(1))
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		id      ID
		payload []byte
	}
	var (
		mu   sync.Mutex
		recs []rec
	)
	add := func(i int) error {
		p := bytes.Repeat([]byte{byte(i)}, 500+i%100)
		r, err := s.Append(ctx, event.MustCoordinate(fmt.Sprintf("e%d", i%5), "s"), compactKind, p)
		if err == nil {
			mu.Lock()
			recs = append(recs, rec{r.ID, p})
			mu.Unlock()
		}
		return err
	}
	for i := range 1500 { // about 12 segments
		if err := add(i); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	stop := make(chan struct{})
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; ; i += 7 {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				want := recs[(i*131)%len(recs)]
				mu.Unlock()
				ev, err := s.Get(ctx, want.id)
				if err != nil {
					errc <- err
					return
				}
				if !bytes.Equal(ev.Payload, want.payload) {
					errc <- fmt.Errorf("event %v read back wrong", want.id)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // seals more segments meanwhile
		defer wg.Done()
		for i := 1500; i < 2500; i++ {
			if err := add(i); err != nil {
				errc <- err
				return
			}
		}
	}()
	// A merge-only compaction meanwhile: its outputs join the budget too.
	if _, err := s.Compact(ctx, CompactOptions{TargetSize: 256 << 10}); err != nil {
		t.Error(err)
	}
	for range 20 {
		if _, err := s.Verify(ctx); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	d := s.Diagnostics()
	if d.Evictions == 0 || d.Reopens == 0 {
		t.Fatalf("the budget evicted %d and reopened %d segments", d.Evictions, d.Reopens)
	}
	// One sealed segment under the budget, plus the active one, plus those
	// compaction replaced (held until Close) and any the writer may still sync.
	if limit := 1 + 1 + d.RetiredSegments + 1; d.OpenSegments > limit {
		t.Fatalf("%d segments open, budget allows %d (%d retired)", d.OpenSegments, limit, d.RetiredSegments)
	}
	t.Logf("%d events over %d segments: %d evictions, %d reopens, %d open at the end",
		d.Events, d.Segments, d.Evictions, d.Reopens, d.OpenSegments)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir, WithMaxOpenSegments(1))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, r := range recs {
		ev, err := ro.Get(ctx, r.id)
		if err != nil || !bytes.Equal(ev.Payload, r.payload) {
			t.Fatalf("read-only store with a budget: %v", err)
		}
	}
	if open, _, _ := ro.segs.BudgetStats(); open > 2 {
		t.Fatalf("read-only store: %d segments open with a budget of 1", open)
	}
}

func TestMaxOpenSegmentsRejectsZero(t *testing.T) {
	if _, err := Open(t.TempDir(), WithMaxOpenSegments(0)); err == nil {
		t.Fatal("WithMaxOpenSegments(0) accepted")
	}
}
