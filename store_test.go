package batpak_test

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// Behaviour of the facade: the round trip, validation, options, the
// lock, Close, expected sequences, idempotency, tickets, durability modes,
// hash chains, rotation and Stats.

func TestRoundTripThroughEveryReadPath(t *testing.T) {
	s := openStore(t, t.TempDir())
	alice := coord(t, "player:alice", "room:dungeon")
	bob := coord(t, "player:bob", "room:dungeon")
	aliceHall := coord(t, "player:alice", "room:hall")

	r1 := mustAppend(t, s, alice, kindMoved, payload{Producer: 1, N: 1, Note: "gate"})
	r2 := mustAppend(t, s, bob, kindSpoke, payload{Producer: 2, N: 2, Note: "hello"})
	r3 := mustAppend(t, s, aliceHall, kindMoved, payload{Producer: 1, N: 3, Note: "hall"})
	r4 := mustAppend(t, s, bob, kindMoved, payload{Producer: 2, N: 4})

	if r1.Sequence != 0 || r3.Sequence != 1 || r2.Sequence != 0 || r4.Sequence != 1 {
		t.Fatalf("per-entity sequences %d %d %d %d, want 0 0 1 1", r1.Sequence, r2.Sequence, r3.Sequence, r4.Sequence)
	}
	if r1.Global != 1 || r2.Global != 2 || r3.Global != 3 || r4.Global != 4 {
		t.Fatalf("globals %d %d %d %d, want 1..4", r1.Global, r2.Global, r3.Global, r4.Global)
	}

	ev, err := s.Get(bg, r3.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !receiptMatches(r3, ev) {
		t.Fatalf("Get returned %+v for receipt %+v", ev.Header, r3)
	}
	var p payload
	if err := ev.Decode(&p); err != nil || p != (payload{Producer: 1, N: 3, Note: "hall"}) {
		t.Fatalf("Decode: %+v, %v", p, err)
	}
	if p2, err := batpak.Decode[payload](ev); err != nil || p2 != p {
		t.Fatalf("batpak.Decode: %+v, %v", p2, err)
	}

	check := func(name string, evs []*batpak.StoredEvent, want ...batpak.Receipt) {
		t.Helper()
		if len(evs) != len(want) {
			t.Fatalf("%s: %d events, want %d", name, len(evs), len(want))
		}
		for i := range want {
			if !receiptMatches(want[i], evs[i]) {
				t.Fatalf("%s: event %d is global %d, want global %d", name, i, evs[i].Global, want[i].Global)
			}
		}
	}
	check("Stream(alice)", collect(t, s.Stream(bg, "player:alice")), r1, r3)
	check("Query(all)", all(t, s), r1, r2, r3, r4)
	check("ByScope(dungeon)", collect(t, s.ByScope(bg, "room:dungeon")), r1, r2, r4)
	check("ByFact(moved)", collect(t, s.ByFact(bg, kindMoved)), r1, r3, r4)
	check("Query(player:* in dungeon, moved)",
		collect(t, s.Query(bg, event.ForEntity("player:*").WithScope("room:dungeon").WithKind(kindMoved))), r1, r4)
	check("QueryAfter(2)", collect(t, s.QueryAfter(bg, event.AllEvents(), 2)), r3, r4)
	check("Query(bob from sequence 1)", collect(t, s.Query(bg, event.ForEntity("player:bob").WithSequence(1, 0))), r4)
	check("ByScope(unknown)", collect(t, s.ByScope(bg, "room:nowhere")))

	latest, err := s.Latest(bg, "player:alice")
	if err != nil || !receiptMatches(r3, latest) {
		t.Fatalf("Latest(alice) = %v, %v; want global %d", latest, err, r3.Global)
	}
	if _, err := s.Latest(bg, "player:nobody"); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Latest of an unknown entity: %v, want ErrNotFound", err)
	}
}

