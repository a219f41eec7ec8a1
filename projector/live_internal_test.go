package projector

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/batpak-go/batpak/event"
)

var kindStep = event.MustCustom(0x1, 0x001)

// steps sums its events' sequence numbers and fails on sequence 13.
type steps struct{ Sum, Ops uint64 }

func (*steps) Projection() Spec {
	return Spec{Name: "steps", Version: 1, Kinds: []event.EventKind{kindStep}, Incremental: true}
}

func (s *steps) Apply(ev *event.StoredEvent) error {
	if ev.Sequence == 13 {
		return errors.New("unlucky")
	}
	s.Sum += ev.Sequence
	s.Ops++
	return nil
}

func stepEvents(from, to uint64) []*event.StoredEvent {
	var evs []*event.StoredEvent
	for seq := from; seq <= to; seq++ {
		evs = append(evs, &event.StoredEvent{Header: event.Header{Global: seq + 1, Kind: kindStep, Sequence: seq}})
	}
	return evs
}

// The pure core of the live projection, without goroutines: a batch that
// fails half way leaves the state untrustworthy, and readers wait for the
// rebuild instead of seeing events past the watermark.
func TestFailedBatchHidesTheStateUntilRebuilt(t *testing.T) {
	l, err := NewLive[steps](nil, "", Entity("e"))
	if err != nil {
		t.Fatal(err)
	}
	l.publish(steps{}, 0)
	if err := l.applyBatch(stepEvents(0, 9)); err != nil {
		t.Fatal(err)
	}
	if u, err := l.Snapshot(context.Background()); err != nil || u.State.Ops != 10 || u.Watermark != 10 {
		t.Fatalf("after a good batch: %+v, %v", u, err)
	}
	var ae *ApplyError
	if err := l.applyBatch(stepEvents(10, 20)); !errors.As(err, &ae) || ae.Global != 14 {
		t.Fatalf("bad batch: %v", err)
	}
	// The state now holds events 10-12 beyond watermark 10: nobody may see it.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Read(cancelled, func(s *steps, mark uint64) {
		t.Errorf("read a half-applied state %+v at watermark %d", *s, mark)
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read of a broken state = %v, want it to wait", err)
	}
	l.publish(steps{Sum: 45, Ops: 10}, 10) // the rebuild
	if u, err := l.Snapshot(context.Background()); err != nil || u.State != (steps{Sum: 45, Ops: 10}) {
		t.Fatalf("after the rebuild: %+v, %v", u, err)
	}
}

func TestApplyBatchSkipsEventsAtOrBelowTheWatermark(t *testing.T) {
	l, _ := NewLive[steps](nil, "", Entity("e"))
	l.publish(steps{}, 5)
	if err := l.applyBatch(stepEvents(2, 7)); err != nil {
		t.Fatal(err)
	}
	if u, _ := l.Snapshot(context.Background()); u.State.Ops != 3 || u.Watermark != 8 {
		t.Fatalf("%+v: want only globals 6-8 applied", u)
	}
}

func TestCloneStateSharesNoMemory(t *testing.T) {
	type flat struct {
		A int
		B [4]string
	}
	type deep struct{ M map[string]int }
	if hasRefs(reflect.TypeFor[flat]()) || !hasRefs(reflect.TypeFor[deep]()) {
		t.Fatal("hasRefs misjudged")
	}
	d := deep{M: map[string]int{"a": 1}}
	c, err := cloneState(&d)
	if err != nil {
		t.Fatal(err)
	}
	c.M["a"] = 2
	if d.M["a"] != 1 {
		t.Fatal("the clone shares its map")
	}
}
