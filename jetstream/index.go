package jetstream

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/batpak-go/batpak/event"
)

// The id index. Writing one bucket entry per event would double the
// server's work per append, so a store gathers the (id, stream sequence)
// pairs of the events it appends into chunks, one per time slot of the
// ids' own timestamps, and writes each chunk as one entry keyed
//
//	t.<slot>.<store nonce>.<chunk number>
//
// Get computes the slot from the id it is asked for (a UUIDv7 carries its
// millisecond) and reads every chunk of that slot with one batched direct
// get ("last message per subject" over t.<slot>.>). A chunk is written
// without waiting, when it fills, when the store moves to another slot, or
// at most chunkDelay after its first entry; a store's own unwritten entries
// are looked up in memory. Entries lost with their writer are found by
// Get's fallback scan.

const (
	slotMS     = 16                   // the ids of one slot are 16 ms of a client's clock
	chunkMax   = 256                  // pairs per chunk at most
	chunkDelay = 5 * time.Millisecond // how long a chunk may wait for more pairs
)

type idIndex struct {
	mu      sync.Mutex
	nonce   string
	n       uint64 // chunks written
	slot    int64
	pending map[event.ID]uint64 // the open chunk
	order   []event.ID
	timer   *time.Timer
	cache   slotCache // chunks read by Get (idcache.go)
}

func newIDIndex() *idIndex {
	id := event.NewID()
	return &idIndex{nonce: hex.EncodeToString(id[10:]), pending: map[event.ID]uint64{}}
}

func slotOf(id event.ID) int64 { return id.UnixMilli() / slotMS }

// indexID records an event's stream sequence in the open chunk.
func (s *Store) indexID(id event.ID, seq uint64) {
	x := s.idIndex
	x.mu.Lock()
	defer x.mu.Unlock()
	slot := slotOf(id)
	if len(x.order) > 0 && (slot != x.slot || len(x.order) >= chunkMax) {
		s.flushLocked()
	}
	if len(x.order) == 0 {
		x.slot = slot
		if x.timer == nil {
			x.timer = time.AfterFunc(chunkDelay, s.flushIndex)
		} else {
			x.timer.Reset(chunkDelay)
		}
	}
	if _, dup := x.pending[id]; !dup {
		x.order = append(x.order, id)
	}
	x.pending[id] = seq
}

// flushIndex writes the open chunk (the timer's callback, and Close's).
func (s *Store) flushIndex() {
	s.idIndex.mu.Lock()
	defer s.idIndex.mu.Unlock()
	s.flushLocked()
}

func (s *Store) flushLocked() { s.writeChunk(false) }

// writeChunk writes the open chunk; wait makes it a request that returns
// once the bucket has stored it (Close's last chunk), else it is not
// waited for.
func (s *Store) writeChunk(wait bool) {
	x := s.idIndex
	if len(x.order) == 0 {
		return
	}
	buf := make([]byte, 0, len(x.order)*20)
	for _, id := range x.order {
		buf = append(buf, id[:]...)
		buf = binary.AppendUvarint(buf, x.pending[id])
	}
	x.n++
	key := "t." + strconv.FormatInt(x.slot, 10) + "." + x.nonce + "." + strconv.FormatUint(x.n, 10)
	if wait {
		_, _ = s.nc.Request("$KV."+s.idx+"."+key, buf, s.opts.Timeout)
	} else {
		_ = s.nc.Publish("$KV."+s.idx+"."+key, buf) // a hint: a lost chunk costs Get a scan
	}
	clear(x.pending)
	x.order = x.order[:0]
}

// pendingSeq looks id up among this store's unwritten pairs.
func (s *Store) pendingSeq(id event.ID) (uint64, bool) {
	s.idIndex.mu.Lock()
	defer s.idIndex.mu.Unlock()
	seq, ok := s.idIndex.pending[id]
	return seq, ok
}

// closeIndex stops the timer and writes the open chunk, waiting for it,
// so what a closed store appended can be found by id at once.
func (s *Store) closeIndex() {
	s.idIndex.mu.Lock()
	defer s.idIndex.mu.Unlock()
	if s.idIndex.timer != nil {
		s.idIndex.timer.Stop()
	}
	s.writeChunk(true)
}

// lookupID finds id's stream sequence in the index: this store's open
// chunk, then the chunks of id's slot — as cached unless fresh is set, else
// read (with one batched direct get) and cached. cached reports that the
// answer came from the cache without a read.
func (s *Store) lookupID(ctx context.Context, id event.ID, fresh bool) (seq uint64, found, cached bool, err error) {
	if seq, ok := s.pendingSeq(id); ok {
		return seq, true, false, nil
	}
	if !fresh {
		if seq, found, ok := s.idIndex.cache.lookup(id); ok {
			return seq, found, true, nil
		}
	}
	slot := slotOf(id)
	subj := "$KV." + s.idx + ".t." + strconv.FormatInt(slot, 10) + ".>"
	var chunks [][]byte
	err = s.retry(ctx, "index lookup", func(ctx context.Context) error {
		msgs, _, err := s.scanPage(ctx, "KV_"+s.idx, directRequest{MultiLastFor: []string{subj}}, 0)
		chunks = chunks[:0]
		for _, m := range msgs {
			chunks = append(chunks, m.data)
		}
		return err
	})
	if err != nil {
		return 0, false, false, err
	}
	s.idIndex.cache.put(slot, chunks)
	seq, found, _ = s.idIndex.cache.lookup(id)
	return seq, found, false, nil
}

// eachPair calls fn with each (id, sequence) pair of an index chunk, up to
// the first malformed one.
func eachPair(b []byte, fn func(id event.ID, seq uint64)) {
	for len(b) >= 17 {
		var id event.ID
		copy(id[:], b)
		seq, n := binary.Uvarint(b[16:])
		if n <= 0 {
			return
		}
		fn(id, seq)
		b = b[16+n:]
	}
}

// findPair looks id up in an index chunk.
func findPair(b []byte, id event.ID) (seq uint64, found bool) {
	eachPair(b, func(got event.ID, s uint64) {
		if !found && got == id {
			seq, found = s, true
		}
	})
	return seq, found
}
