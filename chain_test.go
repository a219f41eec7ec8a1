package batpak_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"slices"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

func TestHashChainLinksEachEventToItsPredecessor(t *testing.T) {
	s := openStore(t, t.TempDir())
	a, b := coord(t, "a", "s"), coord(t, "b", "s")
	var ra []batpak.Receipt
	for i := range 6 {
		ra = append(ra, mustAppend(t, s, a, kindMoved, payload{N: i}))
		mustAppend(t, s, b, kindMoved, payload{N: i})
	}
	evs := collect(t, s.Stream(bg, "a"))
	for i, ev := range evs {
		if ev.Hash.Self != ra[i].Hash || ev.Hash.Self == ([32]byte{}) {
			t.Fatalf("event %d: stored hash %x, receipt %x", i, ev.Hash.Self[:4], ra[i].Hash[:4])
		}
		var want [32]byte
		if i > 0 {
			want = evs[i-1].Hash.Self
		}
		if ev.Hash.Prev != want {
			t.Fatalf("Stream event %d: Hash.Prev %x, want the predecessor's %x", i, ev.Hash.Prev[:4], want[:4])
		}
		got, err := s.Get(bg, ev.ID)
		if err != nil || got.Hash != ev.Hash {
			t.Fatalf("Get of event %d: hash %+v, %v; Stream gave %+v", i, got.Hash, err, ev.Hash)
		}
	}
	latest, err := s.Latest(bg, "a")
	if err != nil || latest.Hash.Prev != evs[4].Hash.Self {
		t.Fatalf("Latest: Hash.Prev not the predecessor's hash (%v)", err)
	}
	// A stream read from the middle still fills Prev.
	mid := collect(t, s.Query(bg, event.ForEntity("a").WithSequence(3, 4)))
	if len(mid) != 2 || mid[0].Hash.Prev != evs[2].Hash.Self || mid[1].Hash.Prev != evs[3].Hash.Self {
		t.Fatal("a stream read from sequence 3 has wrong Hash.Prev")
	}
	// Distinct entities have distinct chains even for equal payloads.
	evb := collect(t, s.Stream(bg, "b"))
	if evb[0].Hash.Self == evs[0].Hash.Self {
		t.Fatal("two entities' first events hash alike")
	}
}

func TestWalkAncestorsWalksBackWithALimit(t *testing.T) {
	s := openStore(t, t.TempDir())
	a, b := coord(t, "a", "s"), coord(t, "b", "s")
	var ra []batpak.Receipt
	for i := range 5 {
		ra = append(ra, mustAppend(t, s, a, kindMoved, payload{N: i}))
		mustAppend(t, s, b, kindMoved, payload{N: i})
	}
	walk := func(id batpak.ID, limit int) []uint64 {
		t.Helper()
		var seqs []uint64
		for ev, err := range s.WalkAncestors(bg, id, limit) {
			if err != nil {
				t.Fatalf("WalkAncestors: %v", err)
			}
			if ev.Coordinate != a {
				t.Fatalf("walk left the entity: %v", ev.Coordinate)
			}
			if !receiptMatches(ra[ev.Sequence], ev) {
				t.Fatalf("walk yielded a wrong event at sequence %d", ev.Sequence)
			}
			seqs = append(seqs, ev.Sequence)
		}
		return seqs
	}
	for _, tc := range []struct {
		from, limit int
		want        []uint64
	}{
		{4, 0, []uint64{4, 3, 2, 1, 0}},
		{4, 2, []uint64{4, 3}},
		{4, 1, []uint64{4}},
		{4, 5, []uint64{4, 3, 2, 1, 0}},
		{4, 50, []uint64{4, 3, 2, 1, 0}},
		{2, 0, []uint64{2, 1, 0}},
		{0, 0, []uint64{0}},
	} {
		if got := walk(ra[tc.from].ID, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("walk from %d limit %d: %v, want %v", tc.from, tc.limit, got, tc.want)
		}
	}
	var gotErr error
	for _, err := range s.WalkAncestors(bg, event.NewID(), 0) {
		gotErr = err
	}
	if !errors.Is(gotErr, batpak.ErrNotFound) {
		t.Fatalf("walk from an unknown id: %v, want ErrNotFound", gotErr)
	}
}

