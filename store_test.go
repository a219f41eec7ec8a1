package batpak_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
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

	if r1.Sequence() != 0 || r3.Sequence() != 1 || r2.Sequence() != 0 || r4.Sequence() != 1 {
		t.Fatalf("per-entity sequences %d %d %d %d, want 0 0 1 1", r1.Sequence(), r2.Sequence(), r3.Sequence(), r4.Sequence())
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
	// The library's own system and effect kinds may be appended.
	for _, k := range []batpak.EventKind{event.KindHeartbeat, event.KindAck} {
		if _, err := s.Append(bg, c, k, payload{}); err != nil {
			t.Errorf("Append of library kind %v: %v", k, err)
		}
	}
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
		{"NilRestartPolicy", batpak.WithRestartPolicy(nil)},
		{"NegativeDrainLimit", batpak.WithShutdownDrainLimit(-1)},
		{"NilClock", batpak.WithClock(nil)},
		{"UnknownCodec", batpak.WithCodec(batpak.Codec(7))},
		{"ZeroMaxPayload", batpak.WithMaxPayload(0)},
		{"HugeMaxPayload", batpak.WithMaxPayload(256<<20 + 1)},
		{"ZeroBatchItems", batpak.WithBatchLimits(0, 1<<20)},
		{"ZeroBatchBytes", batpak.WithBatchLimits(10, 0)},
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
	var tickets []*batpak.Ticket
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
		if r.Sequence() != uint64(i) {
			t.Fatalf("ticket %d got sequence %d", i, r.Sequence())
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
	if err != nil || r.Sequence() != 0 {
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
	if err != nil || r.Sequence() != 2 {
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
		got, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 999}, opts)
		if err != nil {
			t.Fatalf("%s: retry: %v", when, err)
		}
		if got != wantReplay {
			t.Fatalf("%s: retry returned\n%+v\nwant\n%+v", when, got, wantReplay)
		}
		ticket, err := s.Submit(bg, c, kindMoved, payload{}, opts)
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
	tickets := make([]*batpak.Ticket, n)
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
		if r1.Sequence() != uint64(i) {
			t.Fatalf("ticket %d has sequence %d: submission order not kept", i, r1.Sequence())
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

// openMem opens a store on an in-memory file system in memDir.
func openMem(t testing.TB, fs vfs.FS, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	return openStore(t, memDir, append([]batpak.Option{batpak.WithFS(fs)}, opts...)...)
}

// afterCrash opens the crash image of mem as it is now and returns the
// events it holds, by id.
func afterCrash(t testing.TB, mem *vfs.MemFS) map[batpak.ID]*batpak.StoredEvent {
	t.Helper()
	s := openMem(t, mem.CrashClone(vfs.CrashOptions{}))
	defer s.Close()
	out := map[batpak.ID]*batpak.StoredEvent{}
	for _, ev := range all(t, s) {
		out[ev.ID] = ev
	}
	return out
}

func TestDurableAppendIsOnDiskWhenAcknowledged(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem)
	c := coord(t, "e", "s")
	var acked []batpak.Receipt
	for i := range 5 {
		acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i}))
		rs, err := s.AppendBatch(bg, []batpak.BatchItem{
			{Coord: c, Kind: kindMarker, Payload: batchMark{Batch: i, Item: 0, Of: 2}},
			{Coord: coord(t, "f", "s"), Kind: kindMarker, Payload: batchMark{Batch: i, Item: 1, Of: 2}},
		})
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, rs...)
		got := afterCrash(t, mem)
		for _, r := range acked {
			if ev, ok := got[r.ID]; !ok || !receiptMatches(r, ev) {
				t.Fatalf("acknowledged event %d (global %d) lost by a crash right after its receipt", len(acked), r.Global)
			}
		}
	}
}

func TestSyncMakesOnWriteAppendsDurable(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem, batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0))
	c := coord(t, "e", "s")
	var acked []batpak.Receipt
	for i := range 5 {
		acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i}))
	}
	// On-write appends are visible at once.
	if got := len(all(t, s)); got != 5 {
		t.Fatalf("%d of 5 on-write events visible", got)
	}
	t.Logf("before Sync, a crash keeps %d of 5 on-write events", len(afterCrash(t, mem)))
	if err := s.Sync(bg); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	got := afterCrash(t, mem)
	for i, r := range acked {
		if _, ok := got[r.ID]; !ok {
			t.Fatalf("on-write event %d lost by a crash after Sync returned", i)
		}
	}
}

