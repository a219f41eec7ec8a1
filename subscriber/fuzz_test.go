package subscriber

import "testing"

// FuzzDecodePosition feeds hostile bytes to the durable cursor file decoder:
// it never panics, and what it accepts re-encodes to the same bytes.
func FuzzDecodePosition(f *testing.F) {
	b := encodePosition(12345)
	f.Add(b[:])
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pos, err := decodePosition(in)
		if err == nil {
			if again := encodePosition(pos); string(again[:]) != string(in) {
				t.Fatalf("accepted bytes that do not re-encode: %x", in)
			}
		}
	})
}
