package rustenc

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Builder writes a batpak-rust store as batpak-rust's writer would:
// per-entity sequences and hash chains, global sequences, atomic batches
// between markers, SIDX footers on sealed segments and index.ckpt on a
// clean close. Crash and the byte-level helpers make the damaged and
// unfinished stores that batpak-rust leaves after a crash or a disk fault.
type Builder struct {
	segs []*seg
	rng  *rand.Rand
	ts   int64 // the clock, µs

	// Committed state, and the state of the batch being written (which
	// COMMIT makes the committed state and Crash forgets).
	done, open state
	inBatch    bool
	ckpt       []CheckpointEntry
	staged     []CheckpointEntry
}

type state struct {
	global uint64
	chains map[string][32]byte
	seqs   map[string]uint64
}

func (s state) clone() state {
	c := state{global: s.global, chains: map[string][32]byte{}, seqs: map[string]uint64{}}
	for k, v := range s.chains {
		c.chains[k] = v
	}
	for k, v := range s.seqs {
		c.seqs[k] = v
	}
	return c
}

type seg struct {
	id      uint64
	data    []byte
	entries []FooterEntry
	sealed  bool
}

// Written says where a frame went.
type Written struct {
	Event   Event
	Segment uint64
	Offset  int64
	Size    int
	Global  uint64 // events only
}

// Start is the clock of a new Builder (µs since the epoch, in 2026).
const Start int64 = 1_796_462_456_204_634

// New returns a builder of a store whose first segment is 000001.fbat.
// seed makes its ids reproducible.
func New(seed uint64) *Builder {
	b := &Builder{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ts: Start}
	b.done = state{chains: map[string][32]byte{}, seqs: map[string]uint64{}}
	b.open = b.done.clone()
	b.newSegment(1)
	return b
}

func (b *Builder) newSegment(id uint64) {
	b.segs = append(b.segs, &seg{id: id, data: SegmentHeader(id, b.ts*1000)})
}

func (b *Builder) cur() *seg { return b.segs[len(b.segs)-1] }

// NewID returns a UUIDv7 for the builder's clock: batpak-rust's ids are
// not monotonic within a millisecond, and neither are these.
func (b *Builder) NewID() (id [16]byte) {
	ms := uint64(b.ts / 1000)
	binary.BigEndian.PutUint64(id[8:], b.rng.Uint64())
	binary.BigEndian.PutUint64(id[:8], ms<<16|0x7000|b.rng.Uint64()&0x0FFF)
	id[8] = 0x80 | id[8]&0x3F
	return id
}

func (b *Builder) tick() { b.ts += 137 }

// Append writes one event and returns where it went. opts may adjust the
// event before it is encoded (its hash chain is computed first, so an
// option that changes the payload breaks the chain on purpose).
func (b *Builder) Append(entity, scope string, kind uint16, payload []byte, opts ...func(*Event)) Written {
	if !b.inBatch {
		b.tick()
	}
	st := &b.open
	e := Event{
		TimestampUS: b.ts, WallMS: uint64(b.ts / 1000), Sequence: st.seqs[entity],
		PayloadSize: uint32(len(payload)), Kind: kind, Payload: payload, Entity: entity, Scope: scope,
	}
	e.ID = b.NewID()
	e.Correlation = e.ID
	self := Hash(payload)
	e.ContentHash = self
	e.Chain = &Chain{Prev: st.chains[entity], Self: self}
	for _, o := range opts {
		o(&e)
	}
	w := b.write(&e)
	w.Global = st.global
	st.global++
	st.seqs[entity] = e.Sequence + 1
	if e.Chain != nil {
		st.chains[entity] = e.Chain.Self
	}
	var causation [16]byte
	if e.Causation != nil {
		causation = *e.Causation
	}
	prev, selfHash := [32]byte{}, [32]byte{}
	if e.Chain != nil {
		prev, selfHash = e.Chain.Prev, e.Chain.Self
	}
	s := b.cur()
	s.entries = append(s.entries, FooterEntry{
		ID: e.ID, Entity: entity, Scope: scope, Kind: kind, WallMS: e.WallMS, Clock: uint32(e.Sequence),
		Prev: prev, Self: selfHash, Offset: uint64(w.Offset), Length: uint32(w.Size), Global: w.Global,
		Correlation: e.Correlation, Causation: causation,
	})
	row := CheckpointEntry{ID: e.ID, Correlation: e.Correlation, Causation: e.Causation, Entity: entity, Scope: scope,
		Kind: kind, WallMS: e.WallMS, Clock: e.Sequence, Prev: prev, Self: selfHash,
		Segment: w.Segment, Offset: uint64(w.Offset), Length: uint64(w.Size), Global: w.Global}
	if b.inBatch {
		b.staged = append(b.staged, row)
	} else {
		b.ckpt = append(b.ckpt, row)
		b.done = b.open.clone()
	}
	return w
}

