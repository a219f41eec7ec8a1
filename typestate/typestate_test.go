package typestate_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/typestate"
)

func TestApplyTransitionRecordsEdgesAndAdvancesTheHandle(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	door := typestate.Start[Locked](doorCoord)
	closed, rc, err := typestate.ApplyTransition(ctx, st, door, unlock(Key{ID: "brass"}))
	if err != nil {
		t.Fatal(err)
	}
	if rc.Sequence != 0 || rc.Kind != kindUnlocked || closed.Next() != 1 || closed.State() != "closed" {
		t.Fatalf("after unlock: receipt #%d %v, handle %v", rc.Sequence, rc.Kind, closed)
	}
	opened, _, err := typestate.ApplyTransition(ctx, st, closed, open())
	if err != nil {
		t.Fatal(err)
	}
	if opened.Next() != 2 || opened.Coordinate() != doorCoord || opened.String() != "door:north@room:crypt in open #2" {
		t.Fatalf("after open: %v", opened)
	}
	evs := st.events(doorCoord.Entity())
	step, key, err := typestate.Decode[Key](evs[0])
	if err != nil || step.From != "locked" || step.To != "closed" || key.ID != "brass" {
		t.Fatalf("first record: %+v %+v %v", step, key, err)
	}
	if s, err := typestate.ReadStep(evs[1]); err != nil || s.From != "closed" || s.To != "open" || s.Event != evs[1] {
		t.Fatalf("second record: %+v %v", s, err)
	}
}

func TestStaleHandleIsRefusedByTheExpectedSequence(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	door := typestate.Start[Locked](doorCoord)
	if _, _, err := typestate.ApplyTransition(ctx, st, door, unlock(Key{})); err != nil {
		t.Fatal(err)
	}
	// door still says Locked, but the log has moved on.
	if _, _, err := typestate.ApplyTransition(ctx, st, door, unlock(Key{})); !errors.Is(err, errFakeSequence) {
		t.Fatalf("reusing a stale handle: %v, want the store's sequence error", err)
	}
	if n := len(st.events(doorCoord.Entity())); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestStartOnAnEntityWithHistoryFails(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	if _, err := st.AppendWithOptions(ctx, doorCoord, kindKnocked, "knock", event.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := typestate.ApplyTransition(ctx, st, typestate.Start[Locked](doorCoord), unlock(Key{})); !errors.Is(err, errFakeSequence) {
		t.Fatalf("Start on a used entity: %v", err)
	}
}

func TestRacingHandlesMoveTheMachineOnce(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	closed, _, err := typestate.ApplyTransition(ctx, st, typestate.Start[Locked](doorCoord), unlock(Key{}))
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg         sync.WaitGroup
		start      = make(chan struct{})
		ok, refuse atomic.Int32
	)
	for i := range 32 {
		wg.Go(func() {
			<-start
			var err error
			if i%2 == 0 {
				_, _, err = typestate.ApplyTransition(ctx, st, closed, open())
			} else {
				_, _, err = typestate.ApplyTransition(ctx, st, closed, lock(Key{}))
			}
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, errFakeSequence):
				refuse.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || refuse.Load() != 31 {
		t.Fatalf("%d transitions applied, %d refused; want 1 and 31", ok.Load(), refuse.Load())
	}
	if _, err := typestate.Load(ctx, st, doorCoord); err != nil {
		t.Fatalf("the log does not chain after the race: %v", err)
	}
}

type nameless struct{}

func (nameless) StateName() string { return "" }

func TestZeroValuesAndNamelessStatesAreRefused(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	if _, _, err := typestate.ApplyTransition(ctx, st, typestate.Machine[Locked]{}, unlock(Key{})); !errors.Is(err, typestate.ErrZeroMachine) {
		t.Errorf("zero machine: %v", err)
	}
	var zero typestate.Transition[Locked, Closed, Key]
	if _, _, err := typestate.ApplyTransition(ctx, st, typestate.Start[Locked](doorCoord), zero); !errors.Is(err, typestate.ErrZeroTransition) {
		t.Errorf("zero transition: %v", err)
	}
	bad := typestate.NewTransition[Locked, nameless](kindUnlocked, 1)
	if _, _, err := typestate.ApplyTransition(ctx, st, typestate.Start[Locked](doorCoord), bad); !errors.Is(err, typestate.ErrUnnamedState) {
		t.Errorf("nameless state: %v", err)
	}
	if n := len(st.events(doorCoord.Entity())); n != 0 {
		t.Fatalf("refused transitions appended %d events", n)
	}
}

func TestTransitionOptionsReachTheStoreButNotTheExpectedSequence(t *testing.T) {
	ctx, st := t.Context(), newFakeStore()
	cause := event.NewID()
	tr := unlock(Key{}).WithOptions(event.AppendOptions{
		Causation: cause, IdempotencyKey: "unlock-1", Flags: 0x2,
		ExpectSequence: true, ExpectedSequence: 99, // overridden by the handle
	})
	if tr.String() != "locked -> closed (0x3:0x001)" || tr.Kind() != kindUnlocked || tr.Payload() != (Key{}) {
		t.Errorf("transition accessors: %v", tr)
	}
	if _, _, err := typestate.ApplyTransition(ctx, st, typestate.Start[Locked](doorCoord), tr); err != nil {
		t.Fatal(err)
	}
	e := st.events(doorCoord.Entity())[0]
	if e.Causation != cause || e.IdempotencyKey != "unlock-1" || e.Flags != 0x2 {
		t.Fatalf("options lost: %+v", e.Header)
	}
}

func TestStoreErrorsAreReturnedAsTheyAre(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := typestate.ApplyTransition(ctx, newFakeStore(), typestate.Start[Locked](doorCoord), unlock(Key{})); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
