package gatekeeper_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
)

var incident = gatekeeper.BypassReason{
	Reason:        "incident-response",
	Justification: "INC-4711: refund a double charge",
	By:            "ops:alice",
}

func TestBypassIsRecordedOnTheLogWithItsReason(t *testing.T) {
	store := newFakeStore()
	w := withdrawal{Member: "carol", Amount: 500} // the limit gate would deny this
	if _, err := gatekeeper.Evaluate(withdrawGates, w, gatekeeper.Propose(testCoord, testKind, w)); err == nil {
		t.Fatal("precondition: the limit gate should deny")
	}
	r, err := gatekeeper.Bypass(withdrawGates, gatekeeper.Propose(testCoord, testKind, w), incident)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := r.Bypass(); !ok || b.By != "ops:alice" || r.Gates() != nil {
		t.Fatalf("bypass receipt: %+v %v, gates %v", b, ok, r.Gates())
	}
	c, err := gatekeeper.Commit(t.Context(), store, r)
	if err != nil {
		t.Fatal(err)
	}
	want := gatekeeper.BypassRecord{
		Reason:        "incident-response",
		Justification: "INC-4711: refund a double charge",
		By:            "ops:alice",
		GatesSkipped:  []string{"positive", "limit"},
	}
	check := func(where string, a gatekeeper.Audit) {
		t.Helper()
		if !a.Bypassed() || a.Gates != nil {
			t.Fatalf("%s: audit %+v is not a bypass", where, a)
		}
		b := *a.Bypass
		if b.Reason != want.Reason || b.Justification != want.Justification || b.By != want.By ||
			!slices.Equal(b.GatesSkipped, want.GatesSkipped) {
			t.Errorf("%s: bypass %+v, want %+v", where, b, want)
		}
	}
	check("Committed", c.Audit)
	e := store.all()[0]
	a, err := gatekeeper.ReadAudit(e)
	if err != nil {
		t.Fatal(err)
	}
	check("ReadAudit", a)
	got, a, err := gatekeeper.Decode[withdrawal](e)
	if err != nil || got != w {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	check("Decode", a)
}

func TestBypassNeedsEveryPartOfItsReason(t *testing.T) {
	tests := []struct {
		name string
		why  gatekeeper.BypassReason
	}{
		{"no reason", gatekeeper.BypassReason{Justification: "j", By: "b"}},
		{"no justification", gatekeeper.BypassReason{Reason: "r", By: "b"}},
		{"nobody", gatekeeper.BypassReason{Reason: "r", Justification: "j"}},
		{"nothing", gatekeeper.BypassReason{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := gatekeeper.Bypass(withdrawGates, gatekeeper.Propose(testCoord, testKind, withdrawal{}), tt.why)
			if !errors.Is(err, gatekeeper.ErrUnjustifiedBypass) || !r.IsZero() {
				t.Fatalf("Bypass = %v, %v; want a zero receipt and ErrUnjustifiedBypass", r, err)
			}
		})
	}
	if _, err := gatekeeper.Bypass[withdrawal](nil, gatekeeper.Propose(testCoord, testKind, withdrawal{}), incident); !errors.Is(err, gatekeeper.ErrInvalidGateSet) {
		t.Errorf("Bypass(nil set) = %v", err)
	}
	if _, err := gatekeeper.Bypass(withdrawGates, gatekeeper.Propose(event.Coordinate{}, testKind, withdrawal{}), incident); !errors.Is(err, event.ErrInvalidCoordinate) {
		t.Errorf("Bypass(zero coordinate) = %v", err)
	}
}

func TestBypassReceiptIsUsedOnce(t *testing.T) {
	store := newFakeStore()
	r, _ := gatekeeper.Bypass(withdrawGates, gatekeeper.Propose(testCoord, testKind, withdrawal{}), incident)
	if _, err := gatekeeper.Commit(t.Context(), store, r); err != nil {
		t.Fatal(err)
	}
	if _, err := gatekeeper.Commit(t.Context(), store, r); !errors.Is(err, gatekeeper.ErrReceiptSpent) {
		t.Fatalf("second Commit of a bypass = %v", err)
	}
}

func storedAs(t *testing.T, codec event.Codec, v any) *event.StoredEvent {
	t.Helper()
	b, c, err := event.Encode(codec, v)
	if err != nil {
		t.Fatal(err)
	}
	return &event.StoredEvent{Codec: c, Payload: b}
}

func TestReadAuditRefusesEventsNotCommittedThroughGatekeeper(t *testing.T) {
	tests := []struct {
		name string
		e    *event.StoredEvent
	}{
		{"plain struct", storedAs(t, event.CodecMsgPack, withdrawal{Member: "x", Amount: 1})},
		{"scalar", storedAs(t, event.CodecMsgPack, 42)},
		{"raw bytes", storedAs(t, event.CodecMsgPack, []byte("hello"))},
		{"json object", storedAs(t, event.CodecJSON, map[string]int{"amount": 1})},
		{"newer version", storedAs(t, event.CodecMsgPack, map[string]any{"gatekeeper": 9, "payload": 1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := gatekeeper.ReadAudit(tt.e); !errors.Is(err, gatekeeper.ErrNotEnvelope) {
				t.Errorf("ReadAudit = %v, want ErrNotEnvelope", err)
			}
			if _, _, err := gatekeeper.Decode[withdrawal](tt.e); !errors.Is(err, gatekeeper.ErrNotEnvelope) {
				t.Errorf("Decode = %v, want ErrNotEnvelope", err)
			}
		})
	}
}

func TestEnvelopeReadsTheSameUnderTheJSONCodec(t *testing.T) {
	w := withdrawal{Member: "dan", Amount: 3}
	env := gatekeeper.Envelope[withdrawal]{
		Version: gatekeeper.EnvelopeVersion,
		Payload: w,
		Bypass:  &gatekeeper.BypassRecord{Reason: "r", Justification: "j", By: "b", GatesSkipped: []string{"g"}},
	}
	e := storedAs(t, event.CodecJSON, env)
	got, a, err := gatekeeper.Decode[withdrawal](e)
	if err != nil || got != w || a.Bypass == nil || a.Bypass.By != "b" {
		t.Fatalf("Decode(json) = %+v, %+v, %v", got, a, err)
	}
	// The keys are the documented ones, not Go field names.
	const want = `{"gatekeeper":1,"payload":{"Member":"dan","Amount":3},"bypass":{"reason":"r","justification":"j","by":"b","gates_skipped":["g"]}}`
	if string(e.Payload) != want {
		t.Errorf("JSON envelope\n%s\nwant\n%s", e.Payload, want)
	}
}

func TestMsgPackEnvelopeUsesTheDocumentedKeys(t *testing.T) {
	store := newFakeStore()
	if _, err := gatekeeper.Commit(t.Context(), store, evaluated(t, withdrawal{Amount: 1})); err != nil {
		t.Fatal(err)
	}
	// Decode the stored bytes generically, as a reader without this package would.
	var m map[string]any
	if err := store.all()[0].Decode(&m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"gatekeeper", "payload", "gates"} {
		if _, ok := m[k]; !ok {
			t.Errorf("envelope lacks key %q: %v", k, m)
		}
	}
	if _, ok := m["bypass"]; ok {
		t.Errorf("a gated commit carries a bypass key: %v", m)
	}
}
