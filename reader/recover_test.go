package reader_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/vfs"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const dir = "/store"

// entries recovers the store in fs and lists its index.
func entries(t *testing.T, fs *vfs.MemFS) ([]index.Entry, event.RecoveryReport) {
	t.Helper()
	rec, err := reader.Recover(reader.Options{FS: fs, Dir: dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Segments.Close()
	var out []index.Entry
	for e := range rec.Index.Query(event.AllEvents(), 0) {
		out = append(out, e)
	}
	return out, rec.Report
}

// TestPipelinedRecoveryEqualsSequential: decoding on a second goroutine
// while the index is filled builds the same index as doing both in turn,
// with and without footers.
func TestPipelinedRecoveryEqualsSequential(t *testing.T) {
	fs := vfs.NewMem()
	s, err := batpak.Open(dir, batpak.WithFS(fs), batpak.WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3000 {
		c := event.MustCoordinate(fmt.Sprintf("e%d", i%17), fmt.Sprintf("s%d", i%3))
		if _, err := s.AppendWithOptions(ctx, c, event.MustCustom(1, 1), make([]byte, 100+i%50),
			batpak.AppendOptions{IdempotencyKey: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fs.Remove(dir + "/" + reader.CheckpointFile); err != nil {
		t.Fatal(err)
	}
	restore := reader.SetPipelineMin(1 << 62)
	seq, rep1 := entries(t, fs)
	restore()
	defer reader.SetPipelineMin(0)()
	piped, rep2 := entries(t, fs)
	if len(seq) != 3000 || !reflect.DeepEqual(seq, piped) {
		t.Fatalf("pipelined recovery differs: %d vs %d entries", len(seq), len(piped))
	}
	if rep1.Footers == 0 || rep1.Footers != rep2.Footers {
		t.Fatalf("footers used: %d and %d", rep1.Footers, rep2.Footers)
	}
}
