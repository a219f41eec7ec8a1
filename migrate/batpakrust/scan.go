package batpakrust

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/zeebo/blake3"

	"github.com/batpak-go/batpak/event"
)

// Store is a batpak-rust store directory opened for reading. It never
// writes to it.
type Store struct {
	fsys     fs.FS
	segments []uint64
	sizes    []int64
}

// Open opens the batpak-rust store in dir for reading. It fails with
// ErrNotStore if dir holds no segment files.
func Open(dir string) (*Store, error) {
	st, err := OpenFS(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return st, nil
}

// OpenFS is Open for a file system whose root is the store directory.
func OpenFS(fsys fs.FS) (*Store, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	st := &Store{fsys: fsys}
	for _, e := range entries {
		if id, ok := ParseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			st.segments = append(st.segments, id)
		}
	}
	if len(st.segments) == 0 {
		return nil, ErrNotStore
	}
	slices.Sort(st.segments)
	for _, id := range st.segments {
		fi, err := fs.Stat(fsys, SegmentName(id))
		if err != nil {
			return nil, err
		}
		st.sizes = append(st.sizes, fi.Size())
	}
	return st, nil
}

// Segments returns the ids of the store's segment files, in log order.
func (st *Store) Segments() []uint64 { return slices.Clone(st.segments) }

// Size returns the total size of the segment files.
func (st *Store) Size() int64 {
	var n int64
	for _, s := range st.sizes {
		n += s
	}
	return n
}

// Unit is what Scan hands on: one event, or every item of one committed
// atomic batch, in log order. Its slice is the caller's.
type Unit struct {
	Events []Event
	Batch  bool
}

// Scan reads the log in order, as batpak-rust's own recovery reads it,
// and calls fn with each event and each committed batch. It checks every
// frame's CRC, batpak-rust's hash chain, and the SIDX footers and
// index.ckpt against the frames, and reports what it found; damage is
// reported, not returned as an error. A batch without its COMMIT (or
// whose items do not all read back) is skipped, as batpak-rust skips it.
// An error from fn stops the scan and is returned. progress, if not nil,
// is called with the bytes read so far and the total.
func (st *Store) Scan(ctx context.Context, progress func(done, total int64), fn func(Unit) error) (*Report, error) {
	s := &scanner{st: st, rep: &Report{}, fn: fn, progress: progress, chains: map[string]*chainState{}, total: st.Size()}
	if err := s.loadCheckpoint(); err != nil {
		return s.rep, err
	}
	for i, id := range st.segments {
		if err := ctx.Err(); err != nil {
			return s.rep, err
		}
		if err := s.segment(id, st.sizes[i]); err != nil {
			return s.rep, err
		}
		s.done += st.sizes[i]
		if progress != nil {
			progress(s.done, s.total)
		}
	}
	if err := s.endOfLog(); err != nil {
		return s.rep, err
	}
	s.finishCheckpoint()
	s.rep.Entities = len(s.chains)
	return s.rep, nil
}

// Verify reads the store in dir through and reports what it found,
// changing nothing (Scan without a callback).
func Verify(ctx context.Context, dir string) (*Report, error) {
	st, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return st.Scan(ctx, nil, nil)
}

type chainState struct {
	last [32]byte
	next uint64
}

type scanner struct {
	st       *Store
	rep      *Report
	fn       func(Unit) error
	progress func(done, total int64)
	done     int64 // bytes of the segments read whole
	total    int64

	nextGlobal uint64
	chains     map[string]*chainState

	// The batch being read: its BEGIN, the items so far.
	inBatch bool
	begin   Event
	staged  []Event
	// After damage inside a batch, the batch's remaining items (and its
	// COMMIT) are skipped with it: discard counts the items still expected.
	discarding bool
	discard    int
	dropped    SkippedBatch

	ckpt    map[event.ID]int // checkpoint entry by id
	ckEntry []CheckpointEntry
	ckSeen  []bool
}

// frame is a decoded event frame with what Scan knows of its global
// sequence.
type frame struct {
	Event
	footerGlobal bool // Global came from a SIDX entry
}

