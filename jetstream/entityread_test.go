package jetstream

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeStream is a stream in memory, written as the store writes one: each
// event carries its entity's links, built from the entity's previous
// event alone.
type fakeStream struct {
	msgs  map[uint64]*storedMsg
	last  uint64
	tails map[string]*entityState
	reads int // messages read by get
}

func newFakeStream() *fakeStream {
	return &fakeStream{msgs: map[uint64]*storedMsg{}, tails: map[string]*entityState{}}
}

func (f *fakeStream) append(t *testing.T, entity string, kind event.EventKind) {
	st := f.tails[entity]
	if st == nil {
		st = &entityState{linked: true}
		f.tails[entity] = st
	}
	f.last++
	id := event.NewID()
	rec := segment.EventRecord{ID: id, Correlation: id, Kind: kind, Sequence: st.next,
		Entity: entity, Scope: "s", Codec: event.CodecRaw, Payload: []byte(fmt.Sprint(f.last))}
	frame, self := segment.AppendEvent(nil, &rec, true, st.hash)
	hdr := nats.Header{}
	if v := st.linkHeader(); v != "" {
		hdr.Set(hdrPrev, v)
	}
	f.msgs[f.last] = &storedMsg{Seq: f.last, Data: frame, hdr: hdr}
	st.advance(f.last, self)
	require.True(t, st.linked)
}

// get reads as multiGet.get does: a missing message ends the read.
func (f *fakeStream) get(seqs []uint64, fn getFunc) (bool, error) {
	for len(seqs) > 0 {
		m := f.msgs[seqs[0]]
		seqs = seqs[1:]
		if m == nil {
			return false, nil
		}
		f.reads++
		more, ok, err := fn(m.Seq, m)
		if err != nil || !ok {
			return ok, err
		}
		seqs = append(seqs, more...)
	}
	return true, nil
}

func (f *fakeStream) walk(entity string, r event.Region, after, through uint64) (linkedRange, error) {
	top := f.tails[entity].last
	return walkLinks(entity, r, after, through, f.msgs[top], f.get)
}

// truth is what a scan returns: entity's events in (after, through] and r.
func (f *fakeStream) truth(t *testing.T, entity string, r event.Region, after, through uint64) []uint64 {
	var out []uint64
	for seq := after + 1; seq <= f.last && (through == 0 || seq <= through); seq++ {
		d, err := decode(seq, f.msgs[seq].Data)
		require.NoError(t, err)
		if d.ev.Coordinate.Entity() == entity && r.Matches(d.ev.Coordinate, d.ev.Kind, d.ev.Sequence) {
			out = append(out, seq)
		}
	}
	return out
}

func globals(lr linkedRange, r event.Region) []uint64 {
	var out []uint64
	for _, e := range lr.evs {
		if ev := e.dec.ev; r.Matches(ev.Coordinate, ev.Kind, ev.Sequence) {
			out = append(out, ev.Global)
		}
	}
	return out
}

// interleaved writes n events over entities a, b, c in a random order
// (a gets about half), of two kinds.
func interleaved(t *testing.T, n int) *fakeStream {
	f := newFakeStream()
	rng := rand.New(rand.NewPCG(3, 4))
	for range n {
		e := []string{"a", "a", "b", "c"}[rng.IntN(4)]
		f.append(t, e, event.EventKind(0x1001+rng.IntN(2)))
	}
	return f
}

// TestWalkLinksRanges reads entity a through its links for many global and
// per-entity ranges and kinds, and checks each read against a scan of the
// whole stream: the same events, chain-checked (Hash.Prev filled for every
// event whose predecessor is read, even across other kinds), with a number
// of messages read close to the number returned.
func TestWalkLinksRanges(t *testing.T) {
	f := interleaved(t, 3000)
	rng := rand.New(rand.NewPCG(5, 6))
	worst := 0
	for i := range 400 {
		r := event.ForEntity("a")
		var after, through uint64
		if i%2 == 1 {
			after = uint64(rng.IntN(3000))
		}
		if i%3 == 1 {
			through = after + 1 + uint64(rng.IntN(3000))
		}
		if i%5 == 2 {
			lo := uint64(rng.IntN(1500))
			r = r.WithSequence(lo, lo+uint64(rng.IntN(400)))
		}
		if i%7 == 3 {
			r = r.WithKind(0x1002)
		}
		f.reads = 0
		lr, err := f.walk("a", r, after, through)
		require.NoError(t, err)
		require.True(t, lr.ok, "read %d", i)
		want := f.truth(t, "a", r, after, through)
		require.Equal(t, want, globals(lr, r), "read %d: after %d through %d %+v", i, after, through, r)
		for j, e := range lr.evs {
			if j > 0 {
				require.Equal(t, lr.evs[j-1].dec.ev.Hash.Self, e.dec.ev.Hash.Prev, "read %d event %d: chain not checked", i, j)
			}
		}
		// Read: the events of the range (of every kind), the newest event,
		// and a few per halving of the entity at each bound.
		n := f.tails["a"].next
		extra := f.reads - len(lr.evs)
		worst = max(worst, extra)
		assert.LessOrEqual(t, extra, 1+2*bits.Len64(n), "read %d: %d messages for %d events", i, f.reads, len(lr.evs))
	}
	t.Logf("at most %d messages read beyond the events returned, for an entity of %d", worst, f.tails["a"].next)
}

