package writer

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
)

// These tests drive the core alone: no goroutines, no files. coreRig
// stands in for the shell, "writing" the core's frames into in-memory
// segments and publishing flushes as the fsync actor would.

type coreRig struct {
	t     *testing.T
	c     *core
	idx   *index.Index
	segs  map[uint64][]byte // bytes written to each segment, from offset 0
	marks []uint64          // reservation marks the core asked for, in order
	fail  sticky
}

var rigEpoch = time.Unix(1_700_000_000, 0).UTC()

func newCoreRig(t *testing.T, segSize int64) *coreRig {
	t.Helper()
	r := &coreRig{t: t, idx: index.New(), segs: map[uint64][]byte{1: make([]byte, segment.HeaderSize)}}
	clock := rigEpoch
	r.c = &core{
		idx: r.idx, hashChain: true, segSize: segSize, notify: true, fail: &r.fail,
		clock: func() time.Time { clock = clock.Add(time.Millisecond); return clock },
		log:   logAccess{loadEvent: r.load, readFrame: r.readFrame, beginsBatch: r.beginsBatch},
		st:    newState(0, event.ID{}, event.Position{}),
		seg:   1, end: segment.HeaderSize,
	}
	r.c.st.ids = event.NewSeededGenerator(event.ID{}, [32]byte{'b', 'a', 't', 'p', 'a', 'k'})
	return r
}

func (r *coreRig) readFrame(seg uint64, p []byte, off int64) error {
	b, ok := r.segs[seg]
	if !ok || off+int64(len(p)) > int64(len(b)) {
		return errors.New("rig: no such bytes")
	}
	copy(p, b[off:])
	return nil
}

func (r *coreRig) load(e index.Entry) (*event.StoredEvent, error) {
	p := make([]byte, e.Size)
	if err := r.readFrame(uint64(e.Segment), p, int64(e.Offset)); err != nil {
		return nil, err
	}
	return decodeEvent(p)
}

func (r *coreRig) beginsBatch(e index.Entry, count int) (bool, error) {
	want := segment.AppendMarker(nil, segment.TypeBatchBegin, segment.Marker{Count: uint32(count), FirstGlobal: e.Global})
	b := r.segs[uint64(e.Segment)]
	at := int(e.Offset) - len(want)
	return at >= 0 && string(b[at:e.Offset]) == string(want), nil
}

// drain runs reqs through the core as the shell does — step, reserve,
// write, hand on, rotate — and returns the flushes, in order. Requests the
// core accepted stay unanswered until publish.
func (r *coreRig) drain(reqs ...*Request) []*flush {
	c := r.c
	c.drain = append(c.drain[:0], reqs...)
	c.next = 0
	var out []*flush
	for {
		full := c.step()
		if mark, needed := c.reservation(); needed {
			r.marks = append(r.marks, mark)
			c.reserved(mark)
		}
		r.segs[c.seg] = append(r.segs[c.seg], c.buf...)
		c.wrote(int64(len(r.segs[c.seg])))
		out = append(out, c.handedOn())
		if !full {
			break
		}
		c.startSegment(c.seg+1, segment.HeaderSize)
		r.segs[c.seg] = make([]byte, segment.HeaderSize)
	}
	c.endDrain()
	return out
}

// publish makes flushes visible and answers their requests, as the fsync
// actor does after its fsync.
func (r *coreRig) publish(fls ...*flush) {
	for _, fl := range fls {
		publish(r.idx, nil, fl)
	}
}

// run drains and publishes.
func (r *coreRig) run(reqs ...*Request) []*flush {
	fls := r.drain(reqs...)
	r.publish(fls...)
	return fls
}

func onWrite(entity string, opts event.AppendOptions, payload string) *Request {
	return NewAppend(Item{Coord: event.MustCoordinate(entity, "s"), Kind: kind, Payload: []byte(payload), Opts: opts}, event.OnWrite)
}

func item(entity, payload string, opts event.AppendOptions, cause event.Cause) Item {
	return Item{Coord: event.MustCoordinate(entity, "s"), Kind: kind, Payload: []byte(payload), Opts: opts, Cause: cause}
}

func key(k string) event.AppendOptions { return event.AppendOptions{IdempotencyKey: k} }

// frameTypes lists the record types of the frames in b.
func frameTypes(t *testing.T, b []byte) []byte {
	t.Helper()
	var types []byte
	for len(b) > 0 {
		body, size, err := segment.ReadFrame(b)
		require.NoError(t, err)
		types = append(types, body[0])
		b = b[size:]
	}
	return types
}

