package jetstream

import (
	"context"
	"errors"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/nats-io/nats.go"
)

// Reading one entity by its links (links.go). The read starts at the
// entity's newest event (a direct get of the last message on the entity's
// subjects), and every event it reads names earlier ones by stream
// sequence; those are read with direct gets by sequence, many in flight
// at once (multiget.go), until every event of the wanted range is read.
//
// A link is a claim until the message it names is read: the message must
// be an event of the entity with the per-entity sequence the link promised
// and the stream sequence it named. Only events read and checked decide
// where the wanted range begins and ends, so a link that lies can cost a
// read, never an event: any claim that does not hold — a message of
// another entity or sequence, none at all, two links naming different
// messages for one sequence, an event without links in the middle of an
// entity written before links existed — ends the linked read, and the
// caller scans instead (read.go). The events are then chained as a scan
// chains them.

// entityReadMax bounds how many events one linked read holds before
// returning them; a wider range is scanned, starting where the links say
// it starts.
const entityReadMax = 4096

// linkedEvent is one event read through the links.
type linkedEvent struct {
	dec decoded
	hdr nats.Header
}

// linkedRange is what readLinked found: the events in order, or, when ok
// is false, the stream sequences a scan must cover: from (exclusive) to
// through (inclusive, 0 for no bound).
type linkedRange struct {
	evs     []linkedEvent
	ok      bool
	after   uint64
	through uint64
}

// readLinked reads entity's events with a global sequence in (after,
// through] (through 0: no bound) and a per-entity sequence in
// [r.MinSequence, r.MaxSeq()], in sequence order, chain-checked where the
// predecessor was read.
func (s *Store) readLinked(ctx context.Context, entity string, r event.Region, after, through uint64) (linkedRange, error) {
	top, err := s.directGet(ctx, msgGetRequest{LastFor: s.subj.entity(entity)})
	if errors.Is(err, batpak.ErrNotFound) {
		return linkedRange{ok: true}, nil
	}
	if err != nil {
		return linkedRange{}, err
	}
	f := s.newMultiGet()
	defer f.close()
	return walkLinks(entity, r, after, through, top, func(seqs []uint64, fn getFunc) (bool, error) {
		return f.get(ctx, seqs, fn)
	})
}

// getFunc takes the message read at a stream sequence and returns the
// sequences to read next, or false to stop.
type getFunc func(seq uint64, m *storedMsg) (more []uint64, ok bool, err error)

// walkLinks is readLinked from the entity's newest message top, reading
// messages by stream sequence with get (multiGet.get's contract).
func walkLinks(entity string, r event.Region, after, through uint64, top *storedMsg,
	get func(seqs []uint64, fn getFunc) (bool, error)) (linkedRange, error) {
	fallback := linkedRange{after: after, through: through}
	w := &linkWalk{
		entity: entity, after: after, through: through,
		claims: map[uint64]uint64{}, got: map[uint64]*linkedEvent{}, asked: map[uint64]uint64{},
	}
	topDec, err := decode(top.Seq, top.Data)
	if err != nil {
		return fallback, err
	}
	topSeq := topDec.ev.Sequence
	w.lo, w.hi = r.MinSequence, min(r.MaxSeq(), topSeq)
	w.claims[topSeq] = top.Seq
	if !w.accept(topSeq, top.Seq, topDec, top.hdr) {
		return fallback, nil
	}
	for {
		if w.lo > w.hi {
			return linkedRange{ok: true}, nil
		}
		want := w.next()
		if want == nil {
			break
		}
		if len(want) == 0 { // the range is too wide to hold: scan it
			return w.scanRange(), nil
		}
		ok, err := get(want, func(seq uint64, m *storedMsg) ([]uint64, bool, error) {
			k := w.asked[seq]
			d, err := decode(m.Seq, m.Data)
			if err != nil || !w.accept(k, seq, d, m.hdr) {
				// A message a link named that is not the event it
				// promised (damaged, or another one): the scan decides.
				return nil, false, nil
			}
			return w.follow(k), true, nil
		})
		if err != nil {
			return fallback, err
		}
		if !ok {
			return fallback, nil
		}
	}
	return w.finish(fallback)
}