func TestPayloadCodecsRoundTrip(t *testing.T) {
	for _, codec := range []batpak.Codec{batpak.MsgPack, batpak.JSON} {
		t.Run(codec.String(), func(t *testing.T) {
			s := openStore(t, t.TempDir(), batpak.WithCodec(codec))
			c := coord(t, "e", "s")
			want := payload{Producer: 7, N: 42, Note: "ünïcode"}
			rs := mustAppend(t, s, c, kindMoved, want)
			rb := mustAppend(t, s, c, kindMoved, []byte{0, 1, 2, 0xff})

			ev, err := s.Get(bg, rs.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Codec != codec {
				t.Fatalf("struct payload stored with codec %v, want %v", ev.Codec, codec)
			}
			if got, err := batpak.Decode[payload](ev); err != nil || got != want {
				t.Fatalf("Decode = %+v, %v; want %+v", got, err, want)
			}

			ev, err = s.Get(bg, rb.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Codec != batpak.Raw || string(ev.Payload) != "\x00\x01\x02\xff" {
				t.Fatalf("[]byte payload came back as %v %x", ev.Codec, ev.Payload)
			}
			var raw []byte
			if err := ev.Decode(&raw); err != nil || string(raw) != "\x00\x01\x02\xff" {
				t.Fatalf("Decode(*[]byte) = %x, %v", raw, err)
			}
			if _, err := batpak.Decode[payload](ev); !errors.Is(err, event.ErrRawPayload) {
				t.Fatalf("decoding a raw payload into a struct: %v, want ErrRawPayload", err)
			}
		})
	}
}

func TestGetUnknownIDReturnsErrNotFound(t *testing.T) {
	s := openStore(t, t.TempDir())
	if _, err := s.Get(bg, event.NewID()); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Get on an empty store: %v, want ErrNotFound", err)
	}
	mustAppend(t, s, coord(t, "e", "s"), kindMoved, payload{})
	if _, err := s.Get(bg, event.NewID()); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Get of an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(bg, batpak.ID{}); !errors.Is(err, batpak.ErrNotFound) {
		t.Fatalf("Get of the zero id: %v, want ErrNotFound", err)
	}
}

func TestInvalidCoordinateIsRejectedNamingTheField(t *testing.T) {
	long := strings.Repeat("x", event.MaxCoordinatePart+1)
	for _, tc := range []struct {
		name, entity, scope, field string
	}{
		{"EmptyEntity", "", "s", "entity"},
		{"EmptyScope", "e", "", "scope"},
		{"NULInEntity", "a\x00b", "s", "entity"},
		{"NULInScope", "e", "\x00", "scope"},
		{"InvalidUTF8Entity", "\xff\xfe", "s", "entity"},
		{"InvalidUTF8Scope", "e", "ok\xc3", "scope"},
		{"LongEntity", long, "s", "entity"},
		{"LongScope", "e", long, "scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := batpak.NewCoordinate(tc.entity, tc.scope)
			var ce *batpak.CoordinateError
			if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, batpak.ErrInvalidCoordinate) {
				t.Fatalf("NewCoordinate(%q, %q) = %v, want a *CoordinateError on %s", tc.entity, tc.scope, err, tc.field)
			}
		})
	}
	t.Run("LongestAllowed", func(t *testing.T) {
		if _, err := batpak.NewCoordinate(long[1:], long[1:]); err != nil {
			t.Fatalf("%d-byte parts rejected: %v", len(long)-1, err)
		}
	})
	t.Run("ZeroCoordinateAppend", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		_, err := s.Append(bg, batpak.Coordinate{}, kindMoved, payload{})
		var ce *batpak.CoordinateError
		if !errors.As(err, &ce) || ce.Field != "entity" {
			t.Fatalf("Append with the zero coordinate: %v, want a *CoordinateError on entity", err)
		}
		if _, err := s.Submit(bg, batpak.Coordinate{}, kindMoved, payload{}, batpak.AppendOptions{}); !errors.As(err, &ce) {
			t.Fatalf("Submit with the zero coordinate: %v, want a *CoordinateError", err)
		}
		if n := s.Stats().Events; n != 0 {
			t.Fatalf("%d events written by rejected appends", n)
		}
	})
}

