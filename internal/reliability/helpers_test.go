package reliability_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/internal/testkit"
	"github.com/batpak-go/batpak/segment"
)

// The helpers shared with the facade's tests (package internal/testkit),
// under the names the tests use; the reliability suite's own follow.
var (
	kindMoved       = testkit.KindMoved
	kindSpoke       = testkit.KindSpoke
	kindMarker      = testkit.KindMarker
	quiet           = testkit.Quiet
	errOpenPanicked = testkit.ErrOpenPanicked
	openStore       = testkit.OpenStore
	tryOpen         = testkit.TryOpen
	closeStore      = testkit.CloseStore
	coord           = testkit.Coord
	mustAppend      = testkit.MustAppend
	collect         = testkit.Collect
	all             = testkit.All
	checkLog        = testkit.CheckLog
	receiptMatches  = testkit.ReceiptMatches
	segmentFiles    = testkit.SegmentFiles
	readFile        = testkit.ReadFile
	writeFile       = testkit.WriteFile
	frames          = testkit.Frames
	batchCounts     = testkit.BatchCounts
)

type (
	frame     = testkit.Frame
	payload   = testkit.Payload
	batchMark = testkit.BatchMark
)

// bg is the context of calls that are not about cancellation.
var bg = context.Background()

// memDir is the store directory used on in-memory file systems.
const memDir = testkit.MemDir

// sameEvent reports the first difference between two reads of one event,
// or "" if they agree on everything stored.
func sameEvent(a, b *batpak.StoredEvent) string {
	switch {
	case a.ID != b.ID:
		return "id"
	case a.Global != b.Global:
		return "global"
	case a.Position != b.Position:
		return "position"
	case a.Coordinate != b.Coordinate:
		return "coordinate"
	case a.Kind != b.Kind:
		return "kind"
	case a.Correlation != b.Correlation || a.Causation != b.Causation:
		return "correlation/causation"
	case a.Timestamp != b.Timestamp || a.Flags != b.Flags:
		return "timestamp/flags"
	case a.Hash.Self != b.Hash.Self:
		return "hash"
	case a.IdempotencyKey != b.IdempotencyKey:
		return "idempotency key"
	case a.Codec != b.Codec || !bytes.Equal(a.Payload, b.Payload):
		return "payload"
	}
	return ""
}

// copyDir copies the regular files of src into a new directory under the
// test's temp dir (the lock file excluded) and returns it.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// committedBefore returns the ids of the events whose records lie wholly
// before cut and are committed there (a batch's events only once its
// COMMIT is before cut), and the offset just past the last committed record.
func committedBefore(fs []frame, cut int64) (map[batpak.ID]bool, int64) {
	got := map[batpak.ID]bool{}
	end := int64(segment.HeaderSize)
	var batch []batpak.ID
	inBatch := false
	for _, f := range fs {
		if f.End > cut {
			break
		}
		switch f.Typ {
		case segment.TypeBatchBegin:
			inBatch, batch = true, batch[:0]
		case segment.TypeEvent:
			if inBatch {
				batch = append(batch, f.ID)
				continue
			}
			got[f.ID] = true
			end = f.End
		case segment.TypeBatchCommit:
			for _, id := range batch {
				got[id] = true
			}
			inBatch = false
			end = f.End
		}
	}
	return got, end
}

// tornCut returns a segment's bytes cut at cut, as a crash would leave them
// if nothing past cut had been synced: the header's sync note is lowered to
// the last whole frame at or before the cut — an fsync covers whole writes,
// so a real note never falls inside a frame. (Cutting below the note models
// losing synced bytes, which the store reports as corruption.)
func tornCut(data []byte, cut int) []byte {
	out := append([]byte(nil), data[:cut]...)
	note, ok := segment.DecodeSyncNote(out)
	if !ok {
		return out
	}
	boundary := int64(segment.HeaderSize)
	for boundary < int64(cut) {
		_, size, err := segment.ReadFrame(data[boundary:])
		if err != nil || boundary+int64(size) > int64(cut) {
			break
		}
		boundary += int64(size)
	}
	if note > boundary {
		lowered := segment.EncodeSyncNote(boundary)
		copy(out[segment.SyncNoteOffset:], lowered[:])
	}
	return out
}

// ids returns the events' ids, in order.
func ids(evs []*batpak.StoredEvent) []batpak.ID {
	out := make([]batpak.ID, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}