// linkWalk is the state of one linked read.
type linkWalk struct {
	entity         string
	after, through uint64
	lo, hi         uint64                  // the wanted per-entity sequences, narrowed by events read
	claims         map[uint64]uint64       // per-entity sequence → stream sequence, as links claim
	got            map[uint64]*linkedEvent // per-entity sequence → event read and checked
	asked          map[uint64]uint64       // stream sequence asked for → per-entity sequence
	// The best low and high claims follow asked for.
	bestLow, bestHigh uint64
	haveLow, haveHigh bool
}

// ask records that the claim for per-entity sequence k is being read and
// returns its stream sequence.
func (w *linkWalk) ask(k uint64) uint64 {
	seq := w.claims[k]
	w.asked[seq] = k
	return seq
}

// isAsked reports whether the claim for k was asked for (or read).
func (w *linkWalk) isAsked(k uint64) bool {
	_, ok := w.asked[w.claims[k]]
	return ok
}

// Which claims are read. A claim of the wanted per-entity range [lo, hi]
// is "in" if the stream sequence it names lies in (after, through], "low"
// if at or below after, "high" if above through. Of the low claims only
// the highest is read (if it holds, lo moves above it), of the high ones
// only the lowest; the in claims are all read, except while the range is
// too wide to hold, when only the lowest is (its links lead down towards
// the low bound). Above the range, the lowest claim is read while hi
// itself is not claimed: only its links can name the events below it.

func (w *linkWalk) wide() bool { return w.hi-w.lo >= entityReadMax }

// class sorts the claim for k: 'i'n, 'l'ow, 'h'igh, or 0 outside [lo, hi].
func (w *linkWalk) class(k uint64) byte {
	seq := w.claims[k]
	switch {
	case k < w.lo || k > w.hi:
		return 0
	case seq <= w.after:
		return 'l'
	case w.through > 0 && seq > w.through:
		return 'h'
	}
	return 'i'
}

// follow returns the stream sequences to read at once after event k was
// read: its in links (unless the range is too wide to hold), and those of
// its links that are better low or high candidates than any asked for.
// next completes the choice when nothing is in flight.
func (w *linkWalk) follow(k uint64) []uint64 {
	if w.lo > w.hi {
		return nil
	}
	var (
		out               []uint64
		low, high         uint64
		haveLow, haveHigh bool
	)
	for _, ks := range linkSeqs(k) {
		if w.isAsked(ks) {
			continue
		}
		switch w.class(ks) {
		case 'i':
			if !w.wide() {
				out = append(out, w.ask(ks))
			}
		case 'l':
			if !haveLow || ks > low {
				low, haveLow = ks, true
			}
		case 'h':
			if !haveHigh || ks < high {
				high, haveHigh = ks, true
			}
		}
	}
	if haveLow && (!w.haveLow || low > w.bestLow) {
		w.bestLow, w.haveLow = low, true
		out = append(out, w.ask(low))
	}
	if haveHigh && (!w.haveHigh || high < w.bestHigh) {
		w.bestHigh, w.haveHigh = high, true
		out = append(out, w.ask(high))
	}
	return out
}

// accept checks the event read for per-entity sequence k at stream
// sequence seq against what the links claimed, records it and its links,
// and narrows the wanted range. false: a claim did not hold.
func (w *linkWalk) accept(k, seq uint64, d decoded, hdr nats.Header) bool {
	ev := d.ev
	if ev.Coordinate.Entity() != w.entity || ev.Sequence != k || ev.Global != seq || w.claims[k] != seq {
		return false
	}
	if k > 0 {
		prev, err := parseLinks(hdr.Get(hdrPrev), seq, k)
		if err != nil {
			return false // no links (written before them), or damaged ones
		}
		for i, ks := range linkSeqs(k) {
			if c, ok := w.claims[ks]; ok && c != prev[i] {
				return false // two links name different messages for one event
			}
			w.claims[ks] = prev[i]
		}
	}
	w.got[k] = &linkedEvent{dec: d, hdr: hdr}
	if seq <= w.after && k+1 > w.lo {
		w.lo = k + 1
	}
	if w.through > 0 && seq > w.through && k <= w.hi {
		if k == 0 {
			w.lo, w.hi = 1, 0 // empty
		} else {
			w.hi = k - 1
		}
	}
	return true
}

