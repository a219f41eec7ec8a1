package event

import (
	"errors"
	"strings"
	"testing"
)

func TestNewCoordinateRules(t *testing.T) {
	tests := []struct {
		entity, scope string
		field, reason string
	}{
		{"", "s", "entity", "empty"},
		{"e", "", "scope", "empty"},
		{"a\x00b", "s", "entity", "contains NUL"},
		{"e", "\xff", "scope", "not valid UTF-8"},
		{strings.Repeat("x", MaxCoordinatePart+1), "s", "entity", "longer than 1024 bytes"},
	}
	for _, tc := range tests {
		_, err := NewCoordinate(tc.entity, tc.scope)
		var ce *CoordinateError
		if !errors.As(err, &ce) || ce.Field != tc.field || ce.Reason != tc.reason || !errors.Is(err, ErrInvalidCoordinate) {
			t.Errorf("NewCoordinate(%q, %q) = %v, want %s %s", tc.entity, tc.scope, err, tc.field, tc.reason)
		}
	}
	c, err := NewCoordinate(strings.Repeat("é", 512), "room:1")
	if err != nil || c.String() != strings.Repeat("é", 512)+"@room:1" {
		t.Fatalf("a 1024-byte entity must be valid: %v", err)
	}
}

func TestCustomKindRefusesReservedCategories(t *testing.T) {
	for _, cat := range []uint8{CategorySystem, CategoryEffect, 0x10} {
		if _, err := Custom(cat, 1); !errors.Is(err, ErrReservedKind) {
			t.Errorf("category %#x: %v", cat, err)
		}
	}
	if _, err := Custom(1, 0x1000); !errors.Is(err, ErrReservedKind) {
		t.Error("13-bit type accepted")
	}
	k := MustCustom(0xA, 0x123)
	if k.Category() != 0xA || k.Type() != 0x123 || k.IsSystem() || k.IsEffect() {
		t.Fatalf("kind %v", k)
	}
	if !KindHeartbeat.IsSystem() || !KindConflict.IsEffect() {
		t.Fatal("library kinds in the wrong category")
	}
}

func TestGeneratorIsStrictlyIncreasingThroughClockSteps(t *testing.T) {
	g := NewGenerator(ID{})
	clock := []int64{1000, 1000, 999, 500, 1001, 1001}
	var prev ID
	for i := 0; i < 10000; i++ {
		id := g.Next(clock[i%len(clock)])
		if id.Compare(prev) <= 0 {
			t.Fatalf("id %d not above its predecessor", i)
		}
		if id[6]>>4 != 7 || id[8]>>6 != 2 {
			t.Fatalf("not a UUIDv7: %v", id)
		}
		prev = id
	}
	// A generator seeded with the newest id of a reopened store stays above it.
	g2 := NewGenerator(prev)
	if id := g2.Next(0); id.Compare(prev) <= 0 {
		t.Fatal("reseeded generator went backwards")
	}
}

func TestIDTextRoundTrip(t *testing.T) {
	id := NewID()
	back, err := ParseID(id.String())
	if err != nil || back != id {
		t.Fatalf("%v %v", back, err)
	}
	var u ID
	if err := u.UnmarshalText([]byte(id.String())); err != nil || u != id {
		t.Fatal(err)
	}
}

func TestHLCNeverGoesBack(t *testing.T) {
	var h HLC
	h.Observe(Position{WallMS: 100, Counter: 3})
	w, c := h.Tick(50)
	if w != 100 || c != 4 {
		t.Fatalf("tick behind the clock: %d.%d", w, c)
	}
	if w, c = h.Tick(200); w != 200 || c != 0 {
		t.Fatalf("tick ahead: %d.%d", w, c)
	}
}

func TestRegionMatches(t *testing.T) {
	alice := MustCoordinate("player:alice", "room:1")
	k := MustCustom(1, 1)
	tests := []struct {
		name string
		r    Region
		want bool
	}{
		{"all", AllEvents(), true},
		{"exact entity", ForEntity("player:alice"), true},
		{"other entity", ForEntity("player:bob"), false},
		{"prefix via star", ForEntity("player:*"), true},
		{"prefix miss", AllEvents().WithEntityPrefix("npc:"), false},
		{"scope", ForScope("room:1"), true},
		{"scope miss", ForScope("room:2"), false},
		{"kind", AllEvents().WithKind(k), true},
		{"kind miss", AllEvents().WithKind(MustCustom(1, 2)), false},
		{"category", AllEvents().WithKinds(KindCategory(1)), true},
		{"set", AllEvents().WithKinds(KindSet(MustCustom(2, 2), k)), true},
		{"sequence in range", AllEvents().WithSequence(3, 5), true},
		{"sequence below", AllEvents().WithSequence(5, 0), false},
	}
	for _, tc := range tests {
		if got := tc.r.Matches(alice, k, 4); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}

func TestEncodeDecodePayload(t *testing.T) {
	type P struct{ X, Y int }
	for _, c := range []Codec{CodecMsgPack, CodecJSON} {
		b, used, err := Encode(c, P{1, 2})
		if err != nil || used != c {
			t.Fatal(err)
		}
		e := StoredEvent{Codec: used, Payload: b}
		var p P
		if err := e.Decode(&p); err != nil || p != (P{1, 2}) {
			t.Fatalf("%v: %+v %v", c, p, err)
		}
	}
	raw, used, _ := Encode(CodecMsgPack, []byte("as is"))
	if used != CodecRaw || string(raw) != "as is" {
		t.Fatal("[]byte must pass through untouched")
	}
	e := StoredEvent{Codec: CodecRaw, Payload: raw}
	var s string
	if err := e.Decode(&s); !errors.Is(err, ErrRawPayload) {
		t.Fatalf("raw into string: %v", err)
	}
}
