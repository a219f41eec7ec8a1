package index

import (
	"slices"
	"sort"
	"strings"
	"sync"
)

// Scope prefixes and sets. A region may name several scopes (a set) or
// every scope starting with a prefix. The index serves both from the
// per-scope lists: it resolves the region's terms to scope numbers — a
// name through the interning map, a prefix through the scope names in
// sorted order — and a scan merges those scopes' lists by position, which
// is global order. No entry of another scope is looked at.
//
// The sorted order is built lazily, on the first prefix lookup, and then
// only extended: scopes interned since it was built (the tail) are
// matched one by one, and merged into the order once the tail is long
// enough for that to pay (orderTail), so a store that keeps making new
// scopes pays for each at most a share of one merge.

// orderTail is how many scopes interned after the sorted order was built
// a prefix lookup matches one by one before it rebuilds the order.
const orderTail = 1024

// scopeOrder is the scope numbers below n, sorted by name.
type scopeOrder struct {
	names []string // sorted
	nums  []uint32 // nums[i] is the number of names[i]
}

// orderState guards the building of the sorted order (one builder at a
// time); readers take the current one under the index's lock.
type orderState struct {
	mu  sync.Mutex // held while building
	cur *scopeOrder
}

// order returns a sorted order of the scope names, rebuilt if the tail
// past it has grown long; x.mu must not be held.
func (x *Index) order() *scopeOrder {
	x.mu.RLock()
	cur, names := x.scopeOrder.cur, x.scopeName
	x.mu.RUnlock()
	if cur != nil && len(names)-len(cur.nums) <= orderTail {
		return cur
	}
	x.scopeOrder.mu.Lock()
	defer x.scopeOrder.mu.Unlock()
	x.mu.RLock()
	cur, names = x.scopeOrder.cur, x.scopeName
	x.mu.RUnlock()
	if cur != nil && len(names)-len(cur.nums) <= orderTail {
		return cur // built meanwhile
	}
	next := extendOrder(cur, names)
	x.mu.Lock()
	x.scopeOrder.cur = next
	x.mu.Unlock()
	return next
}

// extendOrder merges the names past cur (all of names if cur is nil) into
// cur's order. Interned names never change, so names may be a snapshot.
func extendOrder(cur *scopeOrder, names []string) *scopeOrder {
	var old scopeOrder
	if cur != nil {
		old = *cur
	}
	fresh := make([]uint32, 0, len(names)-len(old.nums))
	for n := len(old.nums); n < len(names); n++ {
		fresh = append(fresh, uint32(n))
	}
	slices.SortFunc(fresh, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	out := &scopeOrder{names: make([]string, 0, len(names)), nums: make([]uint32, 0, len(names))}
	i, j := 0, 0
	for i < len(old.nums) || j < len(fresh) {
		if j == len(fresh) || (i < len(old.nums) && old.names[i] < names[fresh[j]]) {
			out.names, out.nums = append(out.names, old.names[i]), append(out.nums, old.nums[i])
			i++
		} else {
			out.names, out.nums = append(out.names, names[fresh[j]]), append(out.nums, fresh[j])
			j++
		}
	}
	return out
}

// withPrefix appends the numbers of the scopes in o that start with p.
func (o *scopeOrder) withPrefix(dst []uint32, p string) []uint32 {
	i := sort.SearchStrings(o.names, p)
	for ; i < len(o.names) && strings.HasPrefix(o.names[i], p); i++ {
		dst = append(dst, o.nums[i])
	}
	return dst
}

// resolveScopes returns the numbers of the scopes that match names or
// prefixes, sorted and without duplicates; x.mu is held (read), and o is
// an order taken before it was.
func (x *Index) resolveScopes(o *scopeOrder, names, prefixes []string) []uint32 {
	var nums []uint32
	for _, n := range names {
		if sn, ok := x.scopeNum[n]; ok {
			nums = append(nums, sn)
		}
	}
	if len(prefixes) > 0 {
		for _, p := range prefixes {
			nums = o.withPrefix(nums, p)
		}
		for sn := len(o.nums); sn < len(x.scopeName); sn++ { // the tail
			for _, p := range prefixes {
				if strings.HasPrefix(x.scopeName[sn], p) {
					nums = append(nums, uint32(sn))
					break
				}
			}
		}
	}
	slices.Sort(nums)
	return slices.Compact(nums)
}

// snapshotScopes snapshots the lists of the scopes matching names or
// prefixes, all under one lock, so that together they are the index as
// it was at one instant (a cursor that read past an event of one list must
// never have missed an earlier event of another). It also returns the
// scopes' numbers, sorted.
func (x *Index) snapshotScopes(names, prefixes []string) ([]snapshot, []uint32) {
	var o *scopeOrder
	if len(prefixes) > 0 {
		o = x.order()
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	nums := x.resolveScopes(o, names, prefixes)
	entries := x.entries.view()
	lists := make([]snapshot, 0, len(nums))
	for _, sn := range nums {
		if l := &x.scopes[sn]; l.n > 0 {
			lists = append(lists, snapshot{entries: entries, pos: l.view()})
		}
	}
	return lists, nums
}

// merger yields the entries of several position lists of one entries
// view in position order, which is global order: a binary heap of the
// lists' heads, smallest position on top.
type merger struct {
	lists []snapshot
	heads []head
}

type head struct {
	list, i int    // the list, and the next index in it
	pos     uint32 // the position there
}

func newMerger(lists []snapshot, after uint64) *merger {
	m := &merger{lists: lists, heads: make([]head, 0, len(lists))}
	for li, s := range lists {
		i := 0
		if after > 0 {
			i = s.searchAbove(after)
		}
		if i < s.pos.n {
			m.heads = append(m.heads, head{list: li, i: i, pos: *s.pos.at(i)})
		}
	}
	for k := len(m.heads)/2 - 1; k >= 0; k-- {
		m.down(k)
	}
	return m
}

// next returns the entry at the smallest position left, or nil at the end.
func (m *merger) next() *Entry {
	if len(m.heads) == 0 {
		return nil
	}
	h := &m.heads[0]
	s := m.lists[h.list]
	e := s.entries.at(int(h.pos))
	if h.i++; h.i < s.pos.n {
		h.pos = *s.pos.at(h.i)
	} else {
		last := len(m.heads) - 1
		m.heads[0] = m.heads[last]
		m.heads = m.heads[:last]
	}
	m.down(0)
	return e
}

func (m *merger) down(k int) {
	hs := m.heads
	for {
		l, r, min := 2*k+1, 2*k+2, k
		if l < len(hs) && hs[l].pos < hs[min].pos {
			min = l
		}
		if r < len(hs) && hs[r].pos < hs[min].pos {
			min = r
		}
		if min == k {
			return
		}
		hs[k], hs[min] = hs[min], hs[k]
		k = min
	}
}