// next returns the stream sequences to read next (recorded as asked for)
// when nothing is in flight, by the rules above. nil: nothing is left to
// read; empty: the range is too wide to hold and nothing read next would
// narrow it.
func (w *linkWalk) next() []uint64 {
	var (
		out               []uint64
		low, high, in     uint64
		haveLow, haveHigh bool
		haveIn, haveAbove bool
		above             uint64
		hiClaimed         bool
	)
	wide := w.wide()
	for k := range w.claims {
		if k == w.hi {
			hiClaimed = true
		}
		if k > w.hi && (!haveAbove || k < above) {
			above, haveAbove = k, true
		}
		if w.isAsked(k) {
			continue
		}
		switch w.class(k) {
		case 'i':
			if !wide {
				out = append(out, w.ask(k))
			} else if !haveIn || k < in {
				in, haveIn = k, true
			}
		case 'l':
			if !haveLow || k > low {
				low, haveLow = k, true
			}
		case 'h':
			if !haveHigh || k < high {
				high, haveHigh = k, true
			}
		}
	}
	for _, c := range []struct {
		k  uint64
		ok bool
	}{{low, haveLow}, {high, haveHigh}, {in, haveIn}, {above, haveAbove && !hiClaimed}} {
		if c.ok && !w.isAsked(c.k) {
			out = append(out, w.ask(c.k))
		}
	}
	switch {
	case out != nil:
		return out
	case wide:
		return []uint64{}
	}
	return nil
}

// scanRange is where a scan of a range too wide to hold starts and ends,
// as far as events read say: after the event before the range (or just
// before its first), up to its last (or just before the event after it).
func (w *linkWalk) scanRange() linkedRange {
	lr := linkedRange{after: w.after, through: w.through}
	narrow := func(g uint64) {
		if lr.through == 0 || g < lr.through {
			lr.through = g
		}
	}
	if e, ok := w.got[w.lo]; ok {
		lr.after = max(lr.after, e.dec.ev.Global-1)
	} else if e, ok := w.got[w.lo-1]; ok && w.lo > 0 {
		lr.after = max(lr.after, e.dec.ev.Global)
	}
	if e, ok := w.got[w.hi]; ok {
		narrow(e.dec.ev.Global)
	} else if e, ok := w.got[w.hi+1]; ok {
		narrow(e.dec.ev.Global - 1)
	}
	return lr
}

// finish returns the events of the wanted range in order, checked: every
// sequence present, stream sequences rising, and each chain hash following
// from its predecessor's where that was read.
func (w *linkWalk) finish(fallback linkedRange) (linkedRange, error) {
	if w.lo > w.hi {
		return linkedRange{ok: true}, nil
	}
	out := make([]linkedEvent, 0, w.hi-w.lo+1)
	var prev *linkedEvent
	if w.lo > 0 {
		prev = w.got[w.lo-1]
	}
	for k := w.lo; k <= w.hi; k++ {
		e := w.got[k]
		if e == nil || (prev != nil && e.dec.ev.Global <= prev.dec.ev.Global) {
			return fallback, nil
		}
		var prevHash [32]byte
		checked := k == 0
		if prev != nil {
			prevHash, checked = prev.dec.ev.Hash.Self, true
		}
		if checked {
			if !segment.VerifyHash(e.dec.body, prevHash) {
				ev := e.dec.ev
				return linkedRange{}, &chainError{entity: w.entity, seq: k, global: ev.Global}
			}
			e.dec.ev.Hash.Prev = prevHash
		}
		out = append(out, *e)
		prev = e
	}
	return linkedRange{evs: out, ok: true}, nil
}
