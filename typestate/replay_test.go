package typestate_test

import (
	"errors"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/typestate"
)

// walk drives the door locked → closed → open → closed, with a knock (not a
// transition) in between, and returns the final handle.
func walk(t *testing.T, st *fakeStore) typestate.Machine[Closed] {
	t.Helper()
	ctx := t.Context()
	closed, _, err := typestate.ApplyTransition(ctx, st, typestate.Start[Locked](doorCoord), unlock(Key{ID: "k1"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendWithOptions(ctx, doorCoord, kindKnocked, "knock knock", event.Expect(closed.Next())); err != nil {
		t.Fatal(err)
	}
	snap, err := typestate.Load(ctx, st, doorCoord)
	if err != nil {
		t.Fatal(err)
	}
	closed, err = typestate.Resume[Closed](snap) // the knock moved the sequence
	if err != nil {
		t.Fatal(err)
	}
	opened, _, err := typestate.ApplyTransition(ctx, st, closed, open())
	if err != nil {
		t.Fatal(err)
	}
	closed, _, err = typestate.ApplyTransition(ctx, st, opened, shut())
	if err != nil {
		t.Fatal(err)
	}
	return closed
}

func TestLoadReplaysTheStateAndSkipsOtherEvents(t *testing.T) {
	st := newFakeStore()
	last := walk(t, st)
	snap, err := typestate.Load(t.Context(), st, doorCoord)
	if err != nil {
		t.Fatal(err)
	}
	if snap.State() != "closed" || snap.Steps() != 3 || snap.Next() != 4 || snap.Coordinate() != doorCoord {
		t.Fatalf("snapshot: state %q, %d steps, next %d", snap.State(), snap.Steps(), snap.Next())
	}
	resumed, err := typestate.Resume[Closed](snap)
	if err != nil || resumed != last {
		t.Fatalf("Resume = %v, %v; want %v", resumed, err, last)
	}
	if _, _, err := typestate.ApplyTransition(t.Context(), st, resumed, lock(Key{ID: "k1"})); err != nil {
		t.Fatalf("a resumed handle cannot continue: %v", err)
	}
}

func TestHistoryYieldsTheTransitionsInOrder(t *testing.T) {
	st := newFakeStore()
	walk(t, st)
	var path []string
	for s, err := range typestate.History(t.Context(), st, doorCoord.Entity()) {
		if err != nil {
			t.Fatal(err)
		}
		path = append(path, s.From+">"+s.To)
	}
	if got := len(path); got != 3 || path[0] != "locked>closed" || path[1] != "closed>open" || path[2] != "open>closed" {
		t.Fatalf("history %v", path)
	}
}

func TestResumeInTheWrongStateFails(t *testing.T) {
	st := newFakeStore()
	walk(t, st)
	snap, _ := typestate.Load(t.Context(), st, doorCoord)
	_, err := typestate.Resume[Open](snap)
	var se *typestate.StateError
	if !errors.As(err, &se) || !errors.Is(err, typestate.ErrWrongState) || se.Want != "open" || se.Got != "closed" {
		t.Fatalf("Resume[Open] on a closed door: %v", err)
	}
	empty, err := typestate.Load(t.Context(), st, event.MustCoordinate("door:none", "room:crypt"))
	if err != nil || empty.State() != "" || empty.Next() != 0 {
		t.Fatalf("Load of an empty entity: %+v, %v", empty, err)
	}
	if _, err := typestate.Resume[Locked](empty); err == nil || err.Error() != "typestate: door:none is in no state (no transitions), not locked" {
		t.Fatalf("Resume of a machine without transitions: %v", err)
	}
	if _, err := typestate.Resume[Locked](typestate.Snapshot{}); !errors.Is(err, typestate.ErrZeroMachine) {
		t.Fatalf("Resume of the zero snapshot: %v", err)
	}
}

func TestLoadDetectsTransitionsThatDoNotChain(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	if _, _, err := typestate.ApplyTransition(ctx, st, typestate.Start[Locked](doorCoord), unlock(Key{})); err != nil {
		t.Fatal(err)
	}
	// Somebody writes a record by hand, from the wrong state.
	forged := typestate.Record[struct{}]{Version: 1, From: "open", To: "closed"}
	if _, err := st.AppendWithOptions(ctx, doorCoord, kindClosed, forged, event.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := typestate.Load(ctx, st, doorCoord)
	var ce *typestate.ChainError
	if !errors.As(err, &ce) || !errors.Is(err, typestate.ErrBrokenChain) || ce.Sequence != 1 || ce.Want != "closed" || ce.Got != "open" {
		t.Fatalf("Load = %v", err)
	}
	if want := "typestate: door:north #1 leaves open, but the machine was in closed"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestReplayStopsAtANewerRecordVersion(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	future := typestate.Record[int]{Version: typestate.RecordVersion + 1, From: "a", To: "b"}
	if _, err := st.AppendWithOptions(ctx, doorCoord, kindClosed, future, event.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := typestate.Load(ctx, st, doorCoord); !errors.Is(err, typestate.ErrNewerRecord) {
		t.Errorf("Load = %v, want ErrNewerRecord", err)
	}
	n := 0
	for _, err := range typestate.History(ctx, st, doorCoord.Entity()) {
		n++
		if !errors.Is(err, typestate.ErrNewerRecord) {
			t.Errorf("History yielded %v", err)
		}
	}
	if n != 1 {
		t.Errorf("History yielded %d items, want the one error", n)
	}
}

func TestReadingNonTransitionEvents(t *testing.T) {
	for _, payload := range []any{"knock", 7, map[string]int{"from": 1}, []byte{1, 2}, map[string]string{"from": "a", "to": "b"}} {
		b, c, _ := event.Encode(event.CodecMsgPack, payload)
		e := &event.StoredEvent{Codec: c, Payload: b}
		if _, err := typestate.ReadStep(e); !errors.Is(err, typestate.ErrNotTransition) {
			t.Errorf("ReadStep(%v) = %v", payload, err)
		}
		if _, _, err := typestate.Decode[int](e); !errors.Is(err, typestate.ErrNotTransition) {
			t.Errorf("Decode(%v) = %v", payload, err)
		}
	}
}

func TestStreamErrorsAreReported(t *testing.T) {
	st := newFakeStore()
	walk(t, st)
	boom := errors.New("segment unreadable")
	st.failStreams(boom)
	if _, err := typestate.Load(t.Context(), st, doorCoord); !errors.Is(err, boom) {
		t.Errorf("Load = %v", err)
	}
	var last error
	for _, err := range typestate.History(t.Context(), st, doorCoord.Entity()) {
		last = err
	}
	if !errors.Is(last, boom) {
		t.Errorf("History ended with %v", last)
	}
	if _, err := typestate.Load(t.Context(), st, event.Coordinate{}); !errors.Is(err, event.ErrInvalidCoordinate) {
		t.Errorf("Load(zero coordinate) = %v", err)
	}
}
