package writer

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// These tests drive the writer's shell and core directly — process() on a
// drain, the fsync actor's process() on what was handed over — with no
// goroutines. core_test.go tests the core alone; loop_test.go the run loops.

type harness struct {
	t    *testing.T
	fs   vfs.FS
	w    *Writer
	f    *Fsync
	idx  *index.Index
	done chan struct{}
	segs map[uint64]vfs.File
}

func newHarness(t *testing.T, segSize int64, tune ...func(*Config)) *harness {
	t.Helper()
	mem := vfs.NewMem()
	h := &harness{t: t, fs: mem, idx: index.New(), done: make(chan struct{}), segs: map[uint64]vfs.File{}}
	require.NoError(t, mem.MkdirAll("/db"))
	clock := time.Unix(1_700_000_000, 0)
	cfg := Config{
		FS: h.fs, Dir: "/db", Index: h.idx, SegmentSize: segSize, HashChain: true, Mailbox: 64, MaxDrain: 64, DrainLimit: 1 << 20,
		Clock:     func() time.Time { clock = clock.Add(time.Millisecond); return clock },
		OnSegment: func(id uint64, f vfs.File) { h.segs[id] = f },
		LoadEvent: func(e index.Entry) (*event.StoredEvent, error) { return h.load(e) },
		ReadSegment: func(id uint64, p []byte, off int64) error {
			_, err := h.segs[id].ReadAt(p, off)
			return err
		},
		BeginsBatch: func(e index.Entry, count int) (bool, error) {
			want := segment.AppendMarker(nil, segment.TypeBatchBegin, segment.Marker{Count: uint32(count), FirstGlobal: e.Global})
			got := make([]byte, len(want))
			if _, err := h.segs[uint64(e.Segment)].ReadAt(got, int64(e.Offset)-int64(len(want))); err != nil {
				return false, err
			}
			return string(got) == string(want), nil
		},
	}
	for _, f := range tune {
		f(&cfg)
	}
	h.fs = cfg.FS
	var err error
	h.w, h.f, err = New(cfg, Start{}, h.done)
	require.NoError(t, err)
	return h
}

func (h *harness) load(e index.Entry) (*event.StoredEvent, error) {
	buf := make([]byte, e.Size)
	if _, err := h.segs[uint64(e.Segment)].ReadAt(buf, int64(e.Offset)); err != nil {
		return nil, err
	}
	return decodeEvent(buf)
}

func decodeEvent(frame []byte) (*event.StoredEvent, error) {
	body, _, err := segment.ReadFrame(frame)
	if err != nil {
		return nil, err
	}
	var v segment.EventView
	if err := segment.ParseEvent(body, &v); err != nil {
		return nil, err
	}
	ev := new(event.StoredEvent)
	v.ToStored(ev)
	return ev, nil
}

var kind = event.MustCustom(1, 1)

func single(entity string, d event.Durability, opts event.AppendOptions) *Request {
	return NewAppend(Item{Coord: event.MustCoordinate(entity, "s"), Kind: kind, Payload: []byte("p"), Opts: opts}, d)
}

// process runs one drain through the writer, without the fsync actor.
func (h *harness) process(reqs ...*Request) {
	h.w.core.drain = append(h.w.core.drain[:0], reqs...)
	h.w.process()
}

// run processes one drain and then gives the fsync actor its turns.
func (h *harness) run(reqs ...*Request) {
	h.process(reqs...)
	h.fsyncTurns()
}

// fsyncTurns lets the fsync actor process everything handed over.
func (h *harness) fsyncTurns() {
	for {
		select {
		case fl := <-h.f.link.flushc:
			h.f.batch = append(h.f.batch[:0], fl)
			h.f.collect()
			h.f.process()
		default:
			return
		}
	}
}

func answer(t *testing.T, r *Request) *Request {
	t.Helper()
	select {
	case res := <-r.Reply():
		return res
	default:
		t.Fatal("request not answered")
		return nil
	}
}

func TestOnWriteIsPublishedWithoutFsyncActor(t *testing.T) {
	h := newHarness(t, 1<<20)
	r := single("a", event.OnWrite, event.AppendOptions{})
	h.process(r)
	res := answer(t, r)
	if res.Err != nil || res.Receipts[0].Global != 1 || h.idx.Len() != 1 {
		t.Fatalf("%+v %v len %d", res.Receipts, res.Err, h.idx.Len())
	}
	if len(h.f.link.flushc) != 0 {
		t.Fatal("on-write work went to the fsync actor with nothing durable in flight")
	}
}