func (s *scanner) segment(id uint64, size int64) error {
	s.rep.Segments++
	s.rep.Bytes += size
	data, err := fs.ReadFile(s.st.fsys, SegmentName(id))
	if err != nil {
		return err
	}
	h, start, err := DecodeSegmentHeader(data)
	if err != nil {
		s.damage(Damage{Segment: id, Offset: 0, Bytes: int64(len(data)), Cause: err.Error()})
		return nil
	}
	if h.SegmentID != id {
		s.rep.addMismatch(Mismatch{Source: "segment header", Segment: id, Problem: fmt.Sprintf("header names segment %d", h.SegmentID)})
	}
	end := len(data)
	var byOffset map[int64]*FooterEntry
	footer, ok, ferr := DecodeFooter(data, start)
	switch {
	case ferr != nil:
		s.rep.addMismatch(Mismatch{Source: "SIDX", Segment: id, Offset: int64(len(data)), Problem: ferr.Error()})
	case ok:
		s.rep.FootersChecked++
		end = int(footer.FramesEnd)
		byOffset = make(map[int64]*FooterEntry, len(footer.Entries))
		for i := range footer.Entries {
			byOffset[int64(footer.Entries[i].FrameOffset)] = &footer.Entries[i]
		}
	}
	reported := start
	for off := start; off < end; {
		body, size, err := ReadFrame(data[off:end])
		if err != nil {
			size = s.badFrame(id, data[:end], off, size, err)
			off += size
			continue
		}
		e, err := DecodeEvent(body)
		if err != nil {
			s.damage(Damage{Segment: id, Offset: int64(off), Bytes: int64(size), Cause: err.Error()})
			off += size
			continue
		}
		f := frame{Event: e}
		f.Segment, f.Offset, f.FrameLength = id, int64(off), size
		if !f.IsMarker() && byOffset != nil {
			if fe, ok := byOffset[f.Offset]; ok {
				s.checkFooterEntry(&f, fe)
				f.Global, f.footerGlobal = fe.Global, true
				delete(byOffset, f.Offset)
			} else {
				s.rep.addMismatch(Mismatch{Source: "SIDX", Segment: id, Offset: f.Offset, Problem: "the footer has no entry for this event"})
			}
		}
		if err := s.frame(f); err != nil {
			return err
		}
		off += size
		if s.progress != nil && off-reported >= progressStep {
			s.progress(s.done+int64(off), s.total)
			reported = off
		}
	}
	for off := range byOffset {
		s.rep.addMismatch(Mismatch{Source: "SIDX", Segment: id, Offset: off, Problem: "the footer lists an event frame that is not there"})
	}
	// A batch goes on into the next segment only if this one was sealed
	// (rotation writes the footer); a segment that simply ends is where
	// batpak-rust stopped — a crash — and it starts a new segment when it
	// reopens, never finishing the batch.
	if s.inBatch && !ok {
		s.inBatch = false
		s.rep.addSkipped(s.skipped("its segment ends (unsealed: batpak-rust stopped there) before its COMMIT"))
	}
	return nil
}

// badFrame reports a frame that did not read at off and returns how far
// to move on: past the frame, if its length is plausible and a valid frame
// follows it (the damage is that one frame), else to the end of the
// segment's frames (nothing there can be trusted to be a frame boundary).
func (s *scanner) badFrame(id uint64, data []byte, off, size int, err error) int {
	rest := len(data) - off
	if size > 0 && size < rest {
		if _, _, nerr := ReadFrame(data[off+size:]); nerr == nil {
			s.damage(Damage{Segment: id, Offset: int64(off), Bytes: int64(size), Cause: err.Error()})
			return size
		}
	}
	cause := err.Error()
	if errors.Is(err, ErrTorn) {
		cause = "torn tail: " + cause
	}
	s.damage(Damage{Segment: id, Offset: int64(off), Bytes: int64(rest), Cause: cause})
	return rest
}

// damage records damage; damage inside a batch costs the whole batch.
func (s *scanner) damage(d Damage) {
	s.rep.addDamage(d)
	switch {
	case s.inBatch:
		s.inBatch = false
		declared := int(s.begin.PayloadSize)
		s.dropped = s.skipped(fmt.Sprintf("a damaged frame at segment %d offset %d inside the batch", d.Segment, d.Offset))
		s.staged = s.staged[:0]
		// The damaged frame was an item unless every item had been read
		// (then it was the COMMIT): skip the items still to come.
		s.discarding = true
		s.discard = max(declared-s.dropped.Found-1, 0)
	case s.discarding && s.discard > 0:
		s.discard--
	}
}

func (s *scanner) skipped(reason string) SkippedBatch {
	return SkippedBatch{Segment: s.begin.Segment, Offset: s.begin.Offset, Declared: s.begin.PayloadSize, Found: len(s.staged), Reason: reason}
}