// outcome is what a request of a drain should get.
type outcome struct {
	err      error    // errors.Is target; nil: receipts
	globals  []uint64 // receipts' global sequences
	seqs     []uint64 // receipts' per-entity sequences
	replayed bool
}

func ok(globals, seqs []uint64) outcome { return outcome{globals: globals, seqs: seqs} }
func replayOf(globals, seqs []uint64) outcome {
	return outcome{globals: globals, seqs: seqs, replayed: true}
}
func refused(err error) outcome { return outcome{err: err} }

func gs(v ...uint64) []uint64 { return v }

func TestCoreDrainsToFramesAndReceipts(t *testing.T) {
	const E, B, C = segment.TypeEvent, segment.TypeBatchBegin, segment.TypeBatchCommit
	for _, tc := range []struct {
		name   string
		before []*Request // drained and published first
		drain  []*Request
		want   []outcome
		frames []byte // record types the drain wrote
		events int    // in the index afterwards
	}{
		{
			name:   "singles get global and per-entity sequences in drain order",
			drain:  []*Request{onWrite("a", event.AppendOptions{}, "1"), onWrite("b", event.AppendOptions{}, "2"), onWrite("a", event.AppendOptions{}, "3")},
			want:   []outcome{ok(gs(1), gs(0)), ok(gs(2), gs(0)), ok(gs(3), gs(1))},
			frames: []byte{E, E, E}, events: 3,
		},
		{
			name:   "expected sequences count earlier appends of the same drain",
			before: []*Request{onWrite("a", event.AppendOptions{}, "0")},
			drain:  []*Request{onWrite("a", event.Expect(1), "1"), onWrite("a", event.Expect(2), "2"), onWrite("a", event.Expect(2), "stale")},
			want:   []outcome{ok(gs(2), gs(1)), ok(gs(3), gs(2)), refused(event.ErrSequenceMismatch)},
			frames: []byte{E, E}, events: 3,
		},
		{
			name: "a batch is framed BEGIN, items, COMMIT",
			drain: []*Request{NewBatch([]Item{
				item("a", "1", event.AppendOptions{}, event.Cause{}),
				item("a", "2", event.Expect(1), event.Cause{}),
				item("b", "3", event.AppendOptions{}, event.Cause{}),
			}, event.Durable)},
			want:   []outcome{ok(gs(1, 2, 3), gs(0, 1, 0))},
			frames: []byte{B, E, E, E, C}, events: 3,
		},
		{
			name: "a batch with a stale expectation is rejected whole and writes nothing",
			drain: []*Request{
				onWrite("x", event.AppendOptions{}, "before"),
				NewBatch([]Item{
					item("a", "1", event.Expect(0), event.Cause{}),
					item("a", "2", event.Expect(0), event.Cause{}),
				}, event.Durable),
				onWrite("x", event.AppendOptions{}, "after"),
			},
			want:   []outcome{ok(gs(1), gs(0)), refused(event.ErrSequenceMismatch), ok(gs(2), gs(1))},
			frames: []byte{E, E}, events: 2,
		},
		{
			name: "a cause must be an earlier item",
			drain: []*Request{NewBatch([]Item{
				item("a", "1", event.AppendOptions{}, event.CauseItem(1)),
				item("a", "2", event.AppendOptions{}, event.Cause{}),
			}, event.Durable)},
			want: []outcome{refused(event.ErrBatchInvalid)}, events: 0,
		},
		{
			name: "a cause of an unknown kind is refused",
			drain: []*Request{NewBatch([]Item{
				item("a", "1", event.AppendOptions{}, event.Cause{Kind: 9}),
			}, event.Durable)},
			want: []outcome{refused(event.ErrBatchInvalid)}, events: 0,
		},
		{
			name:   "a key repeated in one drain is replayed, not written twice",
			drain:  []*Request{onWrite("a", key("k"), "p"), onWrite("a", key("k"), "p")},
			want:   []outcome{ok(gs(1), gs(0)), replayOf(gs(1), gs(0))},
			frames: []byte{E}, events: 1,
		},
		{
			name:   "a published key is replayed from the index",
			before: []*Request{onWrite("a", key("k"), "p")},
			drain:  []*Request{onWrite("a", key("k"), "p")},
			want:   []outcome{replayOf(gs(1), gs(0))},
			events: 1,
		},
		{
			name:   "a key reused for another payload is a duplicate",
			before: []*Request{onWrite("a", key("k"), "p")},
			drain:  []*Request{onWrite("a", key("k"), "other"), onWrite("b", key("k"), "p")},
			want:   []outcome{refused(ErrDuplicate), refused(ErrDuplicate)},
			events: 1,
		},
		{
			name: "a batch whose keys were all seen replays the original batch",
			before: []*Request{NewBatch([]Item{
				item("a", "1", key("k1"), event.Cause{}), item("b", "2", key("k2"), event.Cause{}),
			}, event.Durable)},
			drain: []*Request{NewBatch([]Item{
				item("a", "1", key("k1"), event.Cause{}), item("b", "2", key("k2"), event.Cause{}),
			}, event.Durable)},
			want:   []outcome{replayOf(gs(1, 2), gs(0, 0))},
			events: 2,
		},
		{
			name:   "a batch mixing seen and new keys is a duplicate",
			before: []*Request{onWrite("a", key("k1"), "1")},
			drain: []*Request{NewBatch([]Item{
				item("a", "1", key("k1"), event.Cause{}), item("b", "2", key("k2"), event.Cause{}),
			}, event.Durable)},
			want:   []outcome{refused(ErrDuplicate)},
			events: 1,
		},
		{
			name:   "a sync barrier is answered with the drain and writes nothing",
			drain:  []*Request{onWrite("a", event.AppendOptions{}, "1"), NewSync()},
			want:   []outcome{ok(gs(1), gs(0)), {}},
			frames: []byte{E}, events: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCoreRig(t, 1<<20)
			r.run(tc.before...)
			segBefore := len(r.segs[1])
			r.run(tc.drain...)
			require.Len(t, tc.want, len(tc.drain))
			for i, req := range tc.drain {
				res := answer(t, req)
				w := tc.want[i]
				if w.err != nil {
					require.ErrorIs(t, res.Err, w.err, "request %d", i)
					continue
				}
				require.NoError(t, res.Err, "request %d", i)
				require.Len(t, res.Receipts, len(w.globals), "request %d", i)
				for j, rc := range res.Receipts {
					assert.Equal(t, w.globals[j], rc.Global, "request %d receipt %d global", i, j)
					assert.Equal(t, w.seqs[j], rc.Sequence, "request %d receipt %d sequence", i, j)
					assert.Equal(t, w.replayed, rc.Replayed, "request %d receipt %d replayed", i, j)
				}
			}
			assert.Equal(t, tc.frames, frameTypes(t, r.segs[1][segBefore:]), "frames written")
			assert.Equal(t, tc.events, r.idx.Len(), "events in the index")
		})
	}
}

