package storetest

import (
	"errors"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// The read-side tests: every read path returns what was appended.

func (s *suite) roundTrip(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("player:alice", "room:dungeon")
	want := Moved{From: "gate", To: "hall", N: 7}
	r := mustAppend(t, st, c, KindMoved, want)
	if r.Global == 0 || r.Coordinate != c || r.Kind != KindMoved || r.Timestamp == 0 {
		t.Fatalf("receipt %+v", r)
	}
	ev, err := st.Get(bg, r.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameEvent(t, "Get", ev, r)
	if got := decodeMoved(t, ev); got != want {
		t.Fatalf("payload %+v, want %+v", got, want)
	}
	raw := []byte{0, 1, 2, 0xff}
	r2 := mustAppend(t, st, c, KindSpoke, raw) // []byte is stored as is
	ev2, err := st.Latest(bg, "player:alice")
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	sameEvent(t, "Latest", ev2, r2)
	if ev2.Codec != batpak.Raw || string(ev2.Payload) != string(raw) {
		t.Fatalf("raw payload came back as %v %x", ev2.Codec, ev2.Payload)
	}
	if ev2.Timestamp != r2.Timestamp || ev2.Position != r2.Position {
		t.Fatalf("Latest header %+v, receipt %+v", ev2.Header, r2)
	}
}

// readPaths appends a small world and checks each read path against it.
func (s *suite) readPaths(t *testing.T) {
	st := s.open(t)
	type app struct {
		entity, scope string
		kind          batpak.EventKind
	}
	plan := []app{
		{"player:alice", "room:hall", KindMoved},
		{"player:bob", "room:hall", KindSpoke},
		{"npc:rat", "room:crypt", KindMoved},
		{"player:alice", "room:crypt", KindOther},
		{"player:bob", "room:crypt", KindMoved},
		{"player:alice", "room:hall", KindMoved},
		{"npc:rat.king", "room:crypt", KindSpoke}, // a '.' in the entity
		{"player:carol smith", "room:hall/2", KindMoved},
	}
	var rs []batpak.Receipt
	for i, p := range plan {
		rs = append(rs, mustAppend(t, st, event.MustCoordinate(p.entity, p.scope), p.kind, Moved{N: i}))
	}
	// expect runs a region through Query (and QueryAfter) and compares with
	// the plan filtered by match.
	expect := func(name string, r batpak.Region, match func(app, uint64) bool) {
		t.Helper()
		var want []uint64
		seqs := map[string]uint64{}
		for i, p := range plan {
			seq := seqs[p.entity]
			seqs[p.entity]++
			if match(p, seq) {
				want = append(want, rs[i].Global)
			}
		}
		if got := globals(collect(t, st.Query(bg, r))); !equalU64(got, want) {
			t.Fatalf("%s: Query yields %v, want %v", name, got, want)
		}
		if len(want) > 1 {
			if got := globals(collect(t, st.QueryAfter(bg, r, want[0]))); !equalU64(got, want[1:]) {
				t.Fatalf("%s: QueryAfter(%d) yields %v, want %v", name, want[0], got, want[1:])
			}
		}
	}
	expect("all", event.AllEvents(), func(app, uint64) bool { return true })
	expect("entity", event.ForEntity("player:alice"), func(p app, _ uint64) bool { return p.entity == "player:alice" })
	expect("dotted entity", event.ForEntity("npc:rat.king"), func(p app, _ uint64) bool { return p.entity == "npc:rat.king" })
	expect("spaced entity", event.ForEntity("player:carol smith"), func(p app, _ uint64) bool { return p.entity == "player:carol smith" })
	expect("prefix", event.ForEntity("player:*"), func(p app, _ uint64) bool { return len(p.entity) > 7 && p.entity[:7] == "player:" })
	expect("scope", event.ForScope("room:crypt"), func(p app, _ uint64) bool { return p.scope == "room:crypt" })
	expect("kind", event.AllEvents().WithKind(KindMoved), func(p app, _ uint64) bool { return p.kind == KindMoved })
	expect("kind set", event.AllEvents().WithKinds(event.KindSet(KindSpoke, KindOther)), func(p app, _ uint64) bool { return p.kind != KindMoved })
	expect("category", event.AllEvents().WithKinds(event.KindCategory(0x2)), func(p app, _ uint64) bool { return p.kind == KindOther })
	expect("scope and kind", event.ForScope("room:hall").WithKind(KindMoved), func(p app, _ uint64) bool { return p.scope == "room:hall" && p.kind == KindMoved })
	expect("entity and sequence", event.ForEntity("player:alice").WithSequence(1, 2), func(p app, seq uint64) bool {
		return p.entity == "player:alice" && seq >= 1 && seq <= 2
	})

	alice := collect(t, st.Stream(bg, "player:alice"))
	if len(alice) != 3 {
		t.Fatalf("Stream(alice): %d events", len(alice))
	}
	sameEvent(t, "Stream", alice[2], rs[5])
	if alice[1].Hash.Self != ([32]byte{}) && alice[2].Hash.Prev != alice[1].Hash.Self {
		t.Fatalf("Stream does not link the chain: prev %x, predecessor %x", alice[2].Hash.Prev, alice[1].Hash.Self)
	}
	if got := globals(collect(t, st.ByScope(bg, "room:hall"))); !equalU64(got, receiptGlobals(rs[0], rs[1], rs[5])) {
		t.Fatalf("ByScope(room:hall) yields %v", got)
	}
	if got := globals(collect(t, st.ByFact(bg, KindSpoke))); !equalU64(got, receiptGlobals(rs[1], rs[6])) {
		t.Fatalf("ByFact(spoke) yields %v", got)
	}
	if evs := collect(t, st.Stream(bg, "player:nobody")); len(evs) != 0 {
		t.Fatalf("Stream of an unknown entity yields %d events", len(evs))
	}
	ev, err := st.Get(bg, rs[7].ID)
	if err != nil || ev.Coordinate.Entity() != "player:carol smith" || ev.Coordinate.Scope() != "room:hall/2" {
		t.Fatalf("Get of an event with unusual coordinate: %v %v", err, ev)
	}
	// Breaking out of a query early is allowed.
	for range st.Query(bg, event.AllEvents()) {
		break
	}
}

func (s *suite) notFound(t *testing.T) {
	st := s.open(t)
	if _, err := st.Get(bg, event.NewID()); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Get of an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := st.Latest(bg, "player:nobody"); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Latest of an unknown entity: %v, want ErrNotFound", err)
	}
	mustAppend(t, st, event.MustCoordinate("player:somebody", "x"), KindMoved, Moved{})
	if _, err := st.Get(bg, event.NewID()); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Get of an unknown id in a non-empty store: %v, want ErrNotFound", err)
	}
}

func (s *suite) invalidInput(t *testing.T) {
	st := s.open(t)
	if _, err := st.Append(bg, batpak.Coordinate{}, KindMoved, Moved{}); !errors.Is(err, batpak.ErrInvalidCoordinate) {
		t.Fatalf("zero coordinate: %v, want ErrInvalidCoordinate", err)
	}
	if _, err := st.Append(bg, event.MustCoordinate("a", "b"), event.EventKind(0x0F00), Moved{}); !errors.Is(err, batpak.ErrInvalidKind) {
		t.Fatalf("reserved kind: %v, want ErrInvalidKind", err)
	}
}
