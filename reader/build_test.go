package reader

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
	"github.com/stretchr/testify/require"
)

// The tests of this package build segments byte by byte, as the writer
// lays them out, so that every decision of recovery and every read can be
// put to a segment made for it: nothing here goes through the facade.

// kindA and kindB are the event kinds the built segments use.
var (
	kindA = event.MustCustom(1, 1)
	kindB = event.MustCustom(1, 2)
)

// log is a stretch of the log being built: segments with their events,
// numbered globally in order, each entity's events chained by hash.
type log struct {
	global uint64
	seq    map[string]uint64
	prev   map[string][32]byte
}

func newLog() *log {
	return &log{seq: make(map[string]uint64), prev: make(map[string][32]byte)}
}

// seg is one segment being built: its bytes and the index entries of the
// events written into it, in order.
type seg struct {
	id      uint64
	log     *log
	data    []byte
	pending []index.Pending
}

// segment starts segment id with a header whose sync note covers nothing.
func (l *log) segment(id uint64) *seg {
	h := segment.EncodeHeader(segment.Header{ID: id, Created: int64(id) * 1000})
	return &seg{id: id, log: l, data: h[:]}
}

// idOf is the deterministic id of the event with global sequence g:
// increasing with g, as the writer's are.
func idOf(g uint64) event.ID {
	var id event.ID
	binary.BigEndian.PutUint64(id[:8], 0x0190_0000_0000_7000)
	binary.BigEndian.PutUint64(id[8:], 0x8000_0000_0000_0000|g)
	return id
}

// event appends an event of entity (in scope "room") and returns the
// offset of its frame.
func (s *seg) event(entity string, kind event.EventKind, payload string) int64 {
	return s.eventIn(entity, "room", kind, payload)
}

// eventIn appends an event of entity in scope and returns its frame's
// offset; mods set the record's optional fields.
func (s *seg) eventIn(entity, scope string, kind event.EventKind, payload string, mods ...func(*segment.EventRecord)) int64 {
	l := s.log
	l.global++
	g, seq := l.global, l.seq[entity]
	r := segment.EventRecord{
		ID: idOf(g), Kind: kind, Global: g, Sequence: seq,
		Timestamp: 1_700_000_000_000_000 + int64(g), WallMS: 1_700_000_000_000 + g/1000,
		Codec: event.CodecRaw, Entity: entity, Scope: scope, Payload: []byte(payload),
	}
	for _, m := range mods {
		m(&r)
	}
	off := int64(len(s.data))
	var self [32]byte
	s.data, self = segment.AppendEvent(s.data, &r, true, l.prev[entity])
	l.prev[entity], l.seq[entity] = self, seq+1
	s.pending = append(s.pending, index.Pending{
		ID: r.ID, Entity: entity, Scope: scope, IdemKey: r.IdemKey, Correlation: r.Correlation,
		Kind: kind, Global: g, Sequence: seq,
		Segment: uint32(s.id), Offset: uint32(off), Size: uint32(int64(len(s.data)) - off),
	})
	return off
}

// marker appends a batch BEGIN or COMMIT for count events from first.
func (s *seg) marker(typ byte, count uint32, first uint64) int64 {
	off := int64(len(s.data))
	s.data = segment.AppendMarker(s.data, typ, segment.Marker{Count: count, FirstGlobal: first})
	return off
}

// synced sets the sync note to end (len(data) if end < 0).
func (s *seg) synced(end int64) *seg {
	if end < 0 {
		end = int64(len(s.data))
	}
	note := segment.EncodeSyncNote(end)
	copy(s.data[segment.SyncNoteOffset:], note[:])
	return s
}

// end is the offset past the last byte written.
func (s *seg) end() int64 { return int64(len(s.data)) }

const testDir = "/store"

// writeFile writes data as the file name of testDir in fs.
func writeFile(t testing.TB, fs *vfs.MemFS, name string, data []byte) {
	t.Helper()
	require.NoError(t, fs.MkdirAll(testDir))
	f, err := fs.Create(filepath.Join(testDir, name))
	require.NoError(t, err)
	_, err = f.WriteAt(data, 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

// open registers the built segments in a Segments over fs and publishes
// their events into a fresh index.
func open(t testing.TB, fs vfs.FS, dir string, segs ...*seg) (*Segments, *index.Index) {
	t.Helper()
	set, x := NewSegments(), index.New()
	t.Cleanup(func() { require.NoError(t, set.Close()) })
	require.NoError(t, fs.MkdirAll(dir))
	for _, s := range segs {
		name := filepath.Join(dir, segment.FileName(s.id))
		f, err := fs.Create(name)
		require.NoError(t, err)
		_, err = f.WriteAt(s.data, 0)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		if f, err = fs.Open(name); err != nil {
			t.Fatal(err)
		}
		set.Add(s.id, f)
		x.Publish(s.pending)
	}
	return set, x
}

// entries lists the whole index in global order.
func entries(x *index.Index) []index.Entry {
	var out []index.Entry
	for e := range x.Query(event.AllEvents(), 0) {
		out = append(out, e)
	}
	return out
}