func (s *scanner) endDiscard() {
	if s.discarding {
		s.rep.addSkipped(s.dropped)
		s.discarding = false
	}
}

// frame applies batpak-rust's recovery rules to a decoded frame.
func (s *scanner) frame(f frame) error {
	switch f.Kind {
	case KindBatchBegin:
		s.endDiscard()
		if s.inBatch {
			s.rep.addSkipped(s.skipped("another batch began before its COMMIT"))
		}
		s.inBatch, s.begin, s.staged = true, f.Event, s.staged[:0]
		return nil
	case KindBatchCommit:
		switch {
		case s.inBatch:
			s.inBatch = false
			if n := len(s.staged); n != int(s.begin.PayloadSize) || n == 0 {
				s.rep.addSkipped(s.skipped(fmt.Sprintf("COMMIT after %d items, BEGIN announced %d", n, s.begin.PayloadSize)))
				return nil
			}
			s.rep.Batches++
			return s.emit(s.staged, true)
		case s.discarding:
			s.endDiscard() // the damaged batch's own COMMIT
		default:
			s.rep.addDamage(Damage{Segment: f.Segment, Offset: f.Offset, Bytes: int64(f.FrameLength), Cause: "COMMIT marker without a BEGIN"})
		}
		return nil
	}
	if s.inBatch && len(s.staged) == int(s.begin.PayloadSize) {
		s.inBatch = false
		s.rep.addSkipped(s.skipped(fmt.Sprintf("an event follows its %d announced items instead of the COMMIT", len(s.staged))))
	}
	switch {
	case s.inBatch:
		f.InBatch = true
		s.staged = append(s.staged, f.Event)
		s.staged[len(s.staged)-1].Global = f.globalOr()
		return nil
	case s.discarding && s.discard > 0:
		s.discard--
		s.dropped.Found++
		return nil
	}
	s.endDiscard()
	f.Global = f.globalOr()
	return s.emit([]Event{f.Event}, false)
}

// globalOr marks a global sequence not known from a footer as unknown
// (math.MaxUint64) so emit numbers it in log order.
func (f *frame) globalOr() uint64 {
	if f.footerGlobal {
		return f.Global
	}
	return noGlobal
}

const noGlobal = ^uint64(0)

// progressStep is how many bytes of a segment Scan reads between two
// progress calls (besides one at the end of every segment).
const progressStep = 1 << 20

func (s *scanner) endOfLog() error {
	if s.inBatch {
		s.inBatch = false
		s.rep.addSkipped(s.skipped("the log ends before its COMMIT"))
	}
	s.endDiscard()
	return nil
}

// emit checks and numbers a unit's events and hands it on.
func (s *scanner) emit(evs []Event, batch bool) error {
	out := make([]Event, len(evs))
	copy(out, evs)
	for i := range out {
		e := &out[i]
		if e.Global == noGlobal {
			e.Global = s.nextGlobal
		}
		s.nextGlobal = max(s.nextGlobal, e.Global+1)
		s.rep.Events++
		s.checkChain(e)
		s.checkCheckpointEntry(e)
	}
	if s.fn == nil {
		return nil
	}
	return s.fn(Unit{Events: out, Batch: batch})
}

// checkChain checks an event against batpak-rust's integrity rules: its
// event hash is the Blake3 hash of its payload bytes (the header is not
// hashed), content_hash repeats it, prev_hash is the entity's previous
// event's hash (zero for its first), and the per-entity sequence counts
// up from 0.
func (s *scanner) checkChain(e *Event) {
	c := s.chains[e.Entity]
	if c == nil {
		c = &chainState{}
		s.chains[e.Entity] = c
	}
	brk := func(problem string, args ...any) {
		s.rep.addChain(ChainBreak{Segment: e.Segment, Offset: e.Offset, ID: e.ID.String(), Entity: e.Entity, Problem: fmt.Sprintf(problem, args...)})
	}
	if e.Sequence != c.next {
		brk("per-entity sequence %d, expected %d", e.Sequence, c.next)
	}
	c.next = e.Sequence + 1
	var zero [32]byte
	switch {
	case !e.HasChain:
		brk("the frame has no hash_chain")
		return
	case e.EventHash == zero && e.PrevHash == zero && e.ContentHash == zero:
		s.rep.Unhashed++
		c.last = zero
		return
	}
	if e.PrevHash != c.last {
		brk("prev_hash %x… is not the entity's previous event hash %x…", e.PrevHash[:4], c.last[:4])
	}
	c.last = e.EventHash
	// A tombstone's payload may have been dropped or rewritten by
	// batpak-rust's compaction after its hash was computed.
	if e.Kind == KindTombstone {
		return
	}
	if sum := blake3.Sum256(e.Payload); sum != e.EventHash {
		brk("event_hash %x… is not the Blake3 hash of the payload (%x…)", e.EventHash[:4], sum[:4])
	}
	if e.ContentHash != zero && e.ContentHash != e.EventHash {
		brk("content_hash %x… differs from event_hash %x…", e.ContentHash[:4], e.EventHash[:4])
	}
	if int(e.PayloadSize) != len(e.Payload) {
		brk("payload_size %d, payload of %d bytes", e.PayloadSize, len(e.Payload))
	}
}

