package jetstream

import (
	"sync"

	"github.com/batpak-go/batpak/event"
)

// The id index chunks Get has read, kept per slot. A chunk's pairs never
// change once written, so a slot read once answers later Gets of its ids
// without a request; what can change is that a slot gains chunks (another
// client's, written late, or a repair). So the cache is a hint like the
// chunks themselves: Get reads the event the cached pair names and checks
// its id, and when the pair is missing or names another event it reads the
// slot again before it falls back to the scan (read.go).

// maxCachedPairs bounds the pairs kept (about 40 bytes each); past it, the
// slots used longest ago are dropped.
const maxCachedPairs = 1 << 18

type slotCache struct {
	mu    sync.Mutex
	slots map[int64]*cachedSlot // guarded by mu
	pairs int                   // guarded by mu
	tick  uint64                // guarded by mu
}

type cachedSlot struct {
	ids  map[event.ID]uint64
	used uint64 // tick of the last use
}

// lookup returns id's sequence if its slot is cached, and whether it is.
func (c *slotCache) lookup(id event.ID) (seq uint64, found, cached bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sl := c.slots[slotOf(id)]
	if sl == nil {
		return 0, false, false
	}
	c.tick++
	sl.used = c.tick
	seq, found = sl.ids[id]
	return seq, found, true
}

// put replaces slot's entry with the pairs of its chunks, read in stream
// order (a later chunk's pair for an id wins: repairs come later).
func (c *slotCache) put(slot int64, chunks [][]byte) {
	ids := map[event.ID]uint64{}
	for _, b := range chunks {
		eachPair(b, func(id event.ID, seq uint64) { ids[id] = seq })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slots == nil {
		c.slots = map[int64]*cachedSlot{}
	}
	if old := c.slots[slot]; old != nil {
		c.pairs -= len(old.ids)
	}
	c.tick++
	c.slots[slot] = &cachedSlot{ids: ids, used: c.tick}
	c.pairs += len(ids)
	for c.pairs > maxCachedPairs && len(c.slots) > 1 {
		var oldest int64
		first := true
		for k, sl := range c.slots {
			if k != slot && (first || sl.used < c.slots[oldest].used) {
				oldest, first = k, false
			}
		}
		c.pairs -= len(c.slots[oldest].ids)
		delete(c.slots, oldest)
	}
}
