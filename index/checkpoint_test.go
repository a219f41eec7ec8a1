package index

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/batpak-go/batpak/event"
)

// dump renders everything an index answers, for comparing two indexes.
func dump(x *Index) string {
	var out strings.Builder
	events, entities, scopes := x.Counts()
	fmt.Fprint(&out, events, entities, scopes)
	for e := range x.Query(event.AllEvents(), 0) {
		fmt.Fprintf(&out, "|%+v %s %s", e, x.EntityName(e.Entity), x.ScopeName(e.Scope))
	}
	for _, name := range x.Entities() {
		for e := range x.Query(event.ForEntity(name), 0) {
			fmt.Fprintf(&out, "|%s:%d", name, e.Global)
		}
	}
	for _, name := range x.Scopes() {
		for e := range x.Query(event.ForScope(name), 0) {
			fmt.Fprintf(&out, "|%s:%d", name, e.Global)
		}
	}
	for _, k := range []event.EventKind{kindA, kindB} {
		for e := range x.Query(event.AllEvents().WithKind(k), 0) {
			fmt.Fprintf(&out, "|k%d:%d", k, e.Global)
		}
	}
	return out.String()
}

func TestCheckpointRoundTrip(t *testing.T) {
	x := New()
	ps := fill(x, 0, 3*chunkLen+5)
	x.Publish([]Pending{{ID: event.NewID(), Entity: "keyed", Scope: "s0", IdemKey: "k1", Global: uint64(len(ps) + 1)}})
	w := Watermark{Segment: 1, Offset: 12345, LastGlobal: uint64(len(ps) + 1)}
	y, got, err := UnmarshalCheckpoint(x.MarshalCheckpoint(w))
	if err != nil || got != w {
		t.Fatalf("%v %+v", err, got)
	}
	if dump(x) != dump(y) {
		t.Fatal("restored index answers differently")
	}
	for _, p := range ps[:50] {
		a, _ := x.LookupID(p.ID)
		b, ok := y.LookupID(p.ID)
		if !ok || !reflect.DeepEqual(a, b) {
			t.Fatalf("id %v", p.ID)
		}
	}
	if e, ok := y.LookupKey("k1"); !ok || e.Global != uint64(len(ps)+1) {
		t.Fatal("idempotency key lost")
	}
}

// TestCheckpointRejectsDamage: every single-byte change and every
// truncation is refused with ErrBadCheckpoint, never a different index.
func TestCheckpointRejectsDamage(t *testing.T) {
	x := New()
	fill(x, 0, 40)
	b := x.MarshalCheckpoint(Watermark{Segment: 1, Offset: 100, LastGlobal: 40})
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x5A
		if _, _, err := UnmarshalCheckpoint(c); !errors.Is(err, ErrBadCheckpoint) {
			t.Fatalf("byte %d changed: %v", i, err)
		}
		if _, _, err := UnmarshalCheckpoint(b[:i]); !errors.Is(err, ErrBadCheckpoint) {
			t.Fatalf("cut at %d: %v", i, err)
		}
	}
}

func FuzzUnmarshalCheckpoint(f *testing.F) {
	x := New()
	fill(x, 0, 10)
	f.Add(x.MarshalCheckpoint(Watermark{Segment: 1, Offset: 10, LastGlobal: 10}))
	f.Fuzz(func(t *testing.T, b []byte) { _, _, _ = UnmarshalCheckpoint(b) })
}
