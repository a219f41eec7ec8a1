package batpakrust

import (
	"testing"

	"github.com/batpak-go/batpak/internal/rustenc"
)

// The fuzz targets feed hostile bytes to every decoder of bytes read from
// a batpak-rust directory: none may panic, loop for long or allocate
// beyond what the bytes present can hold. The seeds (and the corpora
// under testdata/fuzz) run in every ordinary test run.

func seedStore() map[string][]byte {
	b := rustenc.New(42)
	b.Append("player:1", "room:1", 0xF001, []byte{0x81, 0xa1, 'x', 0x01})
	cause := [16]byte{1}
	b.Append("player:1", "room:1", 0xF001, []byte{0xc0}, func(e *rustenc.Event) { e.Causation = &cause })
	b.Batch(rustenc.Item{Entity: "player:2", Scope: "room:1", Kind: 0xF002, Payload: []byte{0x01}})
	return b.Files(true)
}

func FuzzReadFrame(f *testing.F) {
	seg := seedStore()["000001.fbat"]
	_, off, _ := DecodeSegmentHeader(seg)
	f.Add(seg[off:])
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		body, size, err := ReadFrame(b)
		if err == nil && (size > len(b) || len(body) != size-FrameHeaderSize) {
			t.Fatalf("size %d of %d, body %d", size, len(b), len(body))
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	seg := seedStore()["000001.fbat"]
	_, off, _ := DecodeSegmentHeader(seg)
	for off < len(seg) {
		body, size, err := ReadFrame(seg[off:])
		if err != nil {
			break
		}
		f.Add(body)
		off += size
	}
	f.Add([]byte{0x81, 0xa5, 'e', 'v', 'e', 'n', 't', 0xdc, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := DecodeEvent(body)
		if err == nil && len(e.Payload) > len(body) {
			t.Fatalf("payload of %d bytes from a body of %d", len(e.Payload), len(body))
		}
	})
}

func FuzzDecodeSegmentHeader(f *testing.F) {
	f.Add(rustenc.SegmentHeader(1, 1_796_462_456_204_394_288))
	f.Add([]byte("FBAT\x00\x00\x00\x01\x80"))
	f.Add([]byte("FBAT\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, off, err := DecodeSegmentHeader(b)
		if err == nil && (off < 8 || off > len(b)) {
			t.Fatalf("frames start at %d of %d", off, len(b))
		}
	})
}

func FuzzDecodeFooter(f *testing.F) {
	files := seedStore()
	f.Add(files["000001.fbat"])
	f.Add(rustenc.Footer(0, nil))
	f.Fuzz(func(t *testing.T, seg []byte) {
		footer, ok, err := DecodeFooter(seg, 0)
		if err == nil && ok && (footer.FramesEnd < 0 || footer.FramesEnd > int64(len(seg))) {
			t.Fatalf("frames end at %d of %d", footer.FramesEnd, len(seg))
		}
	})
}

func FuzzDecodeCheckpoint(f *testing.F) {
	f.Add(seedStore()["index.ckpt"])
	f.Add([]byte("FBATCK\x02\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = DecodeCheckpoint(b) })
}
