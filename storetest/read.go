package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// The read-side tests: every read path returns what was appended.

func (s *suite) roundTrip(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("player:alice", "room:dungeon")
	want := Moved{From: "gate", To: "hall", N: 7}
	r := mustAppend(t, st, c, KindMoved, want)
	assert.NotZero(t, r.Global, "receipt %+v", r)
	assert.Equal(t, c, r.Coordinate)
	assert.Equal(t, KindMoved, r.Kind)
	assert.NotZero(t, r.Timestamp)
	ev, err := st.Get(bg, r.ID)
	require.NoError(t, err, "Get")
	sameEvent(t, "Get", ev, r)
	assert.Equal(t, want, decodeMoved(t, ev), "payload")
	raw := []byte{0, 1, 2, 0xff}
	r2 := mustAppend(t, st, c, KindSpoke, raw) // []byte is stored as is
	ev2, err := st.Latest(bg, "player:alice")
	require.NoError(t, err, "Latest")
	sameEvent(t, "Latest", ev2, r2)
	assert.Equal(t, batpak.Raw, ev2.Codec, "a []byte payload is raw")
	assert.Equal(t, raw, ev2.Payload)
	assert.Equal(t, r2.Timestamp, ev2.Timestamp, "Latest's header")
	assert.Equal(t, r2.Position, ev2.Position, "Latest's header")
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
		want := []uint64{}
		seqs := map[string]uint64{}
		for i, p := range plan {
			seq := seqs[p.entity]
			seqs[p.entity]++
			if match(p, seq) {
				want = append(want, rs[i].Global)
			}
		}
		require.Equal(t, want, globals(collect(t, st.Query(bg, r))), "%s: Query", name)
		if len(want) > 1 {
			require.Equal(t, want[1:], globals(collect(t, st.QueryAfter(bg, r, want[0]))), "%s: QueryAfter(%d)", name, want[0])
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
	require.Len(t, alice, 3, "Stream(alice)")
	sameEvent(t, "Stream", alice[2], rs[5])
	if alice[1].Hash.Self != ([32]byte{}) {
		assert.Equal(t, alice[1].Hash.Self, alice[2].Hash.Prev, "Stream links the chain: Prev is the predecessor's hash")
	}
	assert.Equal(t, receiptGlobals(rs[0], rs[1], rs[5]), globals(collect(t, st.ByScope(bg, "room:hall"))), "ByScope(room:hall)")
	assert.Equal(t, receiptGlobals(rs[1], rs[6]), globals(collect(t, st.ByFact(bg, KindSpoke))), "ByFact(spoke)")
	assert.Empty(t, collect(t, st.Stream(bg, "player:nobody")), "Stream of an unknown entity")
	ev, err := st.Get(bg, rs[7].ID)
	require.NoError(t, err, "Get of an event with an unusual coordinate")
	assert.Equal(t, "player:carol smith", ev.Coordinate.Entity())
	assert.Equal(t, "room:hall/2", ev.Coordinate.Scope())
	// Breaking out of a query early is allowed.
	for range st.Query(bg, event.AllEvents()) {
		break
	}
}

func (s *suite) notFound(t *testing.T) {
	st := s.open(t)
	_, err := st.Get(bg, event.NewID())
	assert.ErrorIs(t, err, batpak.ErrNotFound, "Get of an unknown id")
	_, err = st.Latest(bg, "player:nobody")
	assert.ErrorIs(t, err, batpak.ErrNotFound, "Latest of an unknown entity")
	mustAppend(t, st, event.MustCoordinate("player:somebody", "x"), KindMoved, Moved{})
	_, err = st.Get(bg, event.NewID())
	assert.ErrorIs(t, err, batpak.ErrNotFound, "Get of an unknown id in a non-empty store")
}

func (s *suite) invalidInput(t *testing.T) {
	st := s.open(t)
	_, err := st.Append(bg, batpak.Coordinate{}, KindMoved, Moved{})
	assert.ErrorIs(t, err, batpak.ErrInvalidCoordinate, "the zero coordinate")
	_, err = st.Append(bg, event.MustCoordinate("a", "b"), event.EventKind(0x0F00), Moved{})
	assert.ErrorIs(t, err, batpak.ErrInvalidKind, "a reserved kind")
}
