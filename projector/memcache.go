package projector

import (
	"container/list"
	"sync"
)

// CacheStats are a cache's counters.
type CacheStats struct {
	Entries   int
	Hits      uint64
	Misses    uint64
	Puts      uint64
	Evictions uint64
	Corrupt   uint64 // entries rejected by their checks (file cache)
	Errors    uint64 // failed reads and writes other than corruption (file cache)
}

// MemoryCache is a bounded in-memory cache: past MaxEntries it evicts the
// least recently used entry. It is safe for concurrent use.
type MemoryCache struct {
	max int

	mu    sync.Mutex
	ll    *list.List            // guarded by mu; front is most recent; values are *memItem
	items map[Key]*list.Element // guarded by mu
	stats CacheStats            // guarded by mu
}

type memItem struct {
	key   Key
	entry Entry
}

// NewMemoryCache returns a cache holding at most maxEntries states (at
// least 1).
func NewMemoryCache(maxEntries int) *MemoryCache {
	return &MemoryCache{max: max(maxEntries, 1), ll: list.New(), items: make(map[Key]*list.Element)}
}

// Get returns the entry for k.
func (c *MemoryCache) Get(k Key) (Entry, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		c.stats.Misses++
		return Entry{}, false, nil
	}
	c.stats.Hits++
	c.ll.MoveToFront(el)
	return el.Value.(*memItem).entry, true, nil
}

// Put stores e under k, taking ownership of e.State. A Put older than the
// entry it would replace (a lower watermark, from a projection that lost a
// race) is ignored.
func (c *MemoryCache) Put(k Key, e Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Puts++
	if el, ok := c.items[k]; ok {
		it := el.Value.(*memItem)
		if e.Watermark >= it.entry.Watermark {
			it.entry = e
		}
		c.ll.MoveToFront(el)
		return nil
	}
	c.items[k] = c.ll.PushFront(&memItem{key: k, entry: e})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*memItem).key)
		c.stats.Evictions++
	}
	return nil
}

// Remove drops the entry for k, if any.
func (c *MemoryCache) Remove(k Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.Remove(el)
		delete(c.items, k)
	}
}

// Stats returns the cache's counters.
func (c *MemoryCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.ll.Len()
	return s
}
