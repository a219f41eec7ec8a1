package segment

import (
	"bytes"
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// FuzzEventRoundTrip: whatever the fields, ParseEventFields gives back
// what AppendEvent encoded, and refuses every cut of the body.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint64(0), int64(1_700_000_000_000_000), int64(0), uint32(0), uint16(0x1001), uint16(0), uint8(1), "", "player:1", "room:1", []byte{1, 2}, true, false, false)
	f.Add(uint64(1<<63), uint64(1<<40), int64(-5), int64(1<<40), uint32(1<<32-1), uint16(0), uint16(0xffff), uint8(3), "key", "e", "s", []byte(nil), false, true, true)
	f.Fuzz(func(t *testing.T, global, seq uint64, ts, wallDelta int64, counter uint32, kind, flags uint16, codec uint8,
		key, entity, scope string, payload []byte, chain, corr, cause bool) {
		if entity == "" || scope == "" || len(entity) > event.MaxCoordinatePart || len(scope) > event.MaxCoordinatePart || len(key) > MaxIdempotencyKey {
			return
		}
		r := &EventRecord{
			ID: event.ID{1, 2, 3, byte(global)}, Kind: event.EventKind(kind), Flags: flags, Global: global, Sequence: seq,
			Timestamp: ts, WallMS: uint64(ts/1000 + wallDelta), Counter: counter, Codec: event.Codec(codec & 3),
			IdemKey: key, Entity: entity, Scope: scope, Payload: payload,
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
			v.Correlation != wantCorr || v.Causation != r.Causation || v.HasHash != chain || v.Hash != self ||
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