func (b *Builder) write(e *Event) Written {
	s := b.cur()
	f := Frame(FrameBody(e))
	w := Written{Event: *e, Segment: s.id, Offset: int64(len(s.data)), Size: len(f)}
	s.data = append(s.data, f...)
	return w
}

func (b *Builder) marker(kind uint16, id [16]byte, count uint32) Written {
	e := Event{
		ID: id, Correlation: id, TimestampUS: b.ts, WallMS: uint64(b.ts / 1000),
		PayloadSize: count, Kind: kind, Payload: []byte{}, Entity: "_batch", Scope: "_system",
	}
	return b.write(&e)
}

// BatchID is the id batpak-rust gives a batch: the global sequence its
// first item will get, as a u128.
func (b *Builder) BatchID() (id [16]byte) {
	binary.BigEndian.PutUint64(id[8:], b.open.global)
	return id
}

// Begin writes a BEGIN marker announcing count items. The items are
// written with Append, then Commit (or nothing, for a batch a crash cut
// off).
func (b *Builder) Begin(count uint32) Written {
	b.tick()
	w := b.marker(KindBatchBegin, b.BatchID(), count)
	b.inBatch = true
	return w
}

// Commit writes the COMMIT marker of the batch begun with id.
func (b *Builder) Commit(id [16]byte) Written {
	w := b.marker(KindBatchCommit, id, 0)
	b.inBatch = false
	b.ckpt = append(b.ckpt, b.staged...)
	b.staged = nil
	b.done = b.open.clone()
	return w
}

// Item is one item of Batch.
type Item struct {
	Entity, Scope string
	Kind          uint16
	Payload       []byte
}

// Batch writes a whole committed batch.
func (b *Builder) Batch(items ...Item) []Written {
	id := b.BatchID()
	b.Begin(uint32(len(items)))
	out := make([]Written, len(items))
	for i, it := range items {
		out[i] = b.Append(it.Entity, it.Scope, it.Kind, it.Payload)
	}
	b.Commit(id)
	return out
}

// Rotate seals the current segment with its SIDX footer and starts the
// next, as batpak-rust does when a segment is full.
func (b *Builder) Rotate() {
	b.seal()
	b.newSegment(b.cur().id + 1)
}

func (b *Builder) seal() {
	s := b.cur()
	s.data = append(s.data, Footer(uint64(len(s.data)), s.entries)...)
	s.sealed = true
}

// Crash ends the current segment where it is, without a footer, and
// starts the next one as batpak-rust does when it reopens a store after a
// crash: what a batch left unfinished is forgotten, and numbering and
// chains go on from the committed events.
func (b *Builder) Crash() {
	b.inBatch = false
	b.staged = nil
	b.open = b.done.clone()
	b.newSegment(b.cur().id + 1)
}

// Raw appends bytes to the current segment as they are (a torn frame,
// garbage).
func (b *Builder) Raw(p []byte) { b.cur().data = append(b.cur().data, p...) }

// FlipByte inverts a byte of segment id at offset (damage after the fact).
func (b *Builder) FlipByte(id uint64, offset int64) {
	for _, s := range b.segs {
		if s.id == id {
			s.data[offset] ^= 0xFF
		}
	}
}

// Files returns the store's files by name. With close, the last segment
// is sealed and index.ckpt written, as a clean close of batpak-rust does;
// without it, the store is as a crash left it.
func (b *Builder) Files(close bool) map[string][]byte {
	if close && !b.cur().sealed {
		b.seal()
	}
	out := map[string][]byte{}
	for _, s := range b.segs {
		out[segmentName(s.id)] = append([]byte(nil), s.data...)
	}
	if close {
		last := b.cur()
		out["index.ckpt"] = Checkpoint(b.done.global, last.id, uint64(len(last.data)), b.ckpt)
	}
	return out
}

func segmentName(id uint64) string { return fmt.Sprintf("%06d.fbat", id) }

// WriteDir writes the store's files (see Files) into dir, creating it.
func (b *Builder) WriteDir(dir string, close bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range b.Files(close) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// FixtureDir returns the directory of the store batpak-rust 0.3.0 wrote
// for these tests (shared/fixtures/batpak-rust-0.3.0 beside the
// repository, or $BATPAK_RUST_FIXTURE), or skips the test when it is not
// there: a fresh clone has no such directory, and the builder's stores
// stand in for it.
func FixtureDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("BATPAK_RUST_FIXTURE"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			fx := filepath.Join(dir, "..", "shared", "fixtures", "batpak-rust-0.3.0")
			if _, err := os.Stat(filepath.Join(fx, "manifest.json")); err != nil {
				t.Skipf("no batpak-rust fixture at %s", fx)
			}
			return fx
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.work above the test's directory: no batpak-rust fixture")
		}
		dir = parent
	}
}
