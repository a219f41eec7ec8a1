package jetstream

import (
	"context"

	"github.com/nats-io/nats.go"
)

// Atomic batches in capped reads. The server stores an atomic batch's
// messages with the headers they were published with: each carries the
// batch's id, the last one the commit mark, and the messages take
// consecutive stream sequences. Cursors use them to keep a batch whole:
// a read capped by a count goes on to the end of the batch it is in, and
// NextBatch ends before a batch it cannot hold (or returns a batch that
// alone exceeds its limit whole).
//
// A read whose last message leaves its batch open — the commit is on a
// message outside the read's subject filter, or a consumer read passed
// the batch while the server was still storing it — asks the stream for
// the batch's end with a direct get over every subject (batchEnd) and
// reads on to it (scan). The server answers a direct get (and a message
// get) only once a batch being committed is stored whole, so the rest of
// the batch is then there to be read.
const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
)

// batchOf returns the id of the atomic batch a stored message belongs to
// ("" for an event appended alone) and whether more of the batch follows
// it.
func batchOf(h nats.Header) (id string, open bool) {
	id = h.Get(hdrBatchID)
	return id, id != "" && h.Get(hdrBatchCommit) == ""
}

// batchEnd returns the stream sequence of the last message of batch id,
// of which the message at seq is one, not the last.
func (s *Store) batchEnd(ctx context.Context, id string, seq uint64) (uint64, error) {
	end := seq
	err := s.scanStored(ctx, s.subj.all(), seq+1, 0, nil, func(m rawMsg) error {
		bid, open := batchOf(m.hdr)
		if bid != id {
			return errStop // the batch ended before (its commit was not marked)
		}
		end = m.seq
		if !open {
			return errStop
		}
		return nil
	})
	return end, err
}

// batchCut returns how many of a cursor's buffered events, whose batch ids
// are ids, the next call returns for a limit of max: at most max, moved
// off the inside of a batch — back to before it, or, when it starts the
// call, on to its end. openTail is the batch whose events may continue
// past the buffer ("" if the buffer ends between batches); ok is false
// when the call would end in it with nothing before it: the caller must
// read the rest of that batch first.
func batchCut(ids []string, max int, openTail string) (n int, ok bool) {
	n = min(max, len(ids))
	var id string
	switch {
	case n < len(ids) && ids[n-1] != "" && ids[n] == ids[n-1]:
		id = ids[n-1]
	case n == len(ids) && openTail != "" && ids[n-1] == openTail:
		id = openTail
	default:
		return n, true
	}
	k := n - 1
	for k > 0 && ids[k-1] == id {
		k--
	}
	if k > 0 {
		return k, true
	}
	for n < len(ids) && ids[n] == id {
		n++
	}
	return n, n < len(ids) || id != openTail
}