// Receipts say what was written: read back, each frame is the event its
// receipt names, with the chain linking an entity's events and causes
// resolved inside the batch.
func TestCoreFramesMatchTheirReceipts(t *testing.T) {
	r := newCoreRig(t, 1<<20)
	external, err := event.ParseID("01890a5d-ac96-774b-bcce-b302099a8057")
	require.NoError(t, err)
	batch := NewBatch([]Item{
		item("a", "1", event.AppendOptions{}, event.Cause{}),
		item("b", "2", event.AppendOptions{}, event.CauseItem(0)),
		item("a", "3", event.AppendOptions{}, event.CauseLatestOf("b")),
		item("c", "4", event.AppendOptions{}, event.CauseID(external)),
	}, event.Durable)
	r.run(onWrite("a", event.AppendOptions{}, "0"), batch)
	rcpts := answer(t, batch).Receipts
	require.Len(t, rcpts, 4)
	assert.Equal(t, rcpts[0].ID, rcpts[1].Causation)
	assert.Equal(t, rcpts[1].ID, rcpts[2].Causation)
	assert.Equal(t, external, rcpts[3].Causation)
	for i, rc := range rcpts {
		e, found := r.idx.LookupID(rc.ID)
		require.True(t, found, "item %d", i)
		ev, err := r.load(e)
		require.NoError(t, err)
		assert.Equal(t, rc.Global, ev.Global, "item %d", i)
		assert.Equal(t, rc.Hash, ev.Hash.Self, "item %d", i)
		assert.Equal(t, rc.Causation, ev.Causation, "item %d", i)
		assert.Equal(t, rc.Position, ev.Position, "item %d", i)
		assert.Equal(t, rc.Coordinate, ev.Coordinate, "item %d", i)
	}
	// The chain of a: the single append, then items 0 and 2, each hashed
	// over its predecessor's hash.
	var prev [32]byte
	for seq := uint64(0); seq < 3; seq++ {
		e, found := r.idx.StreamEntry("a", seq)
		require.True(t, found)
		frame := make([]byte, e.Size)
		require.NoError(t, r.readFrame(uint64(e.Segment), frame, int64(e.Offset)))
		body, _, err := segment.ReadFrame(frame)
		require.NoError(t, err)
		assert.True(t, segment.VerifyHash(body, prev), "a's event %d is not chained to its predecessor", seq)
		ev, err := decodeEvent(frame)
		require.NoError(t, err)
		prev = ev.Hash.Self
	}
}