// TestWalkLinksWide: a range of more than entityReadMax events is not held
// but handed to a scan, narrowed to where the entity's events of the range
// are.
func TestWalkLinksWide(t *testing.T) {
	f := newFakeStream()
	for range 100 {
		f.append(t, "other", 0x1001)
	}
	for range entityReadMax + 500 {
		f.append(t, "big", 0x1001)
	}
	first := uint64(101)
	lr, err := f.walk("big", event.ForEntity("big"), 0, 0)
	require.NoError(t, err)
	require.False(t, lr.ok)
	assert.Equal(t, first-1, lr.after, "the scan starts at the entity's first event")
	assert.Equal(t, f.last, lr.through)

	// A range that fits is read through the links even so.
	lr, err = f.walk("big", event.ForEntity("big"), f.last-1000, 0)
	require.NoError(t, err)
	require.True(t, lr.ok)
	assert.Len(t, lr.evs, 1000)
}

// TestWalkLinksLies gives one event of entity a at a time links that lie —
// each names a random earlier message instead: another entity's, another
// event of a, or the right one — or none, or garbage, and reads a: each
// read returns exactly the events a scan returns, or hands the whole range
// to a scan; never a wrong or a missing event.
func TestWalkLinksLies(t *testing.T) {
	base := interleaved(t, 600)
	var aSeqs []uint64
	for seq := uint64(1); seq <= base.last; seq++ {
		if d, _ := decode(seq, base.msgs[seq].Data); d.ev.Coordinate.Entity() == "a" {
			aSeqs = append(aSeqs, seq)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	randomLinks := func(own, k uint64) string {
		n := len(linkSeqs(k))
		if own <= uint64(n) {
			return ""
		}
		picked := map[uint64]bool{}
		for len(picked) < n {
			picked[1+uint64(rng.IntN(int(own-1)))] = true
		}
		var seqs []uint64
		for s := range picked {
			seqs = append(seqs, s)
		}
		slices.Sort(seqs)
		slices.Reverse(seqs)
		return formatLinks(absLinks(seqs), -1)
	}
	fellBack := 0
	for trial := range 3000 {
		victim := aSeqs[1+rng.IntN(len(aSeqs)-1)]
		d, _ := decode(victim, base.msgs[victim].Data)
		k := d.ev.Sequence
		var v string
		switch trial % 10 {
		case 0:
			v = "" // none, as before links existed
		case 1:
			v = "x,1"
		default:
			v = randomLinks(victim, k)
		}
		f := cloneStream(base)
		m := *f.msgs[victim]
		m.hdr = nats.Header{}
		if v != "" {
			m.hdr.Set(hdrPrev, v)
		}
		f.msgs[victim] = &m
		after := uint64(0)
		if trial%2 == 1 {
			after = uint64(rng.IntN(int(victim)))
		}
		r := event.ForEntity("a")
		lr, err := f.walk("a", r, after, 0)
		require.NoError(t, err)
		if !lr.ok {
			fellBack++
			require.Equal(t, linkedRange{after: after}, lr, "trial %d: a failed walk scans the whole range", trial)
			continue
		}
		require.Equal(t, f.truth(t, "a", r, after, 0), globals(lr, r), "trial %d: links of %d (event %d) = %q, after %d", trial, victim, k, v, after)
	}
	assert.Greater(t, fellBack, 1000, "most lies are caught")
}

func cloneStream(f *fakeStream) *fakeStream {
	c := newFakeStream()
	for k, v := range f.msgs {
		c.msgs[k] = v
	}
	c.last = f.last
	for k, v := range f.tails {
		c.tails[k] = &entityState{last: v.last, next: v.next, hash: v.hash, links: v.links, linked: v.linked}
	}
	return c
}
