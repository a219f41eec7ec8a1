package storetest

import (
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

// facadeProjection runs the facade's projections on the backend: Project
// and ProjectRegion, a watch that sees a new event, and a live projection
// of NewProjector read after WaitApplied.
func (s *suite) facadeProjection(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("counter:2", "x")
	for i := 1; i <= 4; i++ {
		mustAppend(t, st, c, KindMoved, Moved{N: i})
		mustAppend(t, st, c, KindSpoke, Moved{N: 100}) // not a kind the projection lists
	}
	mustAppend(t, st, event.MustCoordinate("counter:3", "x"), KindMoved, Moved{N: 1000})

	got, err := batpak.Project[counter](bg, st, "counter:2", batpak.Consistent)
	if err != nil || got != (counter{Count: 4, Sum: 10}) {
		t.Fatalf("Project: %+v, %v; want 4 events summing to 10", got, err)
	}
	all, err := batpak.ProjectRegion[counter](bg, st, event.ForScope("x"), batpak.Consistent)
	if err != nil || all != (counter{Count: 5, Sum: 1010}) {
		t.Fatalf("ProjectRegion: %+v, %v; want both counters' 5 events summing to 1010", all, err)
	}

	ctx := s.waitCtx(t)
	w, err := batpak.WatchProjection[counter](st, "counter:2")
	if err != nil {
		t.Fatalf("WatchProjection: %v", err)
	}
	defer w.Close()
	u, err := w.Next(ctx)
	if err != nil || u.State != (counter{Count: 4, Sum: 10}) {
		t.Fatalf("watch's first state: %+v, %v", u.State, err)
	}
	r := mustAppend(t, st, c, KindMoved, Moved{N: 5})
	if u, err = w.Next(ctx); err != nil || u.State != (counter{Count: 5, Sum: 15}) || u.Watermark < r.Global {
		t.Fatalf("watch after an append at %d: %+v, %v", r.Global, u, err)
	}

	p, err := batpak.NewProjector(st)
	if err != nil {
		t.Fatalf("NewProjector: %v", err)
	}
	defer p.Close()
	live, err := projector.Register[counter](p, "", projector.Entity("counter:2"))
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	r = mustAppend(t, st, c, KindMoved, Moved{N: 6})
	if err := p.WaitApplied(ctx, "storetest-counter", r.Global); err != nil {
		t.Fatalf("WaitApplied(%d): %v", r.Global, err)
	}
	if u, err := live.Snapshot(ctx); err != nil || u.State != (counter{Count: 6, Sum: 21}) {
		t.Fatalf("live projection after WaitApplied: %+v, %v; want 6 events summing to 21", u.State, err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("projector Close: %v", err)
	}
}
