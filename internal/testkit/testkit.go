// Package testkit holds the helpers the facade's black-box tests and the
// reliability suite share (each is a test package of its own, and one
// test package cannot import another's). It is for tests only: every
// helper takes a testing.TB or is plain data.
package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Kinds used throughout the tests: user category 0x1.
var (
	KindMoved  = event.MustCustom(0x1, 0x001)
	KindSpoke  = event.MustCustom(0x1, 0x002)
	KindMarker = event.MustCustom(0x2, 0x001)
)

// Quiet discards the store's log records (restart stacks, recovery
// warnings) so test output shows only failures.
var Quiet = batpak.WithLogger(slog.New(slog.DiscardHandler))

// bg is the context of calls that are not about cancellation.
var bg = context.Background()

// MemDir is the store directory used on in-memory file systems.
const MemDir = "/db"

// OpenStore opens a store in dir with quiet logging and closes it when the
// test ends (a second Close by the test itself is harmless).
func OpenStore(t testing.TB, dir string, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	s, err := TryOpen(dir, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// ErrOpenPanicked marks an Open that panicked (see TryOpen).
var ErrOpenPanicked = errors.New("batpak.Open panicked")

// TryOpen opens a store with quiet logging, turning a panic inside Open
// into an error wrapping ErrOpenPanicked, so that such a bug fails the one
// test that met it instead of killing the whole test binary.
func TryOpen(dir string, opts ...batpak.Option) (s *batpak.Store, err error) {
	defer func() {
		if v := recover(); v != nil {
			s, err = nil, fmt.Errorf("%w: %v", ErrOpenPanicked, v)
		}
	}()
	return batpak.Open(dir, append([]batpak.Option{Quiet}, opts...)...)
}

// CloseStore closes s and fails the test on an error.
func CloseStore(t testing.TB, s *batpak.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// Coord builds a coordinate, failing the test on invalid input.
func Coord(t testing.TB, entity, scope string) batpak.Coordinate {
	t.Helper()
	c, err := batpak.NewCoordinate(entity, scope)
	if err != nil {
		t.Fatalf("NewCoordinate(%q, %q): %v", entity, scope, err)
	}
	return c
}

// MustAppend appends and fails the test on an error.
func MustAppend(t testing.TB, s *batpak.Store, c batpak.Coordinate, k batpak.EventKind, payload any) batpak.Receipt {
	t.Helper()
	r, err := s.Append(bg, c, k, payload)
	if err != nil {
		t.Fatalf("Append(%s): %v", c, err)
	}
	return r
}

// Collect drains a query, failing the test on the first error.
func Collect(t testing.TB, seq iter.Seq2[*batpak.StoredEvent, error]) []*batpak.StoredEvent {
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

// All returns every visible event in global order.
func All(t testing.TB, s *batpak.Store) []*batpak.StoredEvent {
	t.Helper()
	return Collect(t, s.Query(bg, event.AllEvents()))
}

// CheckLog asserts the log-wide invariants on the events of a full query
// (global order): globals strictly increasing, ids unique, each entity's
// sequences exactly 0..n-1, and, when chained, each entity's chain linked
// (checked through Stream, which fills Hash.Prev).
func CheckLog(t testing.TB, s *batpak.Store, evs []*batpak.StoredEvent, chained bool) {
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

// ReceiptMatches reports whether a stored event is the one a receipt names.
func ReceiptMatches(r batpak.Receipt, ev *batpak.StoredEvent) bool {
	return r.ID == ev.ID && r.Global == ev.Global && r.Position == ev.Position &&
		r.Coordinate == ev.Coordinate && r.Kind == ev.Kind && r.Hash == ev.Hash.Self &&
		r.Correlation == ev.Correlation && r.Causation == ev.Causation && r.Timestamp == ev.Timestamp
}

// SegmentFiles returns the segment file names in dir, sorted.
func SegmentFiles(t testing.TB, fs vfs.FS, dir string) []string {
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

// ReadFile returns a file's bytes through fs.
func ReadFile(t testing.TB, fs vfs.FS, name string) []byte {
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

// WriteFile replaces a file's contents through fs and syncs it.
func WriteFile(t testing.TB, fs vfs.FS, name string, b []byte) {
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

// Frame is one record of a segment as the tests see it.
type Frame struct {
	Off, End int64
	Typ      byte
	ID       batpak.ID // events only
}

// Frames parses a segment's records from the header on, stopping at the
// first invalid one.
func Frames(t testing.TB, data []byte) []Frame {
	t.Helper()
	var out []Frame
	off := int64(segment.HeaderSize)
	for off < int64(len(data)) {
		body, size, err := segment.ReadFrame(data[off:])
		if err != nil {
			break
		}
		f := Frame{Off: off, End: off + int64(size), Typ: body[0]}
		if f.Typ == segment.TypeEvent {
			var v segment.EventView
			if err := segment.ParseEvent(body, &v); err != nil {
				t.Fatalf("Frame at %d: %v", off, err)
			}
			f.ID = v.ID
		}
		out = append(out, f)
		off = f.End
	}
	return out
}

// Payload is the structured payload of most tests' events.
type Payload struct {
	Producer int    `msgpack:"p" json:"p"`
	N        int    `msgpack:"n" json:"n"`
	Note     string `msgpack:"note,omitempty" json:"note,omitempty"`
}

// BatchMark is the payload of batch items in visibility and crash tests:
// which batch an event belongs to and how many events the batch has.
type BatchMark struct {
	Batch int    `msgpack:"b"`
	Item  int    `msgpack:"i"`
	Of    int    `msgpack:"of"`
	Pad   []byte `msgpack:"pad,omitempty"` // bulk, to fill segments
}

// BatchCounts groups events carrying a BatchMark by batch and checks that
// every batch present is whole: all Of items, each once.
func BatchCounts(evs []*batpak.StoredEvent) (map[int]int, error) {
	counts := map[int]int{}
	items := map[[2]int]bool{}
	want := map[int]int{}
	for _, ev := range evs {
		if ev.Kind != KindMarker {
			continue
		}
		m, err := batpak.Decode[BatchMark](ev)
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
