package subscriber

import (
	"sync"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

func entriesOf(t testing.TB, f *fakeLog, after uint64, n int) []index.Entry {
	t.Helper()
	var es []index.Entry
	for e := range f.x.Query(event.AllEvents(), after) {
		if es = append(es, e); len(es) == n {
			break
		}
	}
	return es
}

func TestCacheSharesReadsButNotEvents(t *testing.T) {
	f := newFakeLog()
	f.commit(1000, "p:1", "room:1", kindA)
	for i := uint64(1); i <= 1000; i++ {
		f.evs[i].Payload = []byte{byte(i), byte(i >> 8)}
	}
	c := newEventCache(0)
	const readers = 8
	got := make([][]*event.StoredEvent, readers)
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for after := uint64(0); after < 1000; after += 100 {
				es := entriesOf(t, f, after, 100)
				dst := make([]*event.StoredEvent, len(es))
				if err := c.load(f.log(), es, dst); err != nil {
					t.Error(err)
					return
				}
				got[r] = append(got[r], dst...)
			}
		})
	}
	wg.Wait()
	// How much concurrent readers share depends on how they interleave;
	// readers that come one after another must share everything.
	loaded := f.loads.Load()
	for range readers {
		for after := uint64(0); after < 1000; after += 100 {
			es := entriesOf(t, f, after, 100)
			if err := c.load(f.log(), es, make([]*event.StoredEvent, len(es))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := f.loads.Load() - loaded; n != 0 {
		t.Fatalf("%d events read again by readers after the first: the cache did not share", n)
	}
	for r := range readers {
		checkRun(t, "reader", cursorGlobals(got[r]), 1, 1000)
	}
	// Each reader owns its events: changing one changes no other.
	got[0][5].Payload[0] = 0xFF
	got[0][5].Kind = kindB
	if got[1][5].Payload[0] != 6 || got[1][5].Kind != kindA {
		t.Fatal("readers share event memory")
	}
}

func TestCacheEvictsAndStaysCorrect(t *testing.T) {
	f := newFakeLog()
	f.commit(5000, "p:1", "room:1", kindA)
	c := newEventCache(pageSize)
	for pass := range 2 {
		for after := uint64(0); after < 5000; after += 300 {
			es := entriesOf(t, f, after, 300)
			dst := make([]*event.StoredEvent, len(es))
			if err := c.load(f.log(), es, dst); err != nil {
				t.Fatal(err)
			}
			checkRun(t, "pass", cursorGlobals(dst), after+1, len(es))
		}
		c.mu.Lock()
		pages := len(c.pages)
		c.mu.Unlock()
		if pages > 2 {
			t.Fatalf("pass %d: %d pages cached, bound 1", pass, pages)
		}
	}
}

func TestCacheLoadErrorReleasesItsPages(t *testing.T) {
	f := newFakeLog()
	f.commit(10, "p:1", "room:1", kindA)
	c := newEventCache(0)
	es := entriesOf(t, f, 0, 10)
	f.fail.Store(true)
	if err := c.load(f.log(), es, make([]*event.StoredEvent, 10)); err == nil {
		t.Fatal("load over a failing log succeeded")
	}
	f.fail.Store(false)
	dst := make([]*event.StoredEvent, 10)
	if err := c.load(f.log(), es, dst); err != nil {
		t.Fatal(err) // a page left "being filled" would hang this call
	}
	checkRun(t, "retry", cursorGlobals(dst), 1, 10)
}

func TestCacheDisabledReadsThrough(t *testing.T) {
	f := newFakeLog()
	f.commit(3, "p:1", "room:1", kindA)
	var c *eventCache = newEventCache(-1)
	dst := make([]*event.StoredEvent, 3)
	if err := c.load(f.log(), entriesOf(t, f, 0, 3), dst); err != nil {
		t.Fatal(err)
	}
	checkRun(t, "uncached", cursorGlobals(dst), 1, 3)
}
