package typedid_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/typedid"
)

type player struct{}

func (player) Prefix() string { return "player" }

type room struct{}

func (room) Prefix() string { return "room" }

type bare struct{}

func (bare) Prefix() string { return "" }

func TestNewIDsAreTypedOrderedVersion7(t *testing.T) {
	a, b := typedid.New[player](), typedid.New[player]()
	if a.IsZero() || a == b || a.Compare(b) >= 0 {
		t.Fatalf("ids %v, %v are not fresh and increasing", a, b)
	}
	if !strings.HasPrefix(a.String(), "player:") || len(a.String()) != len("player:")+36 {
		t.Fatalf("String() = %q", a.String())
	}
	if _, err := typedid.FromUUID[player](a.UUID()); err != nil {
		t.Fatalf("a new id is not a valid UUIDv7: %v", err)
	}
	if a.Time().IsZero() || a.Time().Year() < 2024 {
		t.Fatalf("Time() = %v", a.Time())
	}
}

func TestParseRoundTripsAndChecksThePrefix(t *testing.T) {
	id := typedid.New[player]()
	back, err := typedid.Parse[player](id.String())
	if err != nil || back != id {
		t.Fatalf("Parse(%q) = %v, %v", id, back, err)
	}
	if _, err := typedid.Parse[room](id.String()); !errors.Is(err, typedid.ErrInvalid) {
		t.Errorf("a player id parsed as a room id: %v", err)
	}
	for _, s := range []string{"", "player:", "player:nope", id.UUID().String(), "player:" + event.ID{}.String(),
		"player:6ba7b810-9dad-11d1-80b4-00c04fd430c8"} { // the last is a version-1 UUID
		if _, err := typedid.Parse[player](s); !errors.Is(err, typedid.ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", s, err)
		}
	}
	plain := typedid.New[bare]()
	if plain.String() != plain.UUID().String() || typedid.MustParse[bare](plain.String()) != plain {
		t.Errorf("an empty prefix should give bare UUIDs: %q", plain)
	}
}

func TestFromUUIDAcceptsOnlyVersion7(t *testing.T) {
	v4 := event.ID{0: 1, 6: 0x40, 8: 0x80}
	if _, err := typedid.FromUUID[player](v4); !errors.Is(err, typedid.ErrInvalid) {
		t.Errorf("version 4: %v", err)
	}
	badVariant := event.NewID()
	badVariant[8] &^= 0x80
	if _, err := typedid.FromUUID[player](badVariant); !errors.Is(err, typedid.ErrInvalid) {
		t.Errorf("wrong variant: %v", err)
	}
}

func TestIDsRoundTripThroughTheStoreCodecs(t *testing.T) {
	type joined struct {
		Player typedid.ID[player]
		Room   typedid.ID[room]
		Guest  typedid.ID[player] // zero: optional
	}
	in := joined{Player: typedid.New[player](), Room: typedid.New[room]()}
	for _, c := range []event.Codec{event.CodecMsgPack, event.CodecJSON} {
		b, codec, err := event.Encode(c, in)
		if err != nil {
			t.Fatal(err)
		}
		var out joined
		if err := event.DecodePayload(codec, b, &out); err != nil || out != in {
			t.Fatalf("%v: %+v, %v; want %+v", c, out, err, in)
		}
	}
	b, _ := json.Marshal(in)
	if !strings.Contains(string(b), `"Player":"player:`) || !strings.Contains(string(b), `"Guest":""`) {
		t.Errorf("JSON form %s", b)
	}
	var bad joined
	if err := json.Unmarshal([]byte(`{"Player":"room:`+in.Room.UUID().String()+`"}`), &bad); !errors.Is(err, typedid.ErrInvalid) {
		t.Errorf("a room id decoded into a player field: %v", err)
	}
}

func TestAnIDAddressesItsOwnStream(t *testing.T) {
	id := typedid.New[player]()
	c, err := id.Coordinate("room:crypt")
	if err != nil || c.Entity() != id.String() || c.Scope() != "room:crypt" {
		t.Fatalf("Coordinate = %v, %v", c, err)
	}
}

func TestMustParsePanicsOnGarbage(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	typedid.MustParse[player]("garbage")
}