// A record that does not fit the segment ends the flush; the shell rotates
// and the core goes on in the next segment, where a record of any size
// fits an empty segment.
func TestCoreRotationDecisions(t *testing.T) {
	probe := segment.EncodedEventSize(&segment.EventRecord{Entity: "a", Scope: "s", Payload: []byte("xxxxxxxx")})
	for _, tc := range []struct {
		name    string
		segSize int64
		used    int64 // bytes of the segment written or buffered
		size    int
		fits    bool
	}{
		{"room to spare", 1024, segment.HeaderSize, 100, true},
		{"exactly full", 1024, 1000, 24, true},
		{"one byte over", 1024, 1000, 25, false},
		{"an empty segment takes any record", 1024, segment.HeaderSize, 4096, true},
		{"a record after an oversized one rotates", 1024, 5000, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &core{segSize: tc.segSize, end: tc.used}
			assert.Equal(t, tc.fits, c.fits(tc.size))
			c = &core{segSize: tc.segSize, end: segment.HeaderSize, buf: make([]byte, tc.used-segment.HeaderSize)}
			assert.Equal(t, tc.fits, c.fits(tc.size), "bytes in the buffer count too")
		})
	}

	// Through a drain: 5 events in segments with room for 2. The decision
	// takes a record's size bound (probe) against the bytes really used.
	scratch := newCoreRig(t, 1<<20)
	scratch.run(onWrite("a", event.AppendOptions{}, "xxxxxxxx"))
	actual := len(scratch.segs[1]) - segment.HeaderSize
	require.Less(t, actual, probe)
	segSize := segment.HeaderSize + int64(actual+probe)
	r := newCoreRig(t, segSize)
	var reqs []*Request
	for range 5 {
		reqs = append(reqs, onWrite("a", event.AppendOptions{}, "xxxxxxxx"))
	}
	fls := r.drain(reqs...)
	require.Len(t, fls, 3, "one flush per segment")
	for i, fl := range fls {
		for j, p := range fl.pend {
			assert.Equal(t, uint32(i+1), p.Segment, "flush %d entry %d", i, j)
			assert.Equal(t, uint32(segment.HeaderSize+j*actual), p.Offset, "flush %d entry %d", i, j)
		}
	}
	assert.Equal(t, []int{2, 2, 1}, []int{len(fls[0].reqs), len(fls[1].reqs), len(fls[2].reqs)})
	r.publish(fls...)
	for i, req := range reqs {
		res := answer(t, req)
		require.NoError(t, res.Err)
		assert.Equal(t, uint64(i), res.Receipts[0].Sequence)
	}

	// A batch moves whole to the next segment.
	r = newCoreRig(t, segSize)
	b := NewBatch([]Item{item("b", "xxxxxxxx", event.AppendOptions{}, event.Cause{}), item("b", "xxxxxxxx", event.AppendOptions{}, event.Cause{})}, event.Durable)
	fls = r.drain(onWrite("a", event.AppendOptions{}, "xxxxxxxx"), b)
	require.Len(t, fls, 2)
	assert.Len(t, fls[0].pend, 1)
	assert.Len(t, fls[1].pend, 2)
	assert.Equal(t, []byte{segment.TypeBatchBegin, segment.TypeEvent, segment.TypeEvent, segment.TypeBatchCommit},
		frameTypes(t, r.segs[2][segment.HeaderSize:]))
}