func TestDurabilityOverridePerCall(t *testing.T) {
	t.Run("DurableInOnWriteStore", func(t *testing.T) {
		mem := vfs.NewMem()
		s := openMem(t, mem, batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0))
		c := coord(t, "e", "s")
		mustAppend(t, s, c, kindMoved, payload{N: 0})
		r, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 1}, batpak.AppendOptions{Durability: batpak.Durable})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := afterCrash(t, mem)[r.ID]; !ok {
			t.Fatal("an append with a Durable override was lost by a crash after its receipt")
		}
		rs, err := s.SubmitBatch(bg, []batpak.BatchItem{{Coord: c, Kind: kindMoved, Payload: payload{N: 2}}}, batpak.Durable)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := rs.Wait(bg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := afterCrash(t, mem)[rb.ID]; !ok {
			t.Fatal("a batch submitted Durable was lost by a crash after its receipt")
		}
	})
	t.Run("OnWriteInDurableStore", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		c := coord(t, "e", "s")
		r, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: 1}, batpak.AppendOptions{Durability: batpak.OnWrite})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(bg, r.ID); err != nil {
			t.Fatalf("on-write event not visible after its receipt: %v", err)
		}
		closeStore(t, s)
		s = openStore(t, dir)
		if _, err := s.Get(bg, r.ID); err != nil {
			t.Fatalf("on-write event gone after a clean Close: %v", err)
		}
	})
}

func TestOnWriteStoreRoundTripsAndReopens(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithDurability(batpak.OnWrite))
	var acked []batpak.Receipt
	for i := range 100 {
		c := coord(t, "e"+string(rune('a'+i%3)), "s")
		acked = append(acked, mustAppend(t, s, c, kindMoved, payload{N: i}))
	}
	rs, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: coord(t, "ea", "s"), Kind: kindMoved, Payload: payload{N: 100}},
		{Coord: coord(t, "eb", "s"), Kind: kindMoved, Payload: payload{N: 101}},
	})
	if err != nil {
		t.Fatal(err)
	}
	acked = append(acked, rs...)
	if err := s.Sync(bg); err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, all(t, s), true)
	closeStore(t, s)

	s = openStore(t, dir)
	evs := all(t, s)
	if len(evs) != len(acked) {
		t.Fatalf("reopened: %d events, want %d", len(evs), len(acked))
	}
	for i, r := range acked {
		if !receiptMatches(r, evs[i]) {
			t.Fatalf("reopened: event %d differs from its receipt", i)
		}
	}
	checkLog(t, s, evs, true)
}

func TestHashChainLinksEachEventToItsPredecessor(t *testing.T) {
	s := openStore(t, t.TempDir())
	a, b := coord(t, "a", "s"), coord(t, "b", "s")
	var ra []batpak.Receipt
	for i := range 6 {
		ra = append(ra, mustAppend(t, s, a, kindMoved, payload{N: i}))
		mustAppend(t, s, b, kindMoved, payload{N: i})
	}
	evs := collect(t, s.Stream(bg, "a"))
	for i, ev := range evs {
		if ev.Hash.Self != ra[i].Hash || ev.Hash.Self == ([32]byte{}) {
			t.Fatalf("event %d: stored hash %x, receipt %x", i, ev.Hash.Self[:4], ra[i].Hash[:4])
		}
		var want [32]byte
		if i > 0 {
			want = evs[i-1].Hash.Self
		}
		if ev.Hash.Prev != want {
			t.Fatalf("Stream event %d: Hash.Prev %x, want the predecessor's %x", i, ev.Hash.Prev[:4], want[:4])
		}
		got, err := s.Get(bg, ev.ID)
		if err != nil || got.Hash != ev.Hash {
			t.Fatalf("Get of event %d: hash %+v, %v; Stream gave %+v", i, got.Hash, err, ev.Hash)
		}
	}
	latest, err := s.Latest(bg, "a")
	if err != nil || latest.Hash.Prev != evs[4].Hash.Self {
		t.Fatalf("Latest: Hash.Prev not the predecessor's hash (%v)", err)
	}
	// A stream read from the middle still fills Prev.
	mid := collect(t, s.Query(bg, event.ForEntity("a").WithSequence(3, 4)))
	if len(mid) != 2 || mid[0].Hash.Prev != evs[2].Hash.Self || mid[1].Hash.Prev != evs[3].Hash.Self {
		t.Fatal("a stream read from sequence 3 has wrong Hash.Prev")
	}
	// Distinct entities have distinct chains even for equal payloads.
	evb := collect(t, s.Stream(bg, "b"))
	if evb[0].Hash.Self == evs[0].Hash.Self {
		t.Fatal("two entities' first events hash alike")
	}
}

