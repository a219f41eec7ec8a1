package segment

import (
	"testing"

	"github.com/batpak-go/batpak/event"
)

// The fuzz targets feed hostile bytes to every decoder of bytes read from
// disk: none may panic or allocate beyond the bounds checked first. The
// seeds (and corpora under testdata/fuzz) run in every ordinary test run.

func FuzzReadFrame(f *testing.F) {
	frame, _ := AppendEvent(nil, sampleRecord(1), true, [32]byte{})
	f.Add(frame)
	f.Add(AppendMarker(nil, TypeBatchBegin, Marker{Count: 2, FirstGlobal: 1}))
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		body, size, err := ReadFrame(b)
		if err == nil && (size > len(b) || len(body) != size-FrameHeaderSize) {
			t.Fatalf("size %d of %d, body %d", size, len(b), len(body))
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	r := sampleRecord(3)
	r.IdemKey, r.Causation = "k", r.ID
	frame, _ := AppendEvent(nil, r, true, [32]byte{})
	f.Add(frame[FrameHeaderSize:])
	f.Add([]byte{TypeEvent, 0x0F})
	f.Fuzz(func(t *testing.T, body []byte) {
		var v EventView
		if ParseEvent(body, &v) == nil {
			var e storedSink
			v.ToStored(&e.ev)
			if e.ev.Coordinate.Valid() != nil {
				t.Fatal("parsed an invalid coordinate")
			}
		}
	})
}

func FuzzParseMarker(f *testing.F) {
	f.Add(AppendMarker(nil, TypeBatchCommit, Marker{Count: 3, FirstGlobal: 9})[FrameHeaderSize:])
	f.Fuzz(func(t *testing.T, body []byte) { _, _ = ParseMarker(body) })
}

func FuzzDecodeHeader(f *testing.F) {
	h := EncodeHeader(Header{ID: 1, Created: 2})
	f.Add(h[:])
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = DecodeHeader(b) })
}

func FuzzScan(f *testing.F) {
	data, _ := buildSegment(2, 2)
	f.Add(data[HeaderSize:])
	f.Fuzz(func(t *testing.T, b []byte) {
		seg := EncodeHeader(Header{ID: 1})
		all := append(seg[:], b...)
		res, _ := Scan(all, 1, HeaderSize, 0, -1, func(off int64, size int, v *EventView, _ bool) error {
			if off < HeaderSize || int(off)+size > len(all) {
				t.Fatalf("visited frame [%d,+%d) outside %d bytes", off, size, len(all))
			}
			return nil
		})
		if res.End < HeaderSize || res.End > int64(len(all)) {
			t.Fatalf("end %d outside [%d,%d]", res.End, HeaderSize, len(all))
		}
	})
}

type storedSink struct{ ev event.StoredEvent }

func FuzzDecodeSyncNote(f *testing.F) {
	h := EncodeHeader(Header{ID: 1})
	f.Add(h[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if end, ok := DecodeSyncNote(b); ok {
			note := EncodeSyncNote(end)
			if string(note[:12]) != string(b[SyncNoteOffset:SyncNoteOffset+12]) {
				t.Fatal("accepted a note that does not re-encode")
			}
		}
	})
}