func TestWithoutHashChainHashesAreZero(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithHashChain(false))
	c := coord(t, "a", "s")
	var rs []batpak.Receipt
	for i := range 4 {
		r := mustAppend(t, s, c, kindMoved, payload{N: i})
		if r.Hash != ([32]byte{}) {
			t.Fatalf("receipt %d carries a hash without hash chains", i)
		}
		rs = append(rs, r)
	}
	for _, ev := range collect(t, s.Stream(bg, "a")) {
		if ev.Hash != (event.HashChain{}) {
			t.Fatalf("sequence %d: hash %+v without hash chains", ev.Sequence, ev.Hash)
		}
	}
	n := 0
	for _, err := range s.WalkAncestors(bg, rs[3].ID, 0) {
		if err != nil {
			t.Fatalf("WalkAncestors without hashes: %v", err)
		}
		n++
	}
	if n != 4 {
		t.Fatalf("walk yielded %d events, want 4", n)
	}
	closeStore(t, s)

	// Turning chains on later chains the new events from there on.
	s = openStore(t, dir)
	for i := 4; i < 6; i++ {
		mustAppend(t, s, c, kindMoved, payload{N: i})
	}
	evs := collect(t, s.Stream(bg, "a"))
	if evs[3].Hash.Self != ([32]byte{}) || evs[4].Hash.Self == ([32]byte{}) || evs[5].Hash.Prev != evs[4].Hash.Self {
		t.Fatal("chain after turning hash chains on is not linked")
	}
	n = 0
	for _, err := range s.WalkAncestors(bg, evs[5].ID, 0) {
		if err != nil {
			t.Fatalf("WalkAncestors over a partly chained stream: %v", err)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("walk yielded %d events, want 6", n)
	}
}

func TestRotationSpreadsTheLogOverSegments(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithSegmentSize(64<<10))
	blob := func(i int) []byte {
		b := make([]byte, 1000)
		for j := range b {
			b[j] = byte(i + j)
		}
		return b
	}
	var acked []batpak.Receipt
	for i := range 200 {
		c := coord(t, "e"+string(rune('a'+i%4)), "s")
		if i%20 == 19 {
			var items []batpak.BatchItem
			for j := range 10 {
				items = append(items, batpak.BatchItem{Coord: coord(t, "batch", "s"), Kind: kindMoved, Payload: blob(i*10 + j)})
			}
			rs, err := s.AppendBatch(bg, items)
			if err != nil {
				t.Fatal(err)
			}
			acked = append(acked, rs...)
			continue
		}
		acked = append(acked, mustAppend(t, s, c, kindMoved, blob(i)))
	}
	// A record larger than a segment gets one of its own, and so does a
	// batch: it is never split over two segments.
	big := mustAppend(t, s, coord(t, "big", "s"), kindMoved, make([]byte, 100<<10))
	acked = append(acked, big)
	var huge []batpak.BatchItem
	for j := range 80 {
		huge = append(huge, batpak.BatchItem{Coord: coord(t, "huge", "s"), Kind: kindMoved, Payload: blob(j)})
	}
	rs, err := s.AppendBatch(bg, huge)
	if err != nil {
		t.Fatalf("a batch larger than a segment: %v", err)
	}
	acked = append(acked, rs...)
	acked = append(acked, mustAppend(t, s, coord(t, "ea", "s"), kindMoved, blob(-1)))

	files := segmentFiles(t, vfs.OS, dir)
	if len(files) < 4 {
		t.Fatalf("%d segment files for ~400 KiB with 64 KiB segments", len(files))
	}
	if got := s.Stats().Segments; got != len(files) {
		t.Fatalf("Stats().Segments = %d, %d files", got, len(files))
	}
	for _, name := range files {
		data := readFile(t, vfs.OS, filepath.Join(dir, name))
		// Over the segment size only when one event or one batch alone
		// is that large.
		units, inBatch := 0, false
		for _, f := range frames(t, data) {
			switch {
			case f.Typ == segment.TypeBatchBegin:
				units, inBatch = units+1, true
			case f.Typ == segment.TypeBatchCommit:
				inBatch = false
			case f.Typ == segment.TypeFooter: // the sealed segment's index, not a record of the log
			case !inBatch:
				units++
			}
		}
		if len(data) > 64<<10 && units != 1 {
			t.Errorf("segment %s is %d bytes with %d events or batches, over the 64 KiB segment size", name, len(data), units)
		}
	}
	verify := func(s *batpak.Store) {
		t.Helper()
		evs := all(t, s)
		if len(evs) != len(acked) {
			t.Fatalf("%d events, want %d", len(evs), len(acked))
		}
		for i, r := range acked {
			if !receiptMatches(r, evs[i]) {
				t.Fatalf("event %d differs from its receipt", i)
			}
			ev, err := s.Get(bg, r.ID)
			if err != nil || ev.PayloadSize != evs[i].PayloadSize {
				t.Fatalf("Get of event %d: %v", i, err)
			}
		}
		checkLog(t, s, evs, true)
	}
	verify(s)
	closeStore(t, s)

	s = openStore(t, dir, batpak.WithSegmentSize(64<<10))
	if rec := s.Stats().Recovery; rec.Segments != len(files) || rec.Events != len(acked) || rec.Torn {
		t.Fatalf("recovery report %+v, want %d segments and %d events", rec, len(files), len(acked))
	}
	verify(s)
	acked = append(acked, mustAppend(t, s, coord(t, "eb", "s"), kindMoved, blob(-2)))
	verify(s)
}

