package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// The checkpoint differential: the index restored from CHECKPOINT equals
// the one a full scan builds; a stale one is extended by the scan, a bad
// one ignored. The indexes are compared through reader.Recover (see
// indexview_test.go).

// randomWorkload appends singles and batches over random entities, with
// idempotency keys, small segments so it rotates.
func randomWorkload(t *testing.T, s *batpak.Store, seed uint64, n int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 1))
	k := event.MustCustom(1, 1)
	for i := 0; i < n; i++ {
		c := event.MustCoordinate(fmt.Sprintf("e%d", rng.IntN(20)), fmt.Sprintf("s%d", rng.IntN(3)))
		if rng.IntN(5) == 0 {
			items := make([]batpak.BatchItem, 1+rng.IntN(6))
			for j := range items {
				items[j] = batpak.BatchItem{Coord: c, Kind: k, Payload: make([]byte, rng.IntN(300))}
			}
			if _, err := s.AppendBatch(ctx, items); err != nil {
				t.Fatal(err)
			}
			continue
		}
		opts := batpak.AppendOptions{}
		if rng.IntN(4) == 0 {
			opts.IdempotencyKey = fmt.Sprintf("key-%d-%d", seed, i)
		}
		if _, err := s.AppendWithOptions(ctx, c, k, make([]byte, rng.IntN(300)), opts); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckpointEqualsFullScan(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		dir := t.TempDir()
		s, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
		if err != nil {
			t.Fatal(err)
		}
		randomWorkload(t, s, seed, 400)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		fromCkpt, rep := reopenView(t, dir)
		if !rep.Checkpoint {
			t.Fatalf("seed %d: checkpoint not used: %s", seed, rep)
		}
		if err := os.Remove(filepath.Join(dir, reader.CheckpointFile)); err != nil {
			t.Fatal(err)
		}
		fromScan, rep := reopenView(t, dir)
		if rep.Checkpoint {
			t.Fatal("scan path used a checkpoint")
		}
		if !reflect.DeepEqual(fromCkpt, fromScan) {
			t.Fatalf("seed %d: the index from the checkpoint differs from the scan's", seed)
		}
	}
}

// TestStaleCheckpointIsExtendedByScan: events appended after the
// checkpoint, then a crash (no new checkpoint), are found by scanning past
// its watermark.
func TestStaleCheckpointIsExtendedByScan(t *testing.T) {
	mem := vfs.NewMem()
	s, err := batpak.Open("/db", batpak.WithFS(mem), batpak.WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	randomWorkload(t, s, 7, 200)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = batpak.Open("/db", batpak.WithFS(mem), batpak.WithSegmentSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	randomWorkload(t, s, 8, 200) // durable appends: all synced
	crashed := mem.CrashClone(vfs.CrashOptions{})
	s.Close()

	withCkpt, rep := mustRecoverView(t, crashed.CrashClone(vfs.CrashOptions{}), "/db")
	if !rep.Checkpoint {
		t.Fatalf("stale checkpoint not used: %s", rep)
	}
	if err := crashed.Remove("/db/" + reader.CheckpointFile); err != nil {
		t.Fatal(err)
	}
	scanned, _ := mustRecoverView(t, crashed, "/db")
	if !reflect.DeepEqual(withCkpt, scanned) || len(scanned.Entries) < 400 {
		t.Fatalf("stale checkpoint + scan: %d events, full scan: %d", len(withCkpt.Entries), len(scanned.Entries))
	}
}

// TestBadCheckpointsFallBackToScan: a damaged checkpoint, and one whose
// watermark reaches past its segment, are ignored — the store opens with
// the index a full scan builds.
func TestBadCheckpointsFallBackToScan(t *testing.T) {
	damage := map[string]func(t *testing.T, dir string){
		"flipped byte": func(t *testing.T, dir string) {
			p := filepath.Join(dir, reader.CheckpointFile)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			os.WriteFile(p, b, 0o644)
		},
		"overreaching": func(t *testing.T, dir string) {
			// Cut the last segment's final event off behind the checkpoint's back.
			names, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			last := names[len(names)-1]
			b, _ := os.ReadFile(last)
			os.WriteFile(last, tornCut(b, len(b)-1), 0o644)
		},
		"foreign segment": func(t *testing.T, dir string) {
			names, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			last := names[len(names)-1]
			id, _ := segment.ParseFileName(filepath.Base(last))
			os.Rename(last, filepath.Join(dir, segment.FileName(id+5)))
		},
	}
	for name, hurt := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
			if err != nil {
				t.Fatal(err)
			}
			randomWorkload(t, s, 3, 150)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			hurt(t, dir)
			got, rep, err := recoverView(t, vfs.OS, copyDir(t, dir))
			if err != nil {
				rep = batpak.RecoveryReport{CheckpointIgnored: err.Error()}
			}
			if rep.Checkpoint || rep.CheckpointIgnored == "" {
				t.Fatalf("damaged checkpoint used: %s", rep)
			}
			if name == "foreign segment" {
				return // the store itself is now unopenable (a missing segment): refused, not guessed
			}
			os.Remove(filepath.Join(dir, reader.CheckpointFile))
			want, _ := reopenView(t, dir)
			if !reflect.DeepEqual(got, want) {
				t.Fatal("fallback index differs from a full scan")
			}
		})
	}
}
