package segment

import (
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// buildSegment returns segment bytes holding n single events, then (if
// batch > 0) one batch of that many events, and the offsets of each record.
func buildSegment(n, batch int) (data []byte, offsets []int) {
	h := EncodeHeader(Header{ID: 1})
	data = append(data, h[:]...)
	g := uint64(0)
	for i := 0; i < n; i++ {
		g++
		offsets = append(offsets, len(data))
		data, _ = AppendEvent(data, sampleRecord(g), true, [32]byte{})
	}
	if batch > 0 {
		m := Marker{Count: uint32(batch), FirstGlobal: g + 1}
		offsets = append(offsets, len(data))
		data = AppendMarker(data, TypeBatchBegin, m)
		for i := 0; i < batch; i++ {
			g++
			offsets = append(offsets, len(data))
			data, _ = AppendEvent(data, sampleRecord(g), true, [32]byte{})
		}
		offsets = append(offsets, len(data))
		data = AppendMarker(data, TypeBatchCommit, m)
	}
	return data, offsets
}

func scanCount(t *testing.T, data []byte) (ScanResult, int, error) {
	t.Helper()
	n := 0
	res, err := Scan(data, 1, HeaderSize, 0, -1, func(int64, int, *EventView, bool) error { n++; return nil })
	return res, n, err
}

func TestScanCleanSegment(t *testing.T) {
	data, _ := buildSegment(5, 3)
	res, n, err := scanCount(t, data)
	if err != nil || res.Torn || n != 8 || res.End != int64(len(data)) || res.LastGlobal != 8 {
		t.Fatalf("res %+v n %d err %v", res, n, err)
	}
}

// TestScanTruncateEveryOffset cuts the segment at every byte and checks
// that the scan keeps exactly the whole records before the cut, never a
// part of the batch, and calls the rest a torn tail.
func TestScanTruncateEveryOffset(t *testing.T) {
	data, offsets := buildSegment(3, 4)
	batchBegin := offsets[3]
	for cut := HeaderSize; cut <= len(data); cut++ {
		res, n, err := scanCount(t, data[:cut])
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		want := 0
		for i := 0; i < 3; i++ {
			if offsets[i+1] <= cut {
				want++
			}
		}
		if cut == len(data) {
			want = 7
		}
		if n != want {
			t.Fatalf("cut %d: %d events, want %d", cut, n, want)
		}
		if cut > batchBegin && cut < len(data) && res.End != int64(batchBegin) {
			t.Fatalf("cut %d inside the batch kept part of it: %+v", cut, res)
		}
		if beginWhole := offsets[4]; cut >= beginWhole && cut < len(data) && !res.DiscardedBatch {
			t.Fatalf("cut %d after a whole BEGIN: batch not reported discarded: %+v", cut, res)
		}
		wholeRecord := cut == len(data) || cut == HeaderSize
		for _, o := range offsets[:4] {
			wholeRecord = wholeRecord || cut == o
		}
		if res.Torn == wholeRecord {
			t.Fatalf("cut %d: torn=%v, whole-record boundary=%v", cut, res.Torn, wholeRecord)
		}
	}
}

func TestScanZeroTailIsCleanEnd(t *testing.T) {
	data, _ := buildSegment(2, 0)
	padded := append(data, make([]byte, 4096)...)
	res, n, err := scanCount(t, padded)
	if err != nil || res.Torn || n != 2 || res.End != int64(len(data)) {
		t.Fatalf("res %+v n %d err %v", res, n, err)
	}
}

func TestScanCorruptionBeforeValidFrames(t *testing.T) {
	data, offsets := buildSegment(4, 0)
	data[offsets[1]+12] ^= 0x40 // inside the second frame's body
	_, _, err := scanCount(t, data)
	var ce *event.CorruptionError
	if !errors.As(err, &ce) || ce.Offset != int64(offsets[1]) || ce.Lost != int64(offsets[2]-offsets[1]) || !errors.Is(err, event.ErrCorrupt) {
		t.Fatalf("want corruption at %d losing %d bytes, got %v", offsets[1], offsets[2]-offsets[1], err)
	}
}

func TestScanGarbageTails(t *testing.T) {
	data, _ := buildSegment(2, 0)
	tails := map[string][]byte{
		"random":      {0x13, 0x99, 0x42, 0x07, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03},
		"huge length": {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1, 2, 3, 4},
	}
	for name, tail := range tails {
		t.Run(name, func(t *testing.T) {
			res, n, err := scanCount(t, append(append([]byte(nil), data...), tail...))
			if err != nil || !res.Torn || n != 2 || res.End != int64(len(data)) {
				t.Fatalf("res %+v n %d err %v", res, n, err)
			}
		})
	}
}

func TestScanRejectsStaleFrame(t *testing.T) {
	data, offsets := buildSegment(3, 0)
	// Copy frame 1 over frame 3 (same size): a stale frame whose global
	// sequence goes backwards, followed by nothing — a torn tail at worst,
	// never an event visited twice.
	stale := append([]byte(nil), data[offsets[0]:offsets[1]]...)
	copy(data[offsets[2]:], stale)
	res, n, err := scanCount(t, data)
	if err != nil || n != 2 || !res.Torn {
		t.Fatalf("res %+v n %d err %v", res, n, err)
	}
	// With a valid frame after it, the same stale frame is corruption.
	more, _ := AppendEvent(nil, sampleRecord(9), true, [32]byte{})
	if _, _, err := scanCount(t, append(data, more...)); !errors.Is(err, event.ErrCorrupt) {
		t.Fatalf("stale frame before a valid one: %v", err)
	}
}

// TestScanWithKnownSyncedExtent: when the sync note says how far the bytes
// were synced, damage before it is corruption — even in the final record,
// even when it reads as zeros — and damage past it is a torn tail, even
// with valid frames after it (a power loss kept a later page, lost an
// earlier one).
func TestScanWithKnownSyncedExtent(t *testing.T) {
	data, offsets := buildSegment(4, 0)
	scanSynced := func(b []byte, synced int64) (ScanResult, error) {
		return Scan(b, 1, HeaderSize, 0, synced, func(int64, int, *EventView, bool) error { return nil })
	}
	lastFrame := int64(offsets[3])

	flipped := append([]byte(nil), data...)
	flipped[len(flipped)-1] ^= 0x01
	if _, err := scanSynced(flipped, int64(len(data))); !errors.Is(err, event.ErrCorrupt) {
		t.Fatalf("damaged final record before the note: %v", err)
	}
	if res, err := scanSynced(flipped, lastFrame); err != nil || !res.Torn || res.End != lastFrame {
		t.Fatalf("damaged final record past the note: %+v %v", res, err)
	}

	zeroed := append([]byte(nil), data...)
	clear(zeroed[offsets[3]:])
	if _, err := scanSynced(zeroed, int64(len(data))); !errors.Is(err, event.ErrCorrupt) {
		t.Fatalf("synced bytes read back as zeros: %v", err)
	}

	hole := append([]byte(nil), data...)
	clear(hole[offsets[2]:offsets[3]]) // an earlier unsynced page lost, a later one kept
	if res, err := scanSynced(hole, int64(offsets[2])); err != nil || !res.Torn || res.End != int64(offsets[2]) {
		t.Fatalf("hole past the note: %+v %v", res, err)
	}
	if _, err := scanSynced(hole, -1); !errors.Is(err, event.ErrCorrupt) {
		t.Fatalf("hole with an unknown synced extent and a valid frame after it: %v", err)
	}
}
