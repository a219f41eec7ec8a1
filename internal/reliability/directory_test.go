package reliability_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/vfs"
)

// Directory durability (C1): a crash after a segment create or a
// CHECKPOINT rename, before the directory fsync that makes it durable.

// dirOp is one recorded directory-changing operation and the MemFS op
// count right after it.
type dirOp struct {
	op, name string
	after    int
}

// recordingFS is a MemFS that records creates, renames and directory
// syncs with the op count at which they completed.
type recordingFS struct {
	*vfs.MemFS
	log *[]dirOp
}

func (r recordingFS) note(op, name string, err error) {
	if err == nil {
		*r.log = append(*r.log, dirOp{op, name, r.MemFS.Ops()})
	}
}

func (r recordingFS) Create(name string) (vfs.File, error) {
	f, err := r.MemFS.Create(name)
	r.note("create", name, err)
	return f, err
}

func (r recordingFS) Rename(oldname, newname string) error {
	err := r.MemFS.Rename(oldname, newname)
	r.note("rename", newname, err)
	return err
}

func (r recordingFS) SyncDir(dir string) error {
	err := r.MemFS.SyncDir(dir)
	r.note("syncdir", dir, err)
	return err
}

// TestReliabilityDirectoryDurability crashes right after each segment
// create of a rotating workload and after the CHECKPOINT rename of Close —
// before the directory fsync that makes them durable — and at every
// operation up to that fsync. Every acknowledged event must be found on
// reopening (C1), and no batch partly (C2).
func TestReliabilityDirectoryDurability(t *testing.T) {
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10)}
	run := func(mem *vfs.MemFS, log *[]dirOp) (acked []batpak.Receipt, batches map[int]bool) {
		fs := recordingFS{mem, log}
		s, err := tryOpen(memDir, append(opts, batpak.WithFS(fs))...)
		if err != nil {
			return nil, nil
		}
		acked, batches, _ = crashWorkload(t, s, 6000)
		_ = s.Close()
		return acked, batches
	}
	// Learn where the creates and renames happen.
	var log []dirOp
	dry := vfs.NewMem()
	if acked, _ := run(dry, &log); len(acked) == 0 {
		t.Fatal("the workload acknowledged nothing on a healthy file system")
	}
	total := dry.Ops()
	// Windows: from just after a create/rename of interest to the next
	// directory sync of the store's directory.
	type window struct {
		what     string
		from, to int
	}
	var windows []window
	creates, renames := 0, 0
	for i, op := range log {
		interesting := (op.op == "create" && strings.HasSuffix(op.name, ".seg")) ||
			(op.op == "rename" && filepath.Base(op.name) == reader.CheckpointFile)
		if !interesting {
			continue
		}
		to := total
		for _, later := range log[i+1:] {
			if later.op == "syncdir" && filepath.Clean(later.name) == filepath.Clean(memDir) {
				to = later.after
				break
			}
		}
		if op.op == "create" {
			creates++
		} else {
			renames++
		}
		windows = append(windows, window{fmt.Sprintf("%s %s", op.op, filepath.Base(op.name)), op.after, to})
	}
	if creates < 2 || renames < 1 {
		t.Fatalf("workload did %d segment creates and %d checkpoint renames; want a rotation and a checkpoint: %+v", creates, renames, log)
	}
	for _, w := range windows {
		t.Logf("window: crash after each op %d..%d (%s up to the directory fsync), of %d", w.from, w.to, w.what, total)
	}
	modes := []vfs.CrashOptions{{}, {KeepUnsyncedFraction: 1}}
	if reliabilityLong() {
		// Partial write-back of what was not synced, in 64-byte blocks.
		for seed := range uint64(20) {
			modes = append(modes, vfs.CrashOptions{KeepUnsyncedFraction: 0.5, Seed: seed, BlockSize: 64})
		}
	}
	points, violations := 0, 0
	for _, w := range windows {
		for k := w.from; k <= w.to; k++ {
			for _, mode := range modes {
				mem := vfs.NewMem()
				mem.SetCrashAfter(k, mode, nil)
				var discard []dirOp
				acked, batches := run(mem, &discard)
				img := mem.Crashed()
				if img == nil {
					t.Fatalf("crash after op %d (%s) did not happen", k, w.what)
				}
				points++
				if err := checkCrashImage(t, img, acked, batches, opts...); err != nil {
					violations++
					if violations <= 5 {
						t.Errorf("crash after op %d (window of %s, keep=%v): %v", k, w.what, mode.KeepUnsyncedFraction, err)
					}
				}
			}
		}
	}
	figure(t, "directory durability: %d segment creates and %d checkpoint renames; crash points exercised %d (ops from each to its directory fsync × %d crash modes); violations %d",
		creates, renames, points, len(modes), violations)
}