func TestWalkAncestorsWalksBackWithALimit(t *testing.T) {
	s := openStore(t, t.TempDir())
	a, b := coord(t, "a", "s"), coord(t, "b", "s")
	var ra []batpak.Receipt
	for i := range 5 {
		ra = append(ra, mustAppend(t, s, a, kindMoved, payload{N: i}))
		mustAppend(t, s, b, kindMoved, payload{N: i})
	}
	walk := func(id batpak.ID, limit int) []uint64 {
		t.Helper()
		var seqs []uint64
		for ev, err := range s.WalkAncestors(bg, id, limit) {
			if err != nil {
				t.Fatalf("WalkAncestors: %v", err)
			}
			if ev.Coordinate != a {
				t.Fatalf("walk left the entity: %v", ev.Coordinate)
			}
			if !receiptMatches(ra[ev.Position.Sequence], ev) {
				t.Fatalf("walk yielded a wrong event at sequence %d", ev.Position.Sequence)
			}
			seqs = append(seqs, ev.Position.Sequence)
		}
		return seqs
	}
	for _, tc := range []struct {
		from, limit int
		want        []uint64
	}{
		{4, 0, []uint64{4, 3, 2, 1, 0}},
		{4, 2, []uint64{4, 3}},
		{4, 1, []uint64{4}},
		{4, 5, []uint64{4, 3, 2, 1, 0}},
		{4, 50, []uint64{4, 3, 2, 1, 0}},
		{2, 0, []uint64{2, 1, 0}},
		{0, 0, []uint64{0}},
	} {
		if got := walk(ra[tc.from].ID, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("walk from %d limit %d: %v, want %v", tc.from, tc.limit, got, tc.want)
		}
	}
	var gotErr error
	for _, err := range s.WalkAncestors(bg, event.NewID(), 0) {
		gotErr = err
	}
	if !errors.Is(gotErr, batpak.ErrNotFound) {
		t.Fatalf("walk from an unknown id: %v, want ErrNotFound", gotErr)
	}
}

func TestWithoutHashChainHashesAreZero(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithHashChain(false))
	c := coord(t, "a", "s")
	var rs []batpak.Receipt
	for i := range 4 {
		r := mustAppend(t, s, c, kindMoved, payload{N: i})
		if r.Hash != ([32]byte{}) {
			t.Fatalf("receipt %d carries a hash without hash chains", i)
		}
		rs = append(rs, r)
	}
	for _, ev := range collect(t, s.Stream(bg, "a")) {
		if ev.Hash != (event.HashChain{}) {
			t.Fatalf("sequence %d: hash %+v without hash chains", ev.Position.Sequence, ev.Hash)
		}
	}
	n := 0
	for _, err := range s.WalkAncestors(bg, rs[3].ID, 0) {
		if err != nil {
			t.Fatalf("WalkAncestors without hashes: %v", err)
		}
		n++
	}
	if n != 4 {
		t.Fatalf("walk yielded %d events, want 4", n)
	}
	closeStore(t, s)

	// Turning chains on later chains the new events from there on.
	s = openStore(t, dir)
	for i := 4; i < 6; i++ {
		mustAppend(t, s, c, kindMoved, payload{N: i})
	}
	evs := collect(t, s.Stream(bg, "a"))
	if evs[3].Hash.Self != ([32]byte{}) || evs[4].Hash.Self == ([32]byte{}) || evs[5].Hash.Prev != evs[4].Hash.Self {
		t.Fatal("chain after turning hash chains on is not linked")
	}
	n = 0
	for _, err := range s.WalkAncestors(bg, evs[5].ID, 0) {
		if err != nil {
			t.Fatalf("WalkAncestors over a partly chained stream: %v", err)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("walk yielded %d events, want 6", n)
	}
}

