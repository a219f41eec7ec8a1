package batpak

import (
	"context"
	"sync"

	"github.com/batpak-go/batpak/index"
)

// Queries read their events a block of entries at a time: the entries
// are gathered from the index first, then their frames are copied out of
// the segments under one lock (independent copies the processor overlaps,
// where reading one event at a time waits for each frame's cache misses in
// turn), then decoded into events allocated together. A block starts
// small, so a caller that stops after a few events has not paid for many,
// and doubles up to blockMaxEntries; a block's frames are read in parts of
// at most blockMaxBytes (or one frame, if larger).
const (
	blockFirstEntries = 8
	blockMaxEntries   = 128
	blockMaxBytes     = 256 << 10
)

// run reads the entries sc yields, block by block, until the caller or an
// error stops it.
func (q *queryReader) run(sc *index.Scan) {
	var buf [blockMaxEntries]index.Entry
	limit := blockFirstEntries
	for {
		n := sc.Next(buf[:limit])
		if n == 0 || !q.flushBounded(buf[:n]) {
			return
		}
		limit = min(2*limit, blockMaxEntries)
	}
}

// flushBounded reads a block in parts of at most blockMaxBytes of frames
// (a larger frame is a part of its own), so huge events do not make one
// huge allocation that every event of the block would keep alive.
func (q *queryReader) flushBounded(block []index.Entry) bool {
	for start := 0; start < len(block); {
		end, bytes := start, 0
		for end < len(block) && (end == start || bytes+int(block[end].Size) <= blockMaxBytes) {
			bytes += int(block[end].Size)
			end++
		}
		if !q.flush(block[start:end]) {
			return false
		}
		start = end
	}
	return true
}

// queryReader reads the blocks of one query and yields their events.
type queryReader struct {
	s      *Store
	ctx    context.Context
	yield  func(*StoredEvent, error) bool
	stream bool // a single entity's events, in sequence order: fill Hash.Prev
	// correlation, if not zero, keeps only the events of that workflow
	// (the index's candidates include the event with that id, which may
	// belong to another workflow).
	correlation ID
	// In an entity stream the previous hash is usually the one just read.
	prev    [32]byte
	prevSeq uint64
	// frames holds the frames of the block being read; it is reused from
	// block to block and query to query (framePool), since only the
	// payloads are kept, copied out.
	frames *[]byte
}

// framePool recycles the buffers queries read frames into.
var framePool = sync.Pool{New: func() any { return new([]byte) }}

// release returns the query's frame buffer to the pool.
func (q *queryReader) release() {
	if q.frames != nil {
		if cap(*q.frames) <= blockMaxBytes {
			framePool.Put(q.frames)
		}
		q.frames = nil
	}
}

// frameBuf returns a buffer of size bytes for a block's frames.
func (q *queryReader) frameBuf(size int) []byte {
	if q.frames == nil {
		q.frames = framePool.Get().(*[]byte)
	}
	if cap(*q.frames) < size {
		*q.frames = make([]byte, max(size, 2*cap(*q.frames)))
	}
	return (*q.frames)[:size]
}

// flush reads a block's events and yields them: one allocation for the
// events and one for their payloads, copied out of the frames. Keeping
// the payloads rather than the frames (which also hold the header, the
// hash and the coordinate, about 100 bytes of each small event) lets the
// frame buffer be reused, and cuts the memory a query allocates by about
// a third.
func (q *queryReader) flush(block []index.Entry) bool {
	if err := q.s.readable(q.ctx); err != nil {
		q.yield(nil, err)
		return false
	}
	size := 0
	for i := range block {
		size += int(block[i].Size)
	}
	frames := q.frameBuf(size)
	evs := make([]StoredEvent, len(block))
	names := q.s.idx.Names() // taken after the entries, so it resolves them all
	n, err := q.s.segs.ReadBlock(&names, block, evs, frames)
	keepPayloads(evs[:n])
	for i := range n {
		if i > 0 {
			if err := q.s.readable(q.ctx); err != nil {
				q.yield(nil, err)
				return false
			}
		}
		ev := &evs[i]
		if !q.correlation.IsZero() && ev.Correlation != q.correlation {
			continue
		}
		var linkErr error
		if q.stream {
			linkErr = q.link(block[i], ev)
		}
		if !q.yield(ev, linkErr) || linkErr != nil {
			return false
		}
	}
	if err != nil {
		if q.s.closed.Load() {
			err = ErrClosed // the segments closed under the read
		}
		q.yield(nil, err)
		return false
	}
	return true
}

// keepPayloads moves the payloads of evs, which alias a reused frame
// buffer, into one allocation of their own.
func keepPayloads(evs []StoredEvent) {
	total := 0
	for i := range evs {
		total += len(evs[i].Payload)
	}
	kept := make([]byte, total)
	for i := range evs {
		n := copy(kept, evs[i].Payload)
		evs[i].Payload, kept = kept[:n:n], kept[n:]
	}
}

// link sets Hash.Prev of an entity stream's event: the hash of the event
// yielded just before when that is its predecessor, else read.
func (q *queryReader) link(e index.Entry, ev *StoredEvent) error {
	var err error
	if ev.Position.Sequence > 0 && ev.Position.Sequence == q.prevSeq+1 && q.prev != ([32]byte{}) {
		ev.Hash.Prev = q.prev
	} else {
		err = q.s.fillPrev(e, ev, nil)
	}
	q.prev, q.prevSeq = ev.Hash.Self, ev.Position.Sequence
	return err
}
