package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Helpers shared by the reliability tests. Most repeat the root package's
// black-box test helpers: one test package cannot import another's.

// Kinds used throughout the tests: user category 0x1.
var (
	kindMoved  = event.MustCustom(0x1, 0x001)
	kindSpoke  = event.MustCustom(0x1, 0x002)
	kindMarker = event.MustCustom(0x2, 0x001)
)

// quiet discards the store's log records (restart stacks, recovery
// warnings) so test output shows only failures.
var quiet = batpak.WithLogger(slog.New(slog.DiscardHandler))

// bg is the context of calls that are not about cancellation.
var bg = context.Background()

// memDir is the store directory used on in-memory file systems.
const memDir = "/db"

// openStore opens a store in dir with quiet logging and closes it when the
// test ends (a second Close by the test itself is harmless).
func openStore(t testing.TB, dir string, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	s, err := tryOpen(dir, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// errOpenPanicked marks an Open that panicked (see tryOpen).
var errOpenPanicked = errors.New("batpak.Open panicked")

// tryOpen opens a store with quiet logging, turning a panic inside Open
// into an error wrapping errOpenPanicked, so that such a bug fails the one
// test that met it instead of killing the whole test binary.
func tryOpen(dir string, opts ...batpak.Option) (s *batpak.Store, err error) {
	defer func() {
		if v := recover(); v != nil {
			s, err = nil, fmt.Errorf("%w: %v", errOpenPanicked, v)
		}
	}()
	return batpak.Open(dir, append([]batpak.Option{quiet}, opts...)...)
}

// closeStore closes s and fails the test on an error.
func closeStore(t testing.TB, s *batpak.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// coord builds a coordinate, failing the test on invalid input.
func coord(t testing.TB, entity, scope string) batpak.Coordinate {
	t.Helper()
	c, err := batpak.NewCoordinate(entity, scope)
	if err != nil {
		t.Fatalf("NewCoordinate(%q, %q): %v", entity, scope, err)
	}
	return c
}

// mustAppend appends and fails the test on an error.
func mustAppend(t testing.TB, s *batpak.Store, c batpak.Coordinate, k batpak.EventKind, payload any) batpak.Receipt {
	t.Helper()
	r, err := s.Append(bg, c, k, payload)
	if err != nil {
		t.Fatalf("Append(%s): %v", c, err)
	}
	return r
}

// collect drains a query, failing the test on the first error.
func collect(t testing.TB, seq iter.Seq2[*batpak.StoredEvent, error]) []*batpak.StoredEvent {
	t.Helper()
	var out []*batpak.StoredEvent
	for ev, err := range seq {
		if err != nil {
			t.Fatalf("query yielded an error after %d events: %v", len(out), err)
		}
		out = append(out, ev)
	}
	return out
}

// all returns every visible event in global order.
func all(t testing.TB, s *batpak.Store) []*batpak.StoredEvent {
	t.Helper()
	return collect(t, s.Query(bg, event.AllEvents()))
}

// checkLog asserts the log-wide invariants on the events of a full query
// (global order): globals strictly increasing, ids unique, each entity's
// sequences exactly 0..n-1, and, when chained, each entity's chain linked
// (checked through Stream, which fills Hash.Prev).
func checkLog(t testing.TB, s *batpak.Store, evs []*batpak.StoredEvent, chained bool) {
	t.Helper()
	seen := make(map[batpak.ID]bool, len(evs))
	next := map[string]uint64{}
	for i, ev := range evs {
		if i > 0 && ev.Global <= evs[i-1].Global {
			t.Fatalf("global sequence not increasing: %d after %d", ev.Global, evs[i-1].Global)
		}
		if seen[ev.ID] {
			t.Fatalf("id %v appears twice", ev.ID)
		}
		seen[ev.ID] = true
		entity := ev.Coordinate.Entity()
		if ev.Sequence != next[entity] {
			t.Fatalf("entity %q: sequence %d where %d was due (global %d)", entity, ev.Sequence, next[entity], ev.Global)
		}
		next[entity]++
	}
	if !chained {
		return
	}
	for entity := range next {
		var prev [32]byte
		for ev, err := range s.Stream(bg, entity) {
			if err != nil {
				t.Fatalf("Stream(%q): %v", entity, err)
			}
			if ev.Hash.Self == ([32]byte{}) {
				t.Fatalf("entity %q sequence %d: zero chain hash", entity, ev.Sequence)
			}
			if ev.Hash.Prev != prev {
				t.Fatalf("entity %q sequence %d: Hash.Prev %x, predecessor's Self %x", entity, ev.Sequence, ev.Hash.Prev[:4], prev[:4])
			}
			prev = ev.Hash.Self
		}
	}
}

// sameEvent reports the first difference between two reads of one event,
// or "" if they agree on everything stored.
func sameEvent(a, b *batpak.StoredEvent) string {
	switch {
	case a.ID != b.ID:
		return "id"
	case a.Global != b.Global:
		return "global"
	case a.Position != b.Position:
		return "position"
	case a.Coordinate != b.Coordinate:
		return "coordinate"
	case a.Kind != b.Kind:
		return "kind"
	case a.Correlation != b.Correlation || a.Causation != b.Causation:
		return "correlation/causation"
	case a.Timestamp != b.Timestamp || a.Flags != b.Flags:
		return "timestamp/flags"
	case a.Hash.Self != b.Hash.Self:
		return "hash"
	case a.IdempotencyKey != b.IdempotencyKey:
		return "idempotency key"
	case a.Codec != b.Codec || !bytes.Equal(a.Payload, b.Payload):
		return "payload"
	}
	return ""
}

// receiptMatches reports whether a stored event is the one a receipt names.
func receiptMatches(r batpak.Receipt, ev *batpak.StoredEvent) bool {
	return r.ID == ev.ID && r.Global == ev.Global && r.Position == ev.Position &&
		r.Coordinate == ev.Coordinate && r.Kind == ev.Kind && r.Hash == ev.Hash.Self &&
		r.Correlation == ev.Correlation && r.Causation == ev.Causation && r.Timestamp == ev.Timestamp
}

// segmentFiles returns the segment file names in dir, sorted.
func segmentFiles(t testing.TB, fs vfs.FS, dir string) []string {
	t.Helper()
	names, err := fs.List(dir)
	if err != nil {
		t.Fatalf("List(%s): %v", dir, err)
	}
	var segs []string
	for _, n := range names {
		if _, ok := segment.ParseFileName(n); ok {
			segs = append(segs, n)
		}
	}
	slices.Sort(segs)
	return segs
}

// readFile returns a file's bytes through fs.
func readFile(t testing.TB, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	if n, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && int64(n) == size) {
		t.Fatalf("ReadAt(%s): %v", name, err)
	}
	return b
}

// writeFile replaces a file's contents through fs and syncs it.
func writeFile(t testing.TB, fs vfs.FS, name string, b []byte) {
	t.Helper()
	f, err := fs.OpenRW(name)
	if err != nil {
		t.Fatalf("OpenRW(%s): %v", name, err)
	}
	defer f.Close()
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the regular files of src into a new directory under the
// test's temp dir (the lock file excluded) and returns it.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// frame is one record of a segment as the tests see it.
type frame struct {
	off, end int64
	typ      byte
	id       batpak.ID // events only
}

// frames parses a segment's records from the header on, stopping at the
// first invalid one.
func frames(t testing.TB, data []byte) []frame {
	t.Helper()
	var out []frame
	off := int64(segment.HeaderSize)
	for off < int64(len(data)) {
		body, size, err := segment.ReadFrame(data[off:])
		if err != nil {
			break
		}
		f := frame{off: off, end: off + int64(size), typ: body[0]}
		if f.typ == segment.TypeEvent {
			var v segment.EventView
			if err := segment.ParseEvent(body, &v); err != nil {
				t.Fatalf("frame at %d: %v", off, err)
			}
			f.id = v.ID
		}
		out = append(out, f)
		off = f.end
	}
	return out
}

// committedBefore returns the ids of the events whose records lie wholly
// before cut and are committed there (a batch's events only once its
// COMMIT is before cut), and the offset just past the last committed record.
func committedBefore(fs []frame, cut int64) (map[batpak.ID]bool, int64) {
	got := map[batpak.ID]bool{}
	end := int64(segment.HeaderSize)
	var batch []batpak.ID
	inBatch := false
	for _, f := range fs {
		if f.end > cut {
			break
		}
		switch f.typ {
		case segment.TypeBatchBegin:
			inBatch, batch = true, batch[:0]
		case segment.TypeEvent:
			if inBatch {
				batch = append(batch, f.id)
				continue
			}
			got[f.id] = true
			end = f.end
		case segment.TypeBatchCommit:
			for _, id := range batch {
				got[id] = true
			}
			inBatch = false
			end = f.end
		}
	}
	return got, end
}

// payload is the structured payload of most tests' events.
type payload struct {
	Producer int    `msgpack:"p" json:"p"`
	N        int    `msgpack:"n" json:"n"`
	Note     string `msgpack:"note,omitempty" json:"note,omitempty"`
}

// batchMark is the payload of batch items in visibility and crash tests:
// which batch an event belongs to and how many events the batch has.
type batchMark struct {
	Batch int    `msgpack:"b"`
	Item  int    `msgpack:"i"`
	Of    int    `msgpack:"of"`
	Pad   []byte `msgpack:"pad,omitempty"` // bulk, to fill segments
}

// batchCounts groups events carrying a batchMark by batch and checks that
// every batch present is whole: all Of items, each once.
func batchCounts(evs []*batpak.StoredEvent) (map[int]int, error) {
	counts := map[int]int{}
	items := map[[2]int]bool{}
	want := map[int]int{}
	for _, ev := range evs {
		if ev.Kind != kindMarker {
			continue
		}
		m, err := batpak.Decode[batchMark](ev)
		if err != nil {
			return nil, err
		}
		if items[[2]int{m.Batch, m.Item}] {
			return nil, errors.New("batch item visible twice: " + ev.ID.String())
		}
		items[[2]int{m.Batch, m.Item}] = true
		counts[m.Batch]++
		want[m.Batch] = m.Of
	}
	var partial []string
	for b, n := range counts {
		if n != want[b] {
			partial = append(partial, fmt.Sprintf("batch %d shows %d of %d", b, n, want[b]))
		}
	}
	if len(partial) > 0 {
		slices.Sort(partial)
		return counts, errors.New("partial batch visible: " + strings.Join(partial, "; "))
	}
	return counts, nil
}

// tornCut returns a segment's bytes cut at cut, as a crash would leave them
// if nothing past cut had been synced: the header's sync note is lowered to
// the last whole frame at or before the cut — an fsync covers whole writes,
// so a real note never falls inside a frame. (Cutting below the note models
// losing synced bytes, which the store reports as corruption.)
func tornCut(data []byte, cut int) []byte {
	out := append([]byte(nil), data[:cut]...)
	note, ok := segment.DecodeSyncNote(out)
	if !ok {
		return out
	}
	boundary := int64(segment.HeaderSize)
	for boundary < int64(cut) {
		_, size, err := segment.ReadFrame(data[boundary:])
		if err != nil || boundary+int64(size) > int64(cut) {
			break
		}
		boundary += int64(size)
	}
	if note > boundary {
		lowered := segment.EncodeSyncNote(boundary)
		copy(out[segment.SyncNoteOffset:], lowered[:])
	}
	return out
}

// ids returns the events' ids, in order.
func ids(evs []*batpak.StoredEvent) []batpak.ID {
	out := make([]batpak.ID, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}
