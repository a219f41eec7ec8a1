package gatekeeper_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
)

// order is a gate context that records which gates looked at it.
type order struct {
	mu   sync.Mutex
	seen []string
	deny map[string]bool
}

func (o *order) saw() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.seen)
}

// recordingGate passes unless the context asks it to deny, and records
// that it ran.
func recordingGate(name string) gatekeeper.Gate[*order] {
	return gatekeeper.Gate[*order]{
		Name:        name,
		Description: "records that " + name + " ran",
		Check: func(o *order) *gatekeeper.Denial {
			o.mu.Lock()
			o.seen = append(o.seen, name)
			o.mu.Unlock()
			if o.deny[name] {
				return gatekeeper.Deny("no_"+name, name+" says no").With("gate", name)
			}
			return nil
		},
	}
}

func abcGates(t *testing.T) *gatekeeper.GateSet[*order] {
	t.Helper()
	s, err := gatekeeper.NewGateSet(recordingGate("a"), recordingGate("b"), recordingGate("c"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testCoord = event.MustCoordinate("vault:guild", "realm:eu")

const testKind = event.EventKind(0x1001)

func TestNewGateSetRefusesSetsThatCannotEnforce(t *testing.T) {
	ok := func(int) *gatekeeper.Denial { return nil }
	tests := []struct {
		name  string
		gates []gatekeeper.Gate[int]
	}{
		{"no gates", nil},
		{"nameless gate", []gatekeeper.Gate[int]{{Check: ok}}},
		{"gate without check", []gatekeeper.Gate[int]{{Name: "x"}}},
		{"duplicate name", []gatekeeper.Gate[int]{{Name: "x", Check: ok}, {Name: "x", Check: ok}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := gatekeeper.NewGateSet(tt.gates...)
			if !errors.Is(err, gatekeeper.ErrInvalidGateSet) || s != nil {
				t.Fatalf("NewGateSet = %v, %v; want nil, ErrInvalidGateSet", s, err)
			}
		})
	}
}

func TestEvaluateRunsGatesInOrderAndNamesThemInTheReceipt(t *testing.T) {
	s := abcGates(t)
	o := &order{}
	r, err := gatekeeper.Evaluate(s, o, gatekeeper.Propose(testCoord, testKind, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.saw(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("gates ran in order %v, want %v", got, want)
	}
	if got, want := r.Gates(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("receipt gates %v, want %v", got, want)
	}
	if got := s.Names(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Names() = %v", got)
	}
}

func TestEvaluateStopsAtTheFirstDenial(t *testing.T) {
	s := abcGates(t)
	o := &order{deny: map[string]bool{"b": true, "c": true}}
	r, err := gatekeeper.Evaluate(s, o, gatekeeper.Propose(testCoord, testKind, 1))
	var d *gatekeeper.Denial
	if !errors.As(err, &d) {
		t.Fatalf("Evaluate error %v, want a *Denial", err)
	}
	if d.Gate != "b" || d.Code != "no_b" {
		t.Errorf("denial from %q (%s), want b (no_b)", d.Gate, d.Code)
	}
	if got := o.saw(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("gates run %v, want [a b]: c must not run after b denied", got)
	}
	if !r.IsZero() {
		t.Error("a denied evaluation returned a non-zero receipt")
	}
}

func TestEvaluateAllReturnsEveryDenialInGateOrder(t *testing.T) {
	s := abcGates(t)
	o := &order{deny: map[string]bool{"a": true, "c": true}}
	ds := s.EvaluateAll(o)
	if got := o.saw(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("gates run %v, want all of them", got)
	}
	var gates []string
	for _, d := range ds {
		gates = append(gates, d.Gate)
	}
	if !slices.Equal(gates, []string{"a", "c"}) {
		t.Errorf("denials from %v, want [a c]", gates)
	}
	if ds := s.EvaluateAll(&order{}); ds != nil {
		t.Errorf("EvaluateAll on a passing context = %v, want nil", ds)
	}
}

func TestDenialCarriesCodeMessageAndOrderedContext(t *testing.T) {
	s := gatekeeper.MustGateSet(gatekeeper.Gate[int]{
		Name: "limit",
		Check: func(n int) *gatekeeper.Denial {
			return gatekeeper.Denyf("over_limit", "asked %d, limit is %d", n, 100).
				With("limit", 100).With("asked", n).With("limit", "dup")
		},
	})
	_, err := gatekeeper.Evaluate(s, 250, gatekeeper.Propose(testCoord, testKind, 250))
	if !errors.Is(err, gatekeeper.ErrDenied) {
		t.Fatalf("errors.Is(%v, ErrDenied) = false", err)
	}
	var d *gatekeeper.Denial
	errors.As(err, &d)
	want := []gatekeeper.Attr{{Key: "limit", Value: "100"}, {Key: "asked", Value: "250"}, {Key: "limit", Value: "dup"}}
	if !slices.Equal(d.Context, want) {
		t.Errorf("context %v, want %v", d.Context, want)
	}
	if v, ok := d.Lookup("limit"); !ok || v != "100" {
		t.Errorf(`Lookup("limit") = %q, %v; want the first value "100"`, v, ok)
	}
	if _, ok := d.Lookup("missing"); ok {
		t.Error(`Lookup("missing") found something`)
	}
	const msg = `gatekeeper: gate "limit" denied (over_limit): asked 250, limit is 100 [limit=100 asked=250 limit=dup]`
	if d.Error() != msg {
		t.Errorf("Error() =\n%s\nwant\n%s", d.Error(), msg)
	}
}

func TestGateCannotSpeakForAnotherGate(t *testing.T) {
	s := gatekeeper.MustGateSet(gatekeeper.Gate[int]{
		Name:  "honest",
		Check: func(int) *gatekeeper.Denial { return &gatekeeper.Denial{Gate: "impostor", Code: "x"} },
	})
	if d := s.EvaluateAll(0); len(d) != 1 || d[0].Gate != "honest" {
		t.Fatalf("denial attributed to %q, want the gate that returned it", d[0].Gate)
	}
}

// sharedDenial is the kind of package-level denial a gate may return; the
// gate set must never write to it.
var sharedDenial = gatekeeper.Deny("closed", "vault is closed").With("until", "dawn")

func TestSharedDenialIsNotMutatedByConcurrentEvaluations(t *testing.T) {
	s := gatekeeper.MustGateSet(gatekeeper.Gate[int]{
		Name:  "open-hours",
		Check: func(int) *gatekeeper.Denial { return sharedDenial },
	})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%2 == 0 {
				_, _ = gatekeeper.Evaluate(s, i, gatekeeper.Propose(testCoord, testKind, i))
			} else {
				for _, d := range s.EvaluateAll(i) {
					d.With("mine", i) // callers own what they get back
				}
			}
		})
	}
	wg.Wait()
	if sharedDenial.Gate != "" || len(sharedDenial.Context) != 1 {
		t.Fatalf("shared denial was modified: %+v", sharedDenial)
	}
}

func TestEvaluateFailsClosed(t *testing.T) {
	s := abcGates(t)
	if _, err := gatekeeper.Evaluate(s, &order{}, gatekeeper.Propose(event.Coordinate{}, testKind, 1)); !errors.Is(err, event.ErrInvalidCoordinate) {
		t.Errorf("zero coordinate: %v, want ErrInvalidCoordinate", err)
	}
	if _, err := gatekeeper.Evaluate[*order](nil, &order{}, gatekeeper.Propose(testCoord, testKind, 1)); !errors.Is(err, gatekeeper.ErrInvalidGateSet) {
		t.Errorf("nil set: %v, want ErrInvalidGateSet", err)
	}
}

func TestMustGateSetPanicsOnAnInvalidSet(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("MustGateSet() did not panic")
		}
	}()
	gatekeeper.MustGateSet[int]()
}

func TestGatesReturnsACopyWithDescriptions(t *testing.T) {
	s := abcGates(t)
	g := s.Gates()
	g[0].Name = "changed"
	if s.Names()[0] != "a" || s.Gates()[0].Description != "records that a ran" {
		t.Fatal("Gates() exposed the set's own slice")
	}
}
