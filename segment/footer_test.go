package segment

import (
	"bytes"
	"errors"
	"testing"
)

// footerSegment builds a sealed segment of n events (the third and
// fourth in a batch, some with keys) with its footer, and returns its
// bytes and the entries the footer must list.
func footerSegment(t testing.TB, n int) ([]byte, []FooterEntry) {
	t.Helper()
	hdr := EncodeHeader(Header{ID: 7})
	data := append([]byte(nil), hdr[:]...)
	b := NewFooterBuilder()
	var want []FooterEntry
	add := func(g uint64) {
		r := sampleRecord(g)
		r.Entity = []string{"player:1", "player:2"}[g%2]
		if g%3 == 0 {
			r.IdemKey = "key"
		}
		off := len(data)
		data, _ = AppendEvent(data, r, g%2 == 0, [32]byte{})
		e := FooterEntry{Entity: r.Entity, Scope: r.Scope, IdemKey: r.IdemKey, Kind: r.Kind, Global: g,
			Sequence: r.Sequence, Offset: uint32(off), Size: uint32(len(data) - off)}
		b.Add(&e)
		want = append(want, e)
	}
	g := uint64(0)
	for i := 0; i < n; i++ {
		if i == 2 && n >= 4 {
			data = AppendMarker(data, TypeBatchBegin, Marker{Count: 2, FirstGlobal: g + 1})
			add(g + 1)
			add(g + 2)
			data = AppendMarker(data, TypeBatchCommit, Marker{Count: 2, FirstGlobal: g + 1})
			g, i = g+2, i+1
			continue
		}
		g += 1 + uint64(i%3) // gaps in the global sequence, as after compaction
		add(g)
	}
	return b.AppendFrame(data, int64(len(data))), want
}

func TestFooterRoundTripsAndScanAgrees(t *testing.T) {
	data, want := footerSegment(t, 9)
	f, err := DecodeFooter(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(f.Entries), len(want))
	}
	for i := range want {
		if f.Entries[i] != want[i] {
			t.Fatalf("entry %d: %+v, want %+v", i, f.Entries[i], want[i])
		}
		id, ok := FrameEventID(data[want[i].Offset:])
		if !ok || id != sampleRecord(want[i].Global).ID {
			t.Fatalf("entry %d: id %v", i, id)
		}
	}
	res, err := Scan(data, 7, HeaderSize, 0, int64(len(data)), func(int64, int, *EventView, bool) error { return nil })
	if err != nil || res.Torn || res.FooterAt != f.At || res.End != f.At || res.Events != len(want) {
		t.Fatalf("scan of a segment with a footer: %+v %v", res, err)
	}
}

func TestFooterDamageIsRefused(t *testing.T) {
	data, _ := footerSegment(t, 6)
	if _, err := DecodeFooter(data[:len(data)-1]); !errors.Is(err, ErrNoFooter) {
		t.Fatalf("cut trailer: %v", err)
	}
	f, _ := DecodeFooter(data)
	for i := int(f.At); i < len(data)-FooterTrailerSize; i++ {
		d := bytes.Clone(data)
		d[i] ^= 0x10
		if _, err := DecodeFooter(d); err == nil {
			t.Fatalf("flip at byte %d of the footer went unnoticed", i)
		}
	}
	// A footer that does not end the segment is not a footer.
	if _, err := DecodeFooter(append(bytes.Clone(data), 0)); !errors.Is(err, ErrNoFooter) {
		t.Fatalf("footer followed by a byte: %v", err)
	}
	// A valid record after the footer is damage to the scan.
	more := AppendMarker(bytes.Clone(data), TypeBatchBegin, Marker{Count: 1, FirstGlobal: 99})
	if _, err := Scan(more, 7, HeaderSize, 0, int64(len(more)), func(int64, int, *EventView, bool) error { return nil }); err == nil {
		t.Fatal("a record after the footer was accepted")
	}
}

func FuzzDecodeFooter(f *testing.F) {
	data, _ := footerSegment(f, 8)
	f.Add(data)
	f.Add(data[:len(data)/2])
	empty := EncodeHeader(Header{ID: 1})
	f.Add(NewFooterBuilder().AppendFrame(empty[:], HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		ft, err := DecodeFooter(b)
		if err != nil {
			return
		}
		prev := int64(HeaderSize)
		for _, e := range ft.Entries {
			if int64(e.Offset) < prev || int64(e.Offset)+int64(e.Size) > ft.At {
				t.Fatalf("entry %+v outside the records (prev end %d, footer at %d)", e, prev, ft.At)
			}
			prev = int64(e.Offset) + int64(e.Size)
		}
	})
}
