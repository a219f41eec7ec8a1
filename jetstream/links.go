package jetstream

import (
	"errors"
	"strconv"
	"strings"
)

// Entity links: the index of an entity's events that the stream keeps
// itself. JetStream has no index from a subject to the sequences of the
// messages stored on it (beyond its first and last), so reading one
// entity's events with a subject filter walks every message between them.
// Instead every event carries, in the header Bp-Prev, the stream sequences
// of a few earlier events of its entity, and a read follows them.
//
// The event with per-entity sequence k links to the events with sequences
//
//	k-1, then k-1 with its lowest set bits cleared one at a time, down to 0
//
// (for k = 100: 99, 98, 96, 64, 0): one link per set bit of k-1, plus one.
// From the newest event a reader learns events at exponentially growing
// distances; each of those links to the events below it the same way, so
// every event of an entity of n is found within about log2(n) rounds of
// reads, each round's reads sent together (entityread.go). The links of
// event k+1 are event k and the links of event k from k&(k-1) down, so a
// writer needs nothing but the entity's newest event to write them.
//
// The links are written in the same message as the event, so they can
// never lag behind it; a reader still checks every event it reads through
// them — the entity and the per-entity sequence the link promised, and the
// chain hash — and falls back to a scan when a link does not hold.
//
// Format: the stream sequences, newest first, comma-separated, in decimal.
// A link to an earlier item of the same atomic batch, whose sequence is not
// known when the batch is sealed, is "b" and its distance back from the
// message's own sequence (the items of a batch take consecutive sequences);
// such links come first. Of the others the first is absolute and each next
// one is written as its distance below the one before it: "b1,4711,40,1200".
const hdrPrev = "Bp-Prev"

// linkSeqs returns the per-entity sequences the event with sequence k
// links to, newest first (none for k = 0).
func linkSeqs(k uint64) []uint64 {
	if k == 0 {
		return nil
	}
	out := make([]uint64, 0, 8)
	for t := k - 1; ; t &= t - 1 {
		out = append(out, t)
		if t == 0 {
			return out
		}
	}
}

// link is one link as a writer holds it: a stream sequence, or, inside a
// batch being sealed, an earlier item of the batch whose sequence is not
// known yet.
type link struct {
	seq  uint64 // 0 while item is set
	item int    // the batch item linked to, -1 for none
}

// nextLinks returns the links of event k+1 from those of event k (prev, in
// linkSeqs(k) order) and event k itself (at). ok is false when prev does
// not fit k (the entity's links are unknown).
func nextLinks(k uint64, at link, prev []link) ([]link, bool) {
	seqs := linkSeqs(k)
	if len(prev) != len(seqs) {
		return nil, false
	}
	out := make([]link, 0, len(seqs)+1)
	out = append(out, at)
	if k == 0 {
		return out, true
	}
	keep := k & (k - 1) // links(k+1) = k, then k&(k-1) and the links of k below it
	for i, s := range seqs {
		if s <= keep {
			return append(out, prev[i:]...), true
		}
	}
	return nil, false // unreachable: linkSeqs(k) ends with 0
}

// absLinks turns stream sequences into links.
func absLinks(seqs []uint64) []link {
	out := make([]link, len(seqs))
	for i, s := range seqs {
		out[i] = link{seq: s, item: -1}
	}
	return out
}

// formatLinks renders the links of batch item self (-1 outside a batch).
func formatLinks(ls []link, self int) string {
	var b strings.Builder
	b.Grow(len(ls) * 6)
	var prevAbs uint64
	abs := false
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		switch {
		case l.item >= 0:
			b.WriteByte('b')
			b.WriteString(strconv.Itoa(self - l.item))
		case !abs:
			b.WriteString(strconv.FormatUint(l.seq, 10))
			abs, prevAbs = true, l.seq
		default:
			b.WriteString(strconv.FormatUint(prevAbs-l.seq, 10))
			prevAbs = l.seq
		}
	}
	return b.String()
}

var errBadLinks = errors.New("jetstream: malformed entity links")

// parseLinks reads the links of the message stored at stream sequence own
// holding the event with per-entity sequence k. The result is in
// linkSeqs(k) order, strictly decreasing and below own, or an error.
func parseLinks(v string, own, k uint64) ([]uint64, error) {
	want := linkSeqs(k)
	if len(want) == 0 {
		if v != "" {
			return nil, errBadLinks
		}
		return nil, nil
	}
	out := make([]uint64, 0, len(want))
	var prevAbs uint64
	abs := false
	for tok := range strings.SplitSeq(v, ",") {
		var s uint64
		switch {
		case strings.HasPrefix(tok, "b"):
			if abs {
				return nil, errBadLinks // batch links come first
			}
			d, err := strconv.ParseUint(tok[1:], 10, 64)
			if err != nil || d == 0 || d >= own {
				return nil, errBadLinks
			}
			s = own - d
		default:
			d, err := strconv.ParseUint(tok, 10, 64)
			if err != nil {
				return nil, errBadLinks
			}
			if !abs {
				s, abs = d, true
			} else {
				if d == 0 || d >= prevAbs {
					return nil, errBadLinks
				}
				s = prevAbs - d
			}
			prevAbs = s
		}
		if s == 0 || s >= own || (len(out) > 0 && s >= out[len(out)-1]) {
			return nil, errBadLinks
		}
		out = append(out, s)
	}
	if len(out) != len(want) {
		return nil, errBadLinks
	}
	return out, nil
}
