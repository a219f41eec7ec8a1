package batpak

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

// writeVerifyStore writes 60 events over 3 entities plus a batch and closes.
func writeVerifyStore(t *testing.T) (string, []Receipt) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k := event.MustCustom(1, 1)
	var rs []Receipt
	for i := 0; i < 60; i++ {
		r, err := s.Append(ctx, event.MustCoordinate([]string{"a", "b", "c"}[i%3], "s"), k, i)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if _, err := s.AppendBatch(ctx, []BatchItem{{Coord: event.MustCoordinate("a", "s"), Kind: k, Payload: 1},
		{Coord: event.MustCoordinate("d", "s"), Kind: k, Payload: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, rs
}

func TestVerifyCleanStore(t *testing.T) {
	dir, _ := writeVerifyStore(t)
	rep, err := VerifyDir(context.Background(), dir, nil)
	if err != nil || !rep.OK() || rep.Events != 62 || rep.Entities != 4 || rep.ChainsVerified != 62 || rep.TornTail {
		t.Fatalf("%+v %v", rep, err)
	}
}

// TestVerifyFindsRewrittenEvent: an event rewritten with a valid CRC (so
// only the hash chain can tell) is reported at its offset.
func TestVerifyFindsRewrittenEvent(t *testing.T) {
	dir, rs := writeVerifyStore(t)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	target := rs[30]
	e, ok := s.idx.LookupID(target.ID)
	if err := s.Close(); err != nil || !ok {
		t.Fatal(err, ok)
	}
	path := filepath.Join(dir, segment.FileName(uint64(e.Segment)))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frame := data[e.Offset : e.Offset+e.Size]
	body, _, err := segment.ReadFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	body[len(body)-1] ^= 0x01 // alter the payload, then fix the CRC
	copy(frame, segment.AppendFrame(nil, body))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyDir(context.Background(), dir, nil)
	var ce *CorruptionError
	if err != nil || rep.OK() || !errors.Is(rep.Problem, ErrChainBroken) || !errors.As(rep.Problem, &ce) ||
		ce.Segment != uint64(e.Segment) || ce.Offset != int64(e.Offset) {
		t.Fatalf("report %+v, err %v", rep, err)
	}
}