// The reservation is raised before frames above it are written, a block
// ahead of the drain's last sequence, and not again until that is used up.
func TestCoreReservationDecisions(t *testing.T) {
	for _, tc := range []struct {
		name             string
		global, reserved uint64
		mark             uint64
		needed           bool
	}{
		{"nothing assigned", 0, 0, 0, false},
		{"covered", 10, 10, 0, false},
		{"above the mark", 11, 10, 11 + reserveBlock, true},
		{"fresh store", 1, 0, 1 + reserveBlock, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &core{st: state{global: tc.global, reserved: tc.reserved}}
			mark, needed := c.reservation()
			assert.Equal(t, tc.needed, needed)
			assert.Equal(t, tc.mark, mark)
		})
	}

	r := newCoreRig(t, 1<<20)
	r.run(onWrite("a", event.AppendOptions{}, "1"), onWrite("a", event.AppendOptions{}, "2"))
	r.run(onWrite("a", event.AppendOptions{}, "3"))
	assert.Equal(t, []uint64{2 + reserveBlock}, r.marks, "one mark covers the first drain and the next")
	r.c.st.global = r.c.st.reserved // as if the block were used up
	r.run(onWrite("a", event.AppendOptions{}, "4"))
	assert.Equal(t, []uint64{2 + reserveBlock, 2 + reserveBlock + 1 + reserveBlock}, r.marks)
	r.run(NewSync())
	assert.Len(t, r.marks, 2, "a drain that writes nothing reserves nothing")
}

// After a crash the core forgets what was never written and what it
// cached, but never reuses a global sequence.
func TestCoreRederiveAfterACrash(t *testing.T) {
	r := newCoreRig(t, 1<<20)
	r.run(onWrite("a", key("k"), "1"))
	end := r.c.end

	// A drain staged but never written: the shell crashed before writing.
	c := r.c
	lost := onWrite("a", key("k2"), "2")
	c.drain = append(c.drain[:0], lost)
	c.next = 0
	c.step()
	require.NotEmpty(t, c.buf)
	require.Equal(t, uint64(2), c.st.global)
	c.answerOwned(ErrNotWritten)
	require.ErrorIs(t, answer(t, lost).Err, ErrNotWritten)

	c.rederive(r.idx.LastGlobal(), end)
	assert.Empty(t, c.buf)
	assert.Equal(t, end, c.end)
	assert.Empty(t, c.st.tails)
	assert.Empty(t, c.st.keys)
	assert.Equal(t, uint64(2), c.st.global, "the lost event's global is not reused")

	again := onWrite("a", key("k2"), "2")
	r.run(again)
	res := answer(t, again)
	require.NoError(t, res.Err)
	assert.False(t, res.Receipts[0].Replayed, "the lost append was never written")
	assert.Equal(t, uint64(3), res.Receipts[0].Global)
	assert.Equal(t, uint64(1), res.Receipts[0].Sequence, "the tail reloads from the index")
	replay := onWrite("a", key("k"), "1")
	r.run(replay)
	assert.True(t, answer(t, replay).Receipts[0].Replayed, "published keys are found in the index")
}

// A Reload makes the core forget tails and keys at or below Through, and
// keep those above (appended after the compaction chose its segments).
func TestCoreReloadForgetsWhatCompactionMayHaveDropped(t *testing.T) {
	r := newCoreRig(t, 1<<20)
	r.drain(onWrite("a", key("ka"), "1"), onWrite("b", key("kb"), "2")) // not published: keys cached
	require.Len(t, r.c.st.keys, 2)
	rl := NewReload(Reload{Entities: []string{"a", "b"}, Through: 1})
	r.drain(rl)
	require.NoError(t, answer(t, rl).Err)
	assert.NotContains(t, r.c.st.tails, "a")
	assert.Contains(t, r.c.st.tails, "b", "b's tail is above Through")
	assert.NotContains(t, r.c.st.keys, "ka")
	assert.Contains(t, r.c.st.keys, "kb")
}

// Requests of a drain that a failure stopped are answered with it; a
// Reload still applies.
func TestCoreFailRestAnswersTheRestOfTheDrain(t *testing.T) {
	r := newCoreRig(t, 1<<20)
	a, s, rl := onWrite("a", event.AppendOptions{}, "1"), NewSync(), NewReload(Reload{Through: 0})
	c := r.c
	c.drain = append(c.drain[:0], a, s, rl)
	c.next = 0
	boom := errors.New("boom")
	c.failRest(boom)
	require.ErrorIs(t, answer(t, a).Err, boom)
	require.ErrorIs(t, answer(t, s).Err, boom)
	require.NoError(t, answer(t, rl).Err)
}