func TestDurableIsInvisibleUntilFsyncActorRuns(t *testing.T) {
	h := newHarness(t, 1<<20)
	r := single("a", event.Durable, event.AppendOptions{})
	h.process(r)
	if h.idx.Len() != 0 || len(r.reply) != 0 {
		t.Fatal("durable event visible or acknowledged before its fsync")
	}
	// An on-write append behind it must not overtake it.
	r2 := single("b", event.OnWrite, event.AppendOptions{})
	h.run(r2)
	if answer(t, r).Err != nil || answer(t, r2).Err != nil || h.idx.LastGlobal() != 2 {
		t.Fatal("not released in order")
	}
}

func TestSequencesChainsAndCAS(t *testing.T) {
	h := newHarness(t, 1<<20)
	var last event.Receipt
	for i := 0; i < 3; i++ {
		r := single("a", event.OnWrite, event.Expect(uint64(i)))
		h.run(r)
		res := answer(t, r)
		if res.Err != nil || res.Receipts[0].Sequence != uint64(i) {
			t.Fatalf("append %d: %v", i, res.Err)
		}
		last = res.Receipts[0]
	}
	r := single("a", event.OnWrite, event.Expect(1))
	h.run(r)
	var sm *event.SequenceMismatchError
	if err := answer(t, r).Err; !errors.As(err, &sm) || sm.Expected != 1 || sm.Actual != 3 {
		t.Fatalf("CAS: %v", err)
	}
	ev, err := h.load(mustLatest(t, h.idx, "a"))
	if err != nil || ev.Hash.Self != last.Hash {
		t.Fatal("stored hash differs from the receipt's")
	}
}

func mustLatest(t *testing.T, x *index.Index, entity string) index.Entry {
	e, ok := x.Latest(entity)
	if !ok {
		t.Fatalf("no events for %s", entity)
	}
	return e
}

func TestIdempotentRetryInSameDrainAndLater(t *testing.T) {
	h := newHarness(t, 1<<20)
	key := event.AppendOptions{IdempotencyKey: "k"}
	r1, r2 := single("a", event.Durable, key), single("a", event.Durable, key)
	h.run(r1, r2)
	a, b := answer(t, r1), answer(t, r2)
	if a.Err != nil || b.Err != nil || a.Receipts[0].ID != b.Receipts[0].ID || !b.Receipts[0].Replayed || h.idx.Len() != 1 {
		t.Fatalf("same drain: %v %v len %d", a.Err, b.Err, h.idx.Len())
	}
	r3 := single("a", event.Durable, key)
	h.run(r3)
	if c := answer(t, r3); c.Err != nil || c.Receipts[0].ID != a.Receipts[0].ID || h.idx.Len() != 1 {
		t.Fatal("later retry wrote again")
	}
	r4 := single("other", event.Durable, key)
	h.run(r4)
	if err := answer(t, r4).Err; !errors.Is(err, ErrDuplicate) {
		t.Fatalf("key reused for another entity: %v", err)
	}
}

func TestBatchRejectedWholeWritesNothing(t *testing.T) {
	h := newHarness(t, 1<<20)
	c := event.MustCoordinate("a", "s")
	r := NewBatch([]Item{
		{Coord: c, Kind: kind, Payload: []byte("1"), Opts: event.Expect(0)},
		{Coord: c, Kind: kind, Payload: []byte("2"), Opts: event.Expect(1)},
		{Coord: c, Kind: kind, Payload: []byte("3"), Opts: event.Expect(1)}, // stale: 2 is next
	}, event.Durable)
	h.run(r)
	var bie *event.BatchItemError
	if err := answer(t, r).Err; !errors.As(err, &bie) || bie.Item != 2 || !errors.Is(err, event.ErrSequenceMismatch) {
		t.Fatalf("batch: %v", err)
	}
	if h.idx.Len() != 0 || h.w.seg.end != segment.HeaderSize {
		t.Fatal("a rejected batch wrote something")
	}
}

func TestRotationAndRestartTruncation(t *testing.T) {
	h := newHarness(t, 1024)
	for i := 0; i < 40; i++ {
		r := single("a", event.OnWrite, event.AppendOptions{})
		h.run(r)
		if err := answer(t, r).Err; err != nil {
			t.Fatal(err)
		}
	}
	if h.w.seg.id < 3 {
		t.Fatalf("expected several segments, on %d", h.w.seg.id)
	}
	// Bytes written but never handed on (as if the writer crashed between
	// write and hand-off) are cut off by the restart.
	end := h.w.seg.end
	if err := h.w.seg.write([]byte("garbage never handed on")); err != nil {
		t.Fatal(err)
	}
	h.w.crashed = true
	if err := h.w.rederive(t.Context()); err != nil {
		t.Fatal(err)
	}
	if size, _ := h.w.seg.file.Size(); size != end || h.w.seg.end != end {
		t.Fatalf("restart left %d bytes, want %d", size, end)
	}
	r := single("a", event.OnWrite, event.Expect(40))
	h.run(r)
	if err := answer(t, r).Err; err != nil {
		t.Fatalf("append after restart: %v", err)
	}
}