func TestRotationSpreadsTheLogOverSegments(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, batpak.WithSegmentSize(64<<10))
	blob := func(i int) []byte {
		b := make([]byte, 1000)
		for j := range b {
			b[j] = byte(i + j)
		}
		return b
	}
	var acked []batpak.Receipt
	for i := range 200 {
		c := coord(t, "e"+string(rune('a'+i%4)), "s")
		if i%20 == 19 {
			var items []batpak.BatchItem
			for j := range 10 {
				items = append(items, batpak.BatchItem{Coord: coord(t, "batch", "s"), Kind: kindMoved, Payload: blob(i*10 + j)})
			}
			rs, err := s.AppendBatch(bg, items)
			if err != nil {
				t.Fatal(err)
			}
			acked = append(acked, rs...)
			continue
		}
		acked = append(acked, mustAppend(t, s, c, kindMoved, blob(i)))
	}
	// A record larger than a segment gets one of its own, and so does a
	// batch: it is never split over two segments.
	big := mustAppend(t, s, coord(t, "big", "s"), kindMoved, make([]byte, 100<<10))
	acked = append(acked, big)
	var huge []batpak.BatchItem
	for j := range 80 {
		huge = append(huge, batpak.BatchItem{Coord: coord(t, "huge", "s"), Kind: kindMoved, Payload: blob(j)})
	}
	rs, err := s.AppendBatch(bg, huge)
	if err != nil {
		t.Fatalf("a batch larger than a segment: %v", err)
	}
	acked = append(acked, rs...)
	acked = append(acked, mustAppend(t, s, coord(t, "ea", "s"), kindMoved, blob(-1)))

	files := segmentFiles(t, vfs.OS, dir)
	if len(files) < 4 {
		t.Fatalf("%d segment files for ~400 KiB with 64 KiB segments", len(files))
	}
	if got := s.Stats().Segments; got != len(files) {
		t.Fatalf("Stats().Segments = %d, %d files", got, len(files))
	}
	for _, name := range files {
		data := readFile(t, vfs.OS, filepath.Join(dir, name))
		// Over the segment size only when one event or one batch alone
		// is that large.
		units, inBatch := 0, false
		for _, f := range frames(t, data) {
			switch {
			case f.typ == segment.TypeBatchBegin:
				units, inBatch = units+1, true
			case f.typ == segment.TypeBatchCommit:
				inBatch = false
			case !inBatch:
				units++
			}
		}
		if len(data) > 64<<10 && units != 1 {
			t.Errorf("segment %s is %d bytes with %d events or batches, over the 64 KiB segment size", name, len(data), units)
		}
	}
	verify := func(s *batpak.Store) {
		t.Helper()
		evs := all(t, s)
		if len(evs) != len(acked) {
			t.Fatalf("%d events, want %d", len(evs), len(acked))
		}
		for i, r := range acked {
			if !receiptMatches(r, evs[i]) {
				t.Fatalf("event %d differs from its receipt", i)
			}
			ev, err := s.Get(bg, r.ID)
			if err != nil || ev.PayloadSize != evs[i].PayloadSize {
				t.Fatalf("Get of event %d: %v", i, err)
			}
		}
		checkLog(t, s, evs, true)
	}
	verify(s)
	closeStore(t, s)

	s = openStore(t, dir, batpak.WithSegmentSize(64<<10))
	if rec := s.Stats().Recovery; rec.Segments != len(files) || rec.Events != len(acked) || rec.Torn {
		t.Fatalf("recovery report %+v, want %d segments and %d events", rec, len(files), len(acked))
	}
	verify(s)
	acked = append(acked, mustAppend(t, s, coord(t, "eb", "s"), kindMoved, blob(-2)))
	verify(s)
}

func TestStatsReportsCounts(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	st := s.Stats()
	if st.Events != 0 || st.Entities != 0 || st.Scopes != 0 || st.LastGlobal != 0 || st.Segments != 1 || st.FailStop != nil {
		t.Fatalf("fresh store: %+v", st)
	}
	for i := range 9 {
		mustAppend(t, s, coord(t, "e"+string(rune('0'+i%3)), "s"+string(rune('0'+i%2))), kindMoved, payload{N: i})
	}
	st = s.Stats()
	want := batpak.Stats{Events: 9, Entities: 3, Scopes: 2, Segments: 1, LastGlobal: 9}
	if st.Events != want.Events || st.Entities != want.Entities || st.Scopes != want.Scopes ||
		st.Segments != want.Segments || st.LastGlobal != want.LastGlobal || st.MailboxDepth != 0 ||
		st.WriterRestarts != 0 || st.FsyncRestarts != 0 || st.FailStop != nil || st.Recovery.Events != 0 {
		t.Fatalf("Stats() = %+v\nwant counts %+v", st, want)
	}
	closeStore(t, s)

	s = openStore(t, dir)
	st = s.Stats()
	if st.Events != 9 || st.LastGlobal != 9 || st.Recovery.Events != 9 || st.Recovery.Segments != 1 || st.Recovery.Torn {
		t.Fatalf("reopened: %+v", st)
	}
}