func (s *scanner) checkFooterEntry(f *frame, fe *FooterEntry) {
	var diffs []string
	diff := func(field string, ok bool) {
		if !ok {
			diffs = append(diffs, field)
		}
	}
	diff("id", fe.ID == f.ID)
	diff("entity", fe.Entity == f.Entity)
	diff("scope", fe.Scope == f.Scope)
	diff("kind", fe.Kind == f.Kind)
	diff("wall_ms", fe.WallMS == f.WallMS)
	diff("clock", uint64(fe.Clock) == f.Sequence)
	diff("prev_hash", fe.PrevHash == f.PrevHash)
	diff("event_hash", fe.EventHash == f.EventHash)
	diff("frame_length", int(fe.FrameLength) == f.FrameLength)
	diff("correlation_id", fe.Correlation == f.Correlation)
	diff("causation_id", fe.Causation == f.Causation)
	if len(diffs) > 0 {
		s.rep.addMismatch(Mismatch{Source: "SIDX", Segment: f.Segment, Offset: f.Offset, Problem: fmt.Sprintf("entry differs from the frame in %v", diffs)})
	}
}

func (s *scanner) loadCheckpoint() error {
	b, err := fs.ReadFile(s.st.fsys, CheckpointFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := DecodeCheckpoint(b)
	if err != nil {
		s.rep.addMismatch(Mismatch{Source: CheckpointFile, Problem: err.Error()})
		return nil
	}
	s.rep.CheckpointFound = true
	s.ckEntry, s.ckSeen = c.Entries, make([]bool, len(c.Entries))
	s.ckpt = make(map[event.ID]int, len(c.Entries))
	for i, e := range c.Entries {
		s.ckpt[e.ID] = i
	}
	return nil
}

func (s *scanner) checkCheckpointEntry(e *Event) {
	i, ok := s.ckpt[e.ID]
	if !ok {
		return // written after the checkpoint (or no checkpoint)
	}
	s.ckSeen[i] = true
	s.rep.CheckpointChecked++
	ce := &s.ckEntry[i]
	var diffs []string
	diff := func(field string, ok bool) {
		if !ok {
			diffs = append(diffs, field)
		}
	}
	diff("segment_id", ce.Segment == e.Segment)
	diff("offset", ce.Offset == uint64(e.Offset))
	diff("length", ce.Length == uint64(e.FrameLength))
	diff("global_sequence", ce.Global == e.Global)
	diff("entity", ce.Entity == e.Entity)
	diff("scope", ce.Scope == e.Scope)
	diff("kind", ce.Kind == e.Kind)
	diff("wall_ms", ce.WallMS == e.WallMS)
	diff("clock", ce.Clock == e.Sequence)
	diff("prev_hash", ce.PrevHash == e.PrevHash)
	diff("event_hash", ce.EventHash == e.EventHash)
	diff("correlation_id", ce.Correlation == e.Correlation)
	diff("causation_id", ce.Causation == e.Causation)
	if len(diffs) > 0 {
		s.rep.addMismatch(Mismatch{Source: CheckpointFile, Segment: e.Segment, Offset: e.Offset, Problem: fmt.Sprintf("entry for %v differs from the frame in %v", e.ID, diffs)})
	}
}

func (s *scanner) finishCheckpoint() {
	for i, seen := range s.ckSeen {
		if !seen {
			ce := &s.ckEntry[i]
			s.rep.addMismatch(Mismatch{Source: CheckpointFile, Segment: ce.Segment, Offset: int64(ce.Offset),
				Problem: fmt.Sprintf("entry for %v names an event the segments do not hold", ce.ID)})
		}
	}
}