func TestReservedKindIsRejected(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := coord(t, "e", "s")
	for _, k := range []batpak.EventKind{0x0000, 0x0fff, 0x0042, 0xd000, 0xd0ff, 0xdfff} {
		if _, err := s.Append(bg, c, k, payload{}); !errors.Is(err, batpak.ErrInvalidKind) {
			t.Errorf("Append of kind %v: %v, want ErrInvalidKind", k, err)
		}
	}
	if n := s.Stats().Events; n != 0 {
		t.Fatalf("%d events written by rejected appends", n)
	}
	// The library's own system and effect kinds are refused too: see
	// TestLibraryKindsAreRefusedOnEveryPublicAppendPath.
}

func TestPayloadOverMaxPayloadIsRejected(t *testing.T) {
	s := openStore(t, t.TempDir(), batpak.WithMaxPayload(64))
	c := coord(t, "e", "s")
	if _, err := s.Append(bg, c, kindMoved, make([]byte, 64)); err != nil {
		t.Fatalf("payload at the limit: %v", err)
	}
	if _, err := s.Append(bg, c, kindMoved, make([]byte, 65)); !errors.Is(err, batpak.ErrPayloadTooLarge) {
		t.Fatalf("raw payload over the limit: %v, want ErrPayloadTooLarge", err)
	}
	if _, err := s.Append(bg, c, kindMoved, payload{Note: strings.Repeat("n", 100)}); !errors.Is(err, batpak.ErrPayloadTooLarge) {
		t.Fatalf("encoded payload over the limit: %v, want ErrPayloadTooLarge", err)
	}
	if n := s.Stats().Events; n != 1 {
		t.Fatalf("%d events, want only the one at the limit", n)
	}
}

func TestOpenRejectsInvalidOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opt  batpak.Option
	}{
		{"SegmentSizeTooSmall", batpak.WithSegmentSize(64<<10 - 1)},
		{"SegmentSizeTooLarge", batpak.WithSegmentSize(1<<30 + 1)},
		{"UnknownDurability", batpak.WithDurability(batpak.Durability(9))},
		{"NegativeSyncEvery", batpak.WithSyncEvery(-1, 0)},
		{"NegativeSyncInterval", batpak.WithSyncEvery(10, -time.Second)},
		{"ZeroMailbox", batpak.WithMailbox(0)},
		{"HugeMailbox", batpak.WithMailbox(1<<20 + 1)},
		{"ZeroMaxDrain", batpak.WithMaxDrain(0)},
		{"NegativeRestarts", batpak.WithRestartPolicy(batpak.RestartPolicy{MaxRestarts: -1})},
		{"NegativeDrainLimit", batpak.WithShutdownDrainLimit(-1)},
		{"NilClock", batpak.WithClock(nil)},
		{"UnknownCodec", batpak.WithCodec(batpak.Codec(7))},
		{"ZeroMaxPayload", batpak.WithMaxPayload(0)},
		{"HugeMaxPayload", batpak.WithMaxPayload(256<<20 + 1)},
		{"ZeroBatchItems", batpak.WithBatchLimits(0, 1<<20)},
		{"ZeroBatchBytes", batpak.WithBatchLimits(10, 0)},
		{"BatchItemsPastTheMarker", batpak.WithBatchLimits(math.MaxInt, 1<<20)}, // above 2^31 on 64-bit machines
		{"NilFS", batpak.WithFS(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := batpak.Open(dir, quiet, tc.opt)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, batpak.ErrInvalidOption) {
				t.Fatalf("Open: %v, want ErrInvalidOption", err)
			}
		})
	}
	// No rejected Open left the directory locked.
	closeStore(t, openStore(t, dir))
}