func TestAppendWithCancelledContextWritesNothing(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(bg)
	cancel()
	c := coord(t, "e", "s")
	if _, err := s.Append(ctx, c, kindMoved, payload{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.AppendBatch(ctx, []batpak.BatchItem{{Coord: c, Kind: kindMoved, Payload: payload{}}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("AppendBatch with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, event.NewID()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: %v, want context.Canceled", err)
	}
	if err := s.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().Events; n != 0 {
		t.Fatalf("calls whose context was cancelled before they began wrote %d events", n)
	}
}

// durableIDs parses the segments of a crash image and returns the ids of
// the events committed in it.
func durableIDs(t testing.TB, img vfs.FS) map[batpak.ID]bool {
	t.Helper()
	out := map[batpak.ID]bool{}
	for _, name := range segmentFiles(t, img, memDir) {
		data := readFile(t, img, filepath.Join(memDir, name))
		got, _ := committedBefore(frames(t, data), int64(len(data)))
		for id := range got {
			out[id] = true
		}
	}
	return out
}

func TestDurableReadersNeverSeeAnEventACrashWouldErase(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem, batpak.WithSegmentSize(64<<10))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 150 {
				c := coord(t, fmt.Sprintf("w%d", w), "s")
				var err error
				if i%5 == 4 {
					_, err = s.AppendBatch(bg, []batpak.BatchItem{
						{Coord: c, Kind: kindMoved, Payload: make([]byte, 200)},
						{Coord: coord(t, "shared", "s"), Kind: kindMoved, Payload: make([]byte, 200)},
					})
				} else {
					_, err = s.Append(bg, c, kindMoved, make([]byte, 200))
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	checks := 0
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		// What a reader sees now must survive a crash taken afterwards.
		visible := ids(all(t, s))
		durable := durableIDs(t, mem.CrashClone(vfs.CrashOptions{}))
		for _, id := range visible {
			if !durable[id] {
				t.Fatalf("check %d: event %v visible to readers but not durable", checks, id)
			}
		}
		checks++
	}
	if n := s.Stats().Events; n != 4*150+4*30 {
		t.Fatalf("%d events, want %d", n, 4*150+4*30)
	}
	t.Logf("%d visibility checks against crash images", checks)
}

func ids(evs []*batpak.StoredEvent) []batpak.ID {
	out := make([]batpak.ID, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func TestWalkAncestorsReportsABrokenChain(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	c := coord(t, "a", "s")
	var rs []batpak.Receipt
	for i := range 4 {
		rs = append(rs, mustAppend(t, s, c, kindMoved, []byte{byte(i), byte(i), byte(i)}))
	}
	closeStore(t, s)

	// Rewrite event 1's payload and fix its frame checksum: the frame is
	// valid, but no longer what event 2 was chained over.
	seg := segmentFiles(t, vfs.OS, dir)[0]
	name := filepath.Join(dir, seg)
	data := readFile(t, vfs.OS, name)
	f := frames(t, data)[1]
	if f.id != rs[1].ID {
		t.Fatal("frame 1 is not event 1")
	}
	data[f.end-1] ^= 0xff
	binary.LittleEndian.PutUint32(data[f.off+4:], crc32.Checksum(data[f.off+8:f.end], crc32.MakeTable(crc32.Castagnoli)))
	writeFile(t, vfs.OS, name, data)

	s, err := tryOpen(dir)
	var ce *batpak.CorruptionError
	if err != nil {
		// Open may verify chains itself; then it must name the spot.
		if !errors.As(err, &ce) || ce.Segment != 1 || ce.Offset != f.off {
			t.Fatalf("Open: %v, want nil or a *CorruptionError at segment 1 offset %d", err, f.off)
		}
		return
	}
	defer s.Close()
	var walked []uint64
	var walkErr error
	for ev, err := range s.WalkAncestors(bg, rs[3].ID, 0) {
		if err != nil {
			walkErr = err
			break
		}
		walked = append(walked, ev.Position.Sequence)
	}
	if !errors.Is(walkErr, batpak.ErrChainBroken) || !errors.As(walkErr, &ce) {
		t.Fatalf("walk over a rewritten event yielded %v after %v; want ErrChainBroken with a *CorruptionError", walkErr, walked)
	}
	if ce.Segment != 1 || ce.Offset != f.off {
		t.Fatalf("ErrChainBroken names segment %d offset %d, want segment 1 offset %d", ce.Segment, ce.Offset, f.off)
	}
	if slices.Contains(walked, 0) {
		t.Fatalf("the walk went past the broken link: %v", walked)
	}
	t.Logf("walk yielded sequences %v before reporting the broken link", walked)
}
