package segment

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
)

func sampleRecord(global uint64) *EventRecord {
	id := event.ID{0x01, 0x93, 0x00, 0x00, 0x00, 0x00, 0x70, 0x00, 0x80, 0, 0, 0, 0, 0, 0, byte(global)}
	return &EventRecord{
		ID: id, Kind: event.MustCustom(1, 1), Flags: 0, Global: global, Sequence: global - 1,
		Timestamp: 1_700_000_000_000_000, WallMS: 1_700_000_000_000, Counter: 0,
		Codec: event.CodecMsgPack, Entity: "player:1", Scope: "room:1",
		Payload: []byte{0x82, 0xa1, 'x', 0x01, 0xa1, 'y', 0x02},
	}
}

// TestGoldenFrame pins the byte layout of one event frame; docs/FORMAT.md
// describes the same bytes. A change here is a format change.
func TestGoldenFrame(t *testing.T) {
	frame, _ := AppendEvent(nil, sampleRecord(1), false, [32]byte{})
	const want = "39000000" + "3f725988" + // length 57, CRC-32C
		"01" + "10" + // event record, mask: codec msgpack, nothing optional
		"0110" + "0000" + // kind 0x1001, flags
		"01930000000070008000000000000001" + // id
		"01" + "00" + // global 1, sequence 0
		"00401e18240a0600" + "00" + "00" + // timestamp µs (1.7e15), wall delta, counter
		"08" + "706c617965723a31" + "06" + "726f6f6d3a31" + // entity, scope
		"82a17801a17902" // payload
	if got := hex.EncodeToString(frame); got != want {
		t.Fatalf("frame bytes changed:\n got %s\nwant %s", got, want)
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, chain := range []bool{false, true} {
		r := sampleRecord(7)
		r.Correlation = event.ID{9}
		r.Causation = event.ID{8}
		r.IdemKey = "key-1"
		r.Flags = 0xBEEF
		r.Counter = 5
		r.WallMS = uint64(r.Timestamp/1000) + 3
		prev := [32]byte{1, 2, 3}
		frame, self := AppendEvent(nil, r, chain, prev)
		body, size, err := ReadFrame(frame)
		if err != nil || size != len(frame) {
			t.Fatalf("ReadFrame: %v (size %d of %d)", err, size, len(frame))
		}
		var v EventView
		if err := ParseEvent(body, &v); err != nil {
			t.Fatal(err)
		}
		if v.ID != r.ID || v.Correlation != r.Correlation || v.Causation != r.Causation ||
			v.Global != 7 || v.Sequence != 6 || v.Timestamp != r.Timestamp || v.WallMS != r.WallMS ||
			v.Counter != 5 || v.Flags != 0xBEEF || string(v.IdemKey) != "key-1" ||
			string(v.Entity) != "player:1" || string(v.Scope) != "room:1" ||
			!bytes.Equal(v.Payload, r.Payload) || v.Codec != event.CodecMsgPack {
			t.Fatalf("round trip mismatch: %+v", v)
		}
		if v.HasHash != chain || (chain && v.Hash != self) {
			t.Fatalf("hash: has %v, stored %x, returned %x", v.HasHash, v.Hash, self)
		}
		if chain {
			if !VerifyHash(body, prev) {
				t.Fatal("VerifyHash rejects the true predecessor")
			}
			if VerifyHash(body, [32]byte{}) {
				t.Fatal("VerifyHash accepts a wrong predecessor")
			}
		}
	}
}

func TestCorrelationDefaultsToID(t *testing.T) {
	r := sampleRecord(1)
	frame, _ := AppendEvent(nil, r, false, [32]byte{})
	body, _, _ := ReadFrame(frame)
	var v EventView
	if err := ParseEvent(body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Correlation != r.ID || !v.Causation.IsZero() {
		t.Fatalf("correlation %v causation %v", v.Correlation, v.Causation)
	}
}

func TestReadFrameRejects(t *testing.T) {
	good, _ := AppendEvent(nil, sampleRecord(1), true, [32]byte{})
	flipped := bytes.Clone(good)
	flipped[20] ^= 1
	huge := bytes.Clone(good)
	copy(huge, []byte{0xFF, 0xFF, 0xFF, 0xFF})
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short header", good[:5], ErrTorn},
		{"cut body", good[:len(good)-1], ErrTorn},
		{"flipped bit", flipped, ErrBadRecord},
		{"zero length", make([]byte, 16), ErrBadRecord},
		{"length 0xFFFFFFFF", huge, ErrBadRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := ReadFrame(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestHeaderRoundTripAndDamage(t *testing.T) {
	h := Header{ID: 42, Created: 123456789}
	b := EncodeHeader(h)
	got, err := DecodeHeader(b[:])
	if err != nil || got != h {
		t.Fatalf("got %+v, %v", got, err)
	}
	b[17] ^= 1
	if _, err := DecodeHeader(b[:]); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("damaged header: %v", err)
	}
	if _, err := DecodeHeader(b[:10]); !errors.Is(err, ErrTorn) {
		t.Fatalf("short header: %v", err)
	}
}

func TestFileNames(t *testing.T) {
	name := FileName(0x2a)
	if name != "000000000000002a.seg" {
		t.Fatalf("name %q", name)
	}
	if id, ok := ParseFileName(name); !ok || id != 0x2a {
		t.Fatalf("parse %d %v", id, ok)
	}
	for _, bad := range []string{"2a.seg", "000000000000002a.log", "zzzzzzzzzzzzzzzz.seg"} {
		if _, ok := ParseFileName(bad); ok {
			t.Fatalf("%q parsed", bad)
		}
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	m := Marker{Count: 256, FirstGlobal: 1 << 40}
	frame := AppendMarker(nil, TypeBatchCommit, m)
	if len(frame) != MarkerSize(m) {
		t.Fatalf("size %d, MarkerSize %d", len(frame), MarkerSize(m))
	}
	body, _, err := ReadFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMarker(body)
	if err != nil || got != m {
		t.Fatalf("got %+v %v", got, err)
	}
}
