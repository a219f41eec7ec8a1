package kinds

import (
	"testing"
)

// FuzzUnmarshalTable feeds hostile bytes to the decoder of the kind names
// a store keeps (seeds under testdata/fuzz, written by the corpus writer of
// internal/reliability): it never panics, and what it accepts encodes back
// to a table it accepts equal.
func FuzzUnmarshalTable(f *testing.F) {
	f.Add(MarshalTable(Table{0x1002: "player.moved"}))
	f.Add([]byte(`{"format": 1, "kinds": {"0x1002": "a", "0x1003": "a"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := UnmarshalTable(b)
		if err != nil {
			return
		}
		back, err := UnmarshalTable(MarshalTable(tab))
		if err != nil || len(back) != len(tab) {
			t.Fatalf("accepted %q, but its re-encoding fails: %v", b, err)
		}
		for k, n := range tab {
			if back[k] != n {
				t.Fatalf("kind %v: %q became %q", k, n, back[k])
			}
		}
	})
}
