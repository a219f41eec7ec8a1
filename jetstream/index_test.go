package jetstream

import (
	"encoding/binary"
	"testing"

	"github.com/batpak-go/batpak/event"
)

func TestFindPair(t *testing.T) {
	var chunk []byte
	ids := make([]event.ID, 300)
	for i := range ids {
		ids[i] = event.NewID()
		chunk = append(chunk, ids[i][:]...)
		chunk = binary.AppendUvarint(chunk, uint64(i)*1000+1)
	}
	for i, id := range ids {
		if seq, ok := findPair(chunk, id); !ok || seq != uint64(i)*1000+1 {
			t.Fatalf("id %d: %d %v", i, seq, ok)
		}
	}
	if _, ok := findPair(chunk, event.NewID()); ok {
		t.Fatal("an unknown id was found")
	}
	if _, ok := findPair(chunk[:len(chunk)-1], ids[299]); ok {
		t.Fatal("a truncated pair was read")
	}
}
