package segment

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

// FuzzEventRoundTrip: whatever the fields, ParseEventFields gives back
// what AppendEvent encoded, and refuses every cut of the body.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint64(0), int64(1_700_000_000_000_000), int64(0), uint32(0), uint16(0x1001), uint16(0), uint8(1), "", "player:1", "room:1", []byte{1, 2}, true, false, false, uint32(0))
	f.Add(uint64(1<<63), uint64(1<<40), int64(-5), int64(1<<40), uint32(1<<32-1), uint16(0), uint16(0xffff), uint8(3), "key", "e", "s", []byte(nil), false, true, true, uint32(3))
	f.Add(uint64(300), uint64(2), int64(0), int64(0), uint32(1), uint16(0x1002), uint16(0), uint8(1), "k", "e", "s", []byte{0x90}, true, false, true, uint32(1<<32-1))
	f.Fuzz(func(t *testing.T, global, seq uint64, ts, wallDelta int64, counter uint32, kind, flags uint16, codec uint8,
		key, entity, scope string, payload []byte, chain, corr, cause bool, version uint32) {
		if entity == "" || scope == "" || len(entity) > event.MaxCoordinatePart || len(scope) > event.MaxCoordinatePart || len(key) > MaxIdempotencyKey {
			return
		}
		r := &EventRecord{
			ID: event.ID{1, 2, 3, byte(global)}, Kind: event.EventKind(kind), Flags: flags, Global: global, Sequence: seq,
			Timestamp: ts, WallMS: uint64(ts/1000 + wallDelta), Counter: counter, Codec: event.Codec(codec & 3),
			PayloadVersion: version, IdemKey: key, Entity: entity, Scope: scope, Payload: payload,
		}
		if corr {
			r.Correlation = event.ID{9, byte(seq)}
		}
		if cause {
			r.Causation = event.ID{7, byte(ts)}
		}
		frame, self := AppendEvent(nil, r, chain, [32]byte{5})
		body, _, err := ReadFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		var v EventView
		if err := ParseEventFields(body, &v); err != nil {
			t.Fatalf("parse: %v", err)
		}
		wantCorr := r.ID
		if corr {
			wantCorr = r.Correlation
		}
		if v.ID != r.ID || v.Kind != r.Kind || v.Flags != r.Flags || v.Global != r.Global || v.Sequence != r.Sequence ||
			v.Timestamp != r.Timestamp || v.WallMS != r.WallMS || v.Counter != r.Counter || v.Codec != r.Codec ||
			v.PayloadVersion != version || v.Correlation != wantCorr || v.Causation != r.Causation || v.HasHash != chain || v.Hash != self ||
			string(v.IdemKey) != key || string(v.Entity) != entity || string(v.Scope) != scope || !bytes.Equal(v.Payload, payload) {
			t.Fatalf("round trip: encoded %+v, parsed %+v", r, v)
		}
		// Every cut short of the payload is refused (a cut inside the
		// payload only shortens it: the frame's length and CRC guard that).
		for n := range len(body) - len(payload) {
			if err := ParseEventFields(body[:n], &v); !errors.Is(err, ErrBadRecord) {
				t.Fatalf("cut at %d of %d: %v", n, len(body), err)
			}
		}
	})
}

// TestGoldenVersionedFrame pins where a payload version goes: mask bit 6,
// then a uvarint after the causation (absent here) and before the
// idempotency key. docs/FORMAT.md describes the same bytes.
func TestGoldenVersionedFrame(t *testing.T) {
	r := sampleRecord(1)
	r.PayloadVersion = 3
	r.IdemKey = "k"
	frame, _ := AppendEvent(nil, r, false, [32]byte{})
	body, _, err := ReadFrame(frame)
	require.NoError(t, err)
	const want = "01" + "58" + // event record, mask: version, codec msgpack, key
		"0110" + "0000" + // kind 0x1001, flags
		"01930000000070008000000000000001" + // id
		"01" + "00" + // global 1, sequence 0
		"00401e18240a0600" + "00" + "00" + // timestamp µs, wall delta, counter
		"03" + // payload version 3
		"01" + "6b" + // idempotency key "k"
		"08" + "706c617965723a31" + "06" + "726f6f6d3a31" + // entity, scope
		"82a17801a17902" // payload
	require.Equal(t, want, hex.EncodeToString(body))
	var v EventView
	require.NoError(t, ParseEvent(body, &v))
	require.Equal(t, uint32(3), v.PayloadVersion)
	require.Equal(t, "k", string(v.IdemKey))
}

// TestUnversionedEventKeepsItsSize: an event without a payload version is
// byte for byte what it was before versions existed.
func TestUnversionedEventKeepsItsSize(t *testing.T) {
	plain, _ := AppendEvent(nil, sampleRecord(1), true, [32]byte{})
	r := sampleRecord(1)
	r.PayloadVersion = 1
	versioned, _ := AppendEvent(nil, r, true, [32]byte{})
	require.Len(t, versioned, len(plain)+1, "a small version costs one byte")
	require.Zero(t, plain[FrameHeaderSize+1]&maskVersion)
}

// TestParseRefusesBadVersionFields: a version field holding 0 (which is
// never written: 0 means "absent") or above 2^32-1 is damage.
func TestParseRefusesBadVersionFields(t *testing.T) {
	r := sampleRecord(1)
	r.PayloadVersion = 2
	frame, _ := AppendEvent(nil, r, false, [32]byte{})
	body, _, err := ReadFrame(frame)
	require.NoError(t, err)
	var v EventView

	at := 2 + 2 + 2 + 16 + 1 + 1 + 8 + 1 + 1 // type, mask, kind, flags, id, global, sequence, timestamp, delta, counter
	require.Equal(t, byte(2), body[at])
	zero := bytes.Clone(body)
	zero[at] = 0
	require.ErrorIs(t, ParseEventFields(zero, &v), ErrBadRecord)

	huge := append(bytes.Clone(body[:at]), binary.AppendUvarint(nil, 1<<32)...)
	huge = append(huge, body[at+1:]...)
	require.ErrorIs(t, ParseEventFields(huge, &v), ErrBadRecord)
}