func TestStatsReportsCounts(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	st := s.Stats()
	if st.Events != 0 || st.Entities != 0 || st.Scopes != 0 || st.LastGlobal != 0 || st.Segments != 1 || st.FailStop != nil {
		t.Fatalf("fresh store: %+v", st)
	}
	for i := range 9 {
		mustAppend(t, s, coord(t, "e"+string(rune('0'+i%3)), "s"+string(rune('0'+i%2))), kindMoved, payload{N: i})
	}
	st = s.Stats()
	want := batpak.Stats{Events: 9, Entities: 3, Scopes: 2, Segments: 1, LastGlobal: 9}
	if st.Events != want.Events || st.Entities != want.Entities || st.Scopes != want.Scopes ||
		st.Segments != want.Segments || st.LastGlobal != want.LastGlobal || st.MailboxDepth != 0 ||
		st.WriterRestarts != 0 || st.FsyncRestarts != 0 || st.FailStop != nil || st.Recovery.Events != 0 {
		t.Fatalf("Stats() = %+v\nwant counts %+v", st, want)
	}
	closeStore(t, s)

	s = openStore(t, dir)
	st = s.Stats()
	if st.Events != 9 || st.LastGlobal != 9 || st.Recovery.Events != 9 || st.Recovery.Segments != 1 || st.Recovery.Torn {
		t.Fatalf("reopened: %+v", st)
	}
}

func ids(evs []*batpak.StoredEvent) []batpak.ID {
	out := make([]batpak.ID, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func TestWalkAncestorsReportsABrokenChain(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	c := coord(t, "a", "s")
	var rs []batpak.Receipt
	for i := range 4 {
		rs = append(rs, mustAppend(t, s, c, kindMoved, []byte{byte(i), byte(i), byte(i)}))
	}
	closeStore(t, s)

	// Rewrite event 1's payload and fix its frame checksum: the frame is
	// valid, but no longer what event 2 was chained over.
	seg := segmentFiles(t, vfs.OS, dir)[0]
	name := filepath.Join(dir, seg)
	data := readFile(t, vfs.OS, name)
	f := frames(t, data)[1]
	if f.ID != rs[1].ID {
		t.Fatal("frame 1 is not event 1")
	}
	data[f.End-1] ^= 0xff
	binary.LittleEndian.PutUint32(data[f.Off+4:], crc32.Checksum(data[f.Off+8:f.End], crc32.MakeTable(crc32.Castagnoli)))
	writeFile(t, vfs.OS, name, data)

	s, err := tryOpen(dir)
	var ce *batpak.CorruptionError
	if err != nil {
		// Open may verify chains itself; then it must name the spot.
		if !errors.As(err, &ce) || ce.Segment != 1 || ce.Offset != f.Off {
			t.Fatalf("Open: %v, want nil or a *CorruptionError at segment 1 offset %d", err, f.Off)
		}
		return
	}
	defer s.Close()
	var walked []uint64
	var walkErr error
	for ev, err := range s.WalkAncestors(bg, rs[3].ID, 0) {
		if err != nil {
			walkErr = err
			break
		}
		walked = append(walked, ev.Sequence)
	}
	if !errors.Is(walkErr, batpak.ErrChainBroken) || !errors.As(walkErr, &ce) {
		t.Fatalf("walk over a rewritten event yielded %v after %v; want ErrChainBroken with a *CorruptionError", walkErr, walked)
	}
	if ce.Segment != 1 || ce.Offset != f.Off {
		t.Fatalf("ErrChainBroken names segment %d offset %d, want segment 1 offset %d", ce.Segment, ce.Offset, f.Off)
	}
	if slices.Contains(walked, 0) {
		t.Fatalf("the walk went past the broken link: %v", walked)
	}
	t.Logf("walk yielded sequences %v before reporting the broken link", walked)
}