func TestSecondOpenOfADirectoryIsLocked(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if s2, err := batpak.Open(dir, quiet); !errors.Is(err, batpak.ErrLocked) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	// The path spelled differently is the same directory.
	if s2, err := batpak.Open(dir+"/./", quiet); !errors.Is(err, batpak.ErrLocked) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("second Open by another spelling: %v, want ErrLocked", err)
	}
	r := mustAppend(t, s, coord(t, "e", "s"), kindMoved, payload{N: 1})
	closeStore(t, s)

	s2 := openStore(t, dir)
	if _, err := s2.Get(bg, r.ID); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func TestEveryCallAfterCloseReturnsErrClosed(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := coord(t, "e", "s")
	r := mustAppend(t, s, c, kindMoved, payload{})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	firstErr := func(seq func(func(*batpak.StoredEvent, error) bool)) error {
		var got error
		for _, err := range seq {
			if err != nil {
				got = err
				break
			}
		}
		return got
	}
	items := []batpak.BatchItem{{Coord: c, Kind: kindMoved, Payload: payload{}}}
	calls := map[string]func() error{
		"Append":            func() error { _, err := s.Append(bg, c, kindMoved, payload{}); return err },
		"AppendWithOptions": func() error { _, err := s.AppendWithOptions(bg, c, kindMoved, payload{}, event.Expect(1)); return err },
		"AppendReaction":    func() error { _, err := s.AppendReaction(bg, c, kindMoved, payload{}, r.ID, r.ID); return err },
		"AppendBatch":       func() error { _, err := s.AppendBatch(bg, items); return err },
		"AppendReactionBatch": func() error {
			_, err := s.AppendReactionBatch(bg, r.ID, r.ID, items)
			return err
		},
		"Submit":        func() error { _, err := s.Submit(bg, c, kindMoved, payload{}, batpak.AppendOptions{}); return err },
		"SubmitBatch":   func() error { _, err := s.SubmitBatch(bg, items, batpak.Durable); return err },
		"Sync":          func() error { return s.Sync(bg) },
		"Get":           func() error { _, err := s.Get(bg, r.ID); return err },
		"Latest":        func() error { _, err := s.Latest(bg, "e"); return err },
		"Query":         func() error { return firstErr(s.Query(bg, event.AllEvents())) },
		"QueryAfter":    func() error { return firstErr(s.QueryAfter(bg, event.AllEvents(), 0)) },
		"Stream":        func() error { return firstErr(s.Stream(bg, "e")) },
		"ByScope":       func() error { return firstErr(s.ByScope(bg, "s")) },
		"ByFact":        func() error { return firstErr(s.ByFact(bg, kindMoved)) },
		"WalkAncestors": func() error { return firstErr(s.WalkAncestors(bg, r.ID, 0)) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, batpak.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestCloseWaitsForPendingTickets(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := coord(t, "e", "s")
	var tickets []batpak.Ticket
	for i := range 50 {
		tk, err := s.Submit(bg, c, kindMoved, payload{N: i}, batpak.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk)
	}
	closeStore(t, s)
	// Close drained what it had accepted: every ticket has its receipt.
	for i, tk := range tickets {
		r, err := tk.Wait(bg)
		if err != nil {
			t.Fatalf("ticket %d after Close: %v", i, err)
		}
		if r.Sequence != uint64(i) {
			t.Fatalf("ticket %d got sequence %d", i, r.Sequence)
		}
	}
	s2 := openStore(t, s.Dir())
	if n := s2.Stats().Events; n != 50 {
		t.Fatalf("reopened store holds %d events, want 50", n)
	}
}

func TestExpectedSequenceMismatchNamesEntityExpectedAndActual(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := coord(t, "account:1", "bank")

	r, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 0}, event.Expect(0))
	if err != nil || r.Sequence != 0 {
		t.Fatalf("Expect(0) on a new entity: %v, %v", r, err)
	}
	mustAppend(t, s, c, kindMoved, payload{N: 1})

	for _, expected := range []uint64{0, 1, 3, 100} {
		_, err := s.AppendWithOptions(bg, c, kindMoved, payload{}, event.Expect(expected))
		var sm *batpak.SequenceMismatchError
		if !errors.As(err, &sm) {
			t.Fatalf("Expect(%d) with 2 events: %v, want *SequenceMismatchError", expected, err)
		}
		if *sm != (batpak.SequenceMismatchError{Entity: "account:1", Expected: expected, Actual: 2}) {
			t.Fatalf("Expect(%d): %+v", expected, *sm)
		}
		if !errors.Is(err, batpak.ErrSequenceMismatch) {
			t.Fatalf("errors.Is(ErrSequenceMismatch) false for %v", err)
		}
	}
	r, err = s.AppendWithOptions(bg, c, kindMoved, payload{N: 2}, event.Expect(2))
	if err != nil || r.Sequence != 2 {
		t.Fatalf("Expect(2): %v, %v", r, err)
	}
	if n := s.Stats().Events; n != 3 {
		t.Fatalf("%d events, want 3: a failed expectation wrote something", n)
	}
}

func TestIdempotencyKeyRetryReturnsTheOriginalReceipt(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	c := coord(t, "order:1", "shop")
	opts := batpak.AppendOptions{IdempotencyKey: "order-1-placed"}

	first, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 1}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed {
		t.Fatal("first append reported as replayed")
	}
	mustAppend(t, s, c, kindSpoke, payload{N: 2}) // moves the entity on

	wantReplay := first
	wantReplay.Replayed = true
	retry := func(s *batpak.Store, when string) {
		t.Helper()
		got, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 1}, opts)
		if err != nil {
			t.Fatalf("%s: retry: %v", when, err)
		}
		if got != wantReplay {
			t.Fatalf("%s: retry returned\n%+v\nwant\n%+v", when, got, wantReplay)
		}
		ticket, err := s.Submit(bg, c, kindMoved, payload{N: 1}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ticket.Wait(bg); err != nil || got != wantReplay {
			t.Fatalf("%s: submitted retry returned %+v, %v", when, got, err)
		}
	}
	retry(s, "same session")
	if n := s.Stats().Events; n != 2 {
		t.Fatalf("%d events after retries, want 2", n)
	}
	// A retried conditional append is a replay, not a conflict, though the
	// entity has moved on since.
	cas := batpak.AppendOptions{IdempotencyKey: "cas-1", ExpectSequence: true, ExpectedSequence: 2}
	casFirst, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 3}, cas)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, c, kindMoved, payload{N: 4})
	casAgain, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 3}, cas)
	if err != nil || !casAgain.Replayed || casAgain.ID != casFirst.ID {
		t.Fatalf("retry of a conditional keyed append: %+v, %v; want a replay", casAgain, err)
	}
	if n := s.Stats().Events; n != 4 {
		t.Fatalf("%d events after retries, want 4", n)
	}

	other := coord(t, "order:2", "shop")
	if _, err := s.AppendWithOptions(bg, other, kindMoved, payload{}, opts); !errors.Is(err, batpak.ErrDuplicate) {
		t.Fatalf("same key, other coordinate: %v, want ErrDuplicate", err)
	}
	if _, err := s.AppendWithOptions(bg, c, kindSpoke, payload{}, opts); !errors.Is(err, batpak.ErrDuplicate) {
		t.Fatalf("same key, other kind: %v, want ErrDuplicate", err)
	}
	long := batpak.AppendOptions{IdempotencyKey: strings.Repeat("k", 1025)}
	if _, err := s.AppendWithOptions(bg, c, kindMoved, payload{}, long); err == nil {
		t.Fatal("a 1025-byte idempotency key was accepted")
	}
	closeStore(t, s)

	// Keys are kept for the life of the store.
	s = openStore(t, dir)
	retry(s, "after reopen")
	if n := s.Stats().Events; n != 4 {
		t.Fatalf("%d events after retries, want 4", n)
	}
	ev, err := s.Get(bg, first.ID)
	if err != nil || ev.IdempotencyKey != opts.IdempotencyKey {
		t.Fatalf("stored key %q, %v", ev.IdempotencyKey, err)
	}
}

