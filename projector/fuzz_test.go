package projector

import (
	"testing"
	"time"
)

// FuzzDecodeFile feeds hostile bytes to the file cache's entry decoder: it
// never panics, and what it accepts re-encodes to the same bytes.
func FuzzDecodeFile(f *testing.F) {
	f.Add(encodeFile(Key{Name: "counter", Version: 2, Subject: "entity:c1"},
		Entry{State: []byte{1, 2, 3}, Watermark: 42, CachedAt: time.UnixMicro(1_700_000_000_000_000)}))
	f.Add([]byte("BPPCxx"))
	f.Fuzz(func(t *testing.T, in []byte) {
		e, k, err := decodeFile(in)
		if err == nil && string(encodeFile(k, e)) != string(in) {
			t.Fatalf("accepted bytes that do not re-encode: %x", in)
		}
	})
}
