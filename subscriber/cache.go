package subscriber

import (
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// eventCache shares the work of reading and decoding events among the
// cursors of a store: cursors that read the same stretch of the log — many
// catching up from the same position, or all following the live tail —
// decode each event once. Callers still get events of their own (a copy of
// the header and of the payload), so the ownership rules of StoredEvent
// hold.
//
// Events are kept in pages of pageSize consecutive global sequences, up to
// a fixed number of pages, the oldest dropped first. The first cursor to
// miss a page reads it while the others wait for it, so cursors in
// lockstep do not all read the same blocks.
type eventCache struct {
	maxPages int

	mu    sync.Mutex
	pages map[uint64]*cachePage // guarded by mu
	order []uint64              // guarded by mu; page numbers, oldest first
	// gen counts purges (guarded by mu): events read before one are not
	// put in the cache after it.
	gen uint64
}

const (
	pageBits = 8
	pageSize = 1 << pageBits
	// DefaultCacheEvents is the shared cursor cache's size when
	// Options.CacheEvents is 0.
	DefaultCacheEvents = 1 << 16
)

type cachePage struct {
	evs     [pageSize]*event.StoredEvent // guarded by eventCache.mu
	loading chan struct{}                // closed when its first reader has filled it; nil once done
}

func newEventCache(events int) *eventCache {
	if events < 0 {
		return nil
	}
	if events == 0 {
		events = DefaultCacheEvents
	}
	return &eventCache{maxPages: max(1, events/pageSize), pages: make(map[uint64]*cachePage)}
}

func pageOf(global uint64) (uint64, int) { return global >> pageBits, int(global & (pageSize - 1)) }

// load fills dst with copies of the events es point at, reading through
// log only what no other cursor has read (or is reading).
func (c *eventCache) load(log Log, es []index.Entry, dst []*event.StoredEvent) error {
	if c == nil {
		return log.Load(es, dst)
	}
	shared := make([]*event.StoredEvent, len(es))
	var owned []*cachePage
	defer func() {
		// Release pages this call promised to fill, filled or not.
		if len(owned) > 0 {
			c.mu.Lock()
			for _, p := range owned {
				close(p.loading)
				p.loading = nil
			}
			c.mu.Unlock()
		}
	}()
	for round := 0; ; round++ {
		wait, missing, gen := c.lookup(es, shared, round == 0, &owned)
		if len(wait) > 0 && round == 0 {
			for _, w := range wait {
				<-w
			}
			continue // look again: the pages waited for are filled now
		}
		if len(missing) > 0 {
			if err := c.fetch(log, es, missing, shared, gen); err != nil {
				return err
			}
		}
		break
	}
	copyOut(shared, dst)
	return nil
}

// lookup takes what the cache holds of es into shared and returns the
// indexes of es still missing, after claiming (if claim) the absent pages
// for this call and collecting the channels of pages others are filling.
func (c *eventCache) lookup(es []index.Entry, shared []*event.StoredEvent, claim bool, owned *[]*cachePage) (wait []chan struct{}, missing []int, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen = c.gen
	var p *cachePage
	pn := ^uint64(0)
	for i, e := range es {
		if shared[i] != nil {
			continue
		}
		n, slot := pageOf(e.Global)
		if n != pn {
			pn, p = n, c.pages[n]
			if p == nil && claim {
				p = &cachePage{loading: make(chan struct{})}
				c.insertLocked(n, p)
				*owned = append(*owned, p)
			} else if p != nil && p.loading != nil && !ownedBy(p, *owned) {
				wait = append(wait, p.loading)
			}
		}
		if p != nil {
			if ev := p.evs[slot]; ev != nil {
				shared[i] = ev
				continue
			}
		}
		missing = append(missing, i)
	}
	return wait, missing, gen
}

// purge empties the cache: what it holds may no longer be what a read
// returns (a shredded payload, a tombstone). Loads in flight finish for
// their callers but add nothing read before the purge.
func (c *eventCache) purge() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.pages)
	c.order = c.order[:0]
}

func ownedBy(p *cachePage, owned []*cachePage) bool {
	for _, o := range owned {
		if o == p {
			return true
		}
	}
	return false
}

// insertLocked adds a page, dropping the oldest pages past the bound that
// nobody is filling.
func (c *eventCache) insertLocked(n uint64, p *cachePage) {
	c.pages[n] = p
	c.order = append(c.order, n)
	for len(c.order) > c.maxPages {
		old := c.order[0]
		if q := c.pages[old]; q != nil && q.loading != nil {
			break // being filled: keep it, and the bound, for now
		}
		delete(c.pages, old)
		c.order = c.order[1:]
	}
}

// fetch reads the missing events and puts them into shared, and into the
// cache unless it was purged since generation gen.
func (c *eventCache) fetch(log Log, es []index.Entry, missing []int, shared []*event.StoredEvent, gen uint64) error {
	want := make([]index.Entry, len(missing))
	for k, i := range missing {
		want[k] = es[i]
	}
	got := make([]*event.StoredEvent, len(want))
	if err := log.Load(want, got); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, i := range missing {
		shared[i] = got[k]
		if c.gen != gen {
			continue
		}
		n, slot := pageOf(want[k].Global)
		if p := c.pages[n]; p != nil {
			p.evs[slot] = got[k]
		}
	}
	return nil
}

// copyOut gives the caller events of its own: one allocation for the
// headers and one for the payloads.
func copyOut(shared, dst []*event.StoredEvent) {
	evs := make([]event.StoredEvent, len(shared))
	total := 0
	for _, ev := range shared {
		total += len(ev.Payload)
	}
	arena := make([]byte, total)
	for i, ev := range shared {
		evs[i] = *ev
		n := copy(arena, ev.Payload)
		evs[i].Payload, arena = arena[:n:n], arena[n:]
		dst[i] = &evs[i]
	}
}
