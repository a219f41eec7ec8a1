package reliability_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// The store's durable workloads under the write-ordering auditor (C1, C5):
// every acknowledgement is checked against the auditor's model of what a
// power loss would leave at that instant, every rename must follow the
// fsync of its file, and every file the store relies on after Close, a
// cursor Ack or a snapshot must be durable, entries included.

// auditedWorkload runs appends, batches, rotations, on-write appends made
// durable by Sync, a compaction, durable cursor acks, a snapshot and a checkpointing
// Close on a store in dir, checking each acknowledgement with a. It
// returns how many acknowledgements it checked.
func auditedWorkload(t *testing.T, a *vfs.Auditor, dir, snapDir string, round int) int {
	t.Helper()
	s := openStore(t, dir, batpak.WithFS(a), batpak.WithSegmentSize(64<<10), batpak.WithSyncEvery(0, 0))
	checked := 0
	var all []batpak.Receipt
	ack := func(what string, rs ...batpak.Receipt) {
		t.Helper()
		all = append(all, rs...)
		for _, r := range rs {
			// The id is the event's identity on disk (16 bytes of its frame).
			_ = a.Acknowledge(fmt.Sprintf("round %d: %s, global %d", round, what, r.Global), r.ID[:])
			checked++
		}
	}
	a1, b1, c1 := coord(t, "a", "s"), coord(t, "b", "s"), coord(t, "c", "t")
	for i := range 30 {
		// Durable singles, padded so that segments fill and rotate.
		ack("durable append", mustAppend(t, s, a1, kindMoved, batchMark{Batch: -1, Of: 1, Pad: make([]byte, 3000)}))
		if i%3 == 0 {
			items := make([]batpak.BatchItem, 2+i%5)
			for j := range items {
				co := []batpak.Coordinate{a1, b1, c1}[j%3]
				items[j] = batpak.BatchItem{Coord: co, Kind: kindMarker, Payload: batchMark{Batch: round*100 + i, Item: j, Of: len(items), Pad: make([]byte, 1500)}}
			}
			rs, err := s.AppendBatch(bg, items)
			if err != nil {
				t.Fatal(err)
			}
			ack("batch", rs...)
		}
		if i%7 == 0 {
			// On-write appends are acknowledged as durable only by Sync.
			var pending []batpak.Receipt
			for range 3 {
				r, err := s.AppendWithOptions(bg, b1, kindMoved, payload{N: i}, batpak.AppendOptions{Durability: batpak.OnWrite})
				if err != nil {
					t.Fatal(err)
				}
				pending = append(pending, r)
			}
			if err := s.Sync(bg); err != nil {
				t.Fatal(err)
			}
			ack("on-write append after Sync", pending...)
		}
	}
	// Compaction merges the sealed segments into one (keeping every event,
	// with a target size above their total): each
	// acknowledged event must still be durable wherever it moved, and the
	// merged file synced before its rename.
	rep, err := s.Compact(bg, batpak.CompactOptions{TargetSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SegmentsRemoved == 0 {
		t.Fatalf("compaction removed no segment: %+v", rep)
	}
	ack("still durable after Compact", all...)
	// A durable cursor: each Ack must leave its position file durable.
	cur, err := s.DurableCursor("audit", event.AllEvents())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ev, err := cur.Next(bg)
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.Ack(bg, ev.Global); err != nil {
			t.Fatal(err)
		}
		_ = a.CheckDurable(filepath.Join(dir, "cursors", "audit"))
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	// A snapshot is relied on whole once Snapshot returns.
	if snapDir != "" {
		if _, err := s.Snapshot(bg, snapDir); err != nil {
			t.Fatal(err)
		}
		_ = a.CheckDurableTree(snapDir)
	}
	closeStore(t, s)
	// After Close (checkpoint, sequence mark, sealed segments) a power
	// loss must lose nothing.
	_ = a.CheckDurableTree(dir)
	return checked
}

func TestReliabilityWriteOrderingAudit(t *testing.T) {
	for _, fsys := range []string{"Mem", "OS"} {
		t.Run(fsys, func(t *testing.T) {
			var inner vfs.FS = vfs.NewMem()
			dir, snaps := memDir, "/snapshots"
			if fsys == "OS" {
				inner, dir, snaps = vfs.OS, filepath.Join(t.TempDir(), "db"), filepath.Join(t.TempDir(), "snapshots")
			}
			a := vfs.NewAuditor(inner, vfs.AuditOptions{
				OnViolation: func(v vfs.Violation) { t.Errorf("write-ordering violation: %v", v) },
				// The lock file holds no data and is recreated by every Open.
				Exempt: func(name string) bool { return filepath.Base(name) == "LOCK" },
			})
			checked := 0
			for round := range 2 { // the second round reopens: recovery from the checkpoint, then more writes
				checked += auditedWorkload(t, a, dir, filepath.Join(snaps, fmt.Sprint(round)), round)
			}
			c := a.Counts()
			if c.Acknowledgements != checked || c.Renames == 0 || c.DurableChecks == 0 {
				t.Fatalf("the audit checked too little: %+v", c)
			}
			if c.Violations != 0 || len(a.Violations()) != 0 {
				t.Fatalf("violations: %v", a.Err())
			}
			figure(t, "write-ordering audit (%s): acknowledgements checked %d, renames checked %d, fsyncs %d, durable-file checks %d; violations %d",
				fsys, c.Acknowledgements, c.Renames, c.Syncs, c.DurableChecks, c.Violations)
		})
	}
}

// TestReliabilityWriteOrderingAuditIsLive is the control of the test
// above: an on-write append is acknowledged before its fsync by design, so
// the same check must flag it, and must stop flagging it once Sync returns.
func TestReliabilityWriteOrderingAuditIsLive(t *testing.T) {
	a := vfs.NewAuditor(vfs.NewMem(), vfs.AuditOptions{})
	s := openStore(t, memDir, batpak.WithFS(a), batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0))
	r := mustAppend(t, s, coord(t, "a", "s"), kindMoved, payload{N: 1})
	err := a.Acknowledge("on-write append", r.ID[:])
	var v vfs.Violation
	if !errors.As(err, &v) || v.Kind != vfs.AckBeforeSync {
		t.Fatalf("an on-write acknowledgement checked as durable: got %v, want an AckBeforeSync violation", err)
	}
	if err := s.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if err := a.Acknowledge("on-write append after Sync", r.ID[:]); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
}
