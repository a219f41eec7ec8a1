package index

import "github.com/batpak-go/batpak/event"

// fenceEvery is how many ids each fence stands for.
const fenceEvery = 64

// idList is the sorted list of ids, in entry order, with a fence every
// fenceEvery ids: fence k is id k*fenceEvery. A lookup searches the fences
// (n/64 ids, whose upper levels every lookup shares and keeps in cache)
// and then 64 ids, 1 KiB; searching the ids alone would touch a dozen
// cache lines over several pages of one 64 KiB chunk, and on a virtual
// machine each new page is a costly TLB miss. The fences cost a quarter of
// a byte per event.
type idList struct {
	chunked[event.ID]
	fences chunked[event.ID]
}

func (l *idList) push(id event.ID) {
	if l.n%fenceEvery == 0 {
		l.fences.push(id)
	}
	l.chunked.push(id)
}

// setFilled records n ids filled in bulk (see chunked.storage) and builds
// their fences.
func (l *idList) setFilled(n int) {
	l.chunked.setFilled(n)
	v := l.view()
	for i := 0; i < n; i += fenceEvery {
		l.fences.push(*v.at(i))
	}
}

// idView is a snapshot of an idList.
type idView struct {
	ids, fences view[event.ID]
}

func (l *idList) snapshot() idView { return idView{ids: l.view(), fences: l.fences.view()} }

// search returns the first position whose id is >= id.
func (v idView) search(id event.ID) int {
	g := searchIDs(v.fences, id) // the first fence >= id
	if g == 0 {
		return 0
	}
	// The answer lies in group g-1, or is the first id of group g (the
	// fence, >= id). A group never straddles chunks: fenceEvery divides
	// chunkLen.
	lo := (g - 1) * fenceEvery
	group := v.ids.chunkAt(lo&^(chunkLen-1), v.ids.n)
	off := lo & (chunkLen - 1)
	group = group[off:min(off+fenceEvery, len(group))]
	return lo + lowerBound(group, id)
}