func TestAppendReactionSetsCorrelationAndCausation(t *testing.T) {
	s := openStore(t, t.TempDir())
	cause := mustAppend(t, s, coord(t, "order:1", "shop"), kindMoved, payload{N: 1})
	if cause.Correlation != cause.ID || !cause.Causation.IsZero() {
		t.Fatalf("a plain append: correlation %v causation %v, want its own id and none", cause.Correlation, cause.Causation)
	}
	reaction, err := s.AppendReaction(bg, coord(t, "invoice:1", "billing"), kindSpoke, payload{N: 2}, cause.Correlation, cause.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reaction.Correlation != cause.ID || reaction.Causation != cause.ID {
		t.Fatalf("reaction: correlation %v causation %v, want %v for both", reaction.Correlation, reaction.Causation, cause.ID)
	}
	second, err := s.AppendReaction(bg, coord(t, "mail:1", "notify"), kindSpoke, payload{N: 3}, reaction.Correlation, reaction.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []batpak.Receipt{reaction, second} {
		ev, err := s.Get(bg, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Correlation != cause.ID || ev.Causation != r.Causation {
			t.Fatalf("stored correlation %v causation %v, receipt says %v %v", ev.Correlation, ev.Causation, r.Correlation, r.Causation)
		}
	}
	if second.Causation != reaction.ID {
		t.Fatalf("second reaction caused by %v, want %v", second.Causation, reaction.ID)
	}
}

func TestSubmitTicketsKeepSubmissionOrderAndWaitTwice(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := coord(t, "e", "s")
	const n = 20
	tickets := make([]batpak.Ticket, n)
	for i := range tickets {
		tk, err := s.Submit(bg, c, kindMoved, payload{N: i}, batpak.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tickets[i] = tk
	}
	// Waited out of order, twice, and concurrently for one ticket.
	var wg sync.WaitGroup
	concurrent := make([]batpak.Receipt, 4)
	for g := range concurrent {
		wg.Go(func() {
			r, err := tickets[n/2].Wait(bg)
			if err != nil {
				t.Errorf("concurrent Wait: %v", err)
			}
			concurrent[g] = r
		})
	}
	var prev batpak.Receipt
	for i := n - 1; i >= 0; i-- {
		r1, err1 := tickets[i].Wait(bg)
		r2, err2 := tickets[i].Wait(bg)
		rs, err3 := tickets[i].WaitAll(bg)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("ticket %d: %v / %v / %v", i, err1, err2, err3)
		}
		if r1 != r2 || len(rs) != 1 || rs[0] != r1 {
			t.Fatalf("ticket %d: Wait twice gave %+v and %+v, WaitAll %+v", i, r1, r2, rs)
		}
		if r1.Sequence != uint64(i) {
			t.Fatalf("ticket %d has sequence %d: submission order not kept", i, r1.Sequence)
		}
		if i < n-1 && r1.Global >= prev.Global {
			t.Fatalf("ticket %d has global %d, the next one %d", i, r1.Global, prev.Global)
		}
		prev = r1
	}
	wg.Wait()
	want, _ := tickets[n/2].Wait(bg)
	for g, r := range concurrent {
		if r != want {
			t.Fatalf("concurrent waiter %d got %+v, want %+v", g, r, want)
		}
	}
	checkLog(t, s, all(t, s), true)
}
