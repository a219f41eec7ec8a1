package reliability_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/vfs"
)

// The audited workload of audit_test.go runs one caller at a
// time and compacts before Close, which rewrites every sealed segment: it
// can miss a write the fsync actor makes to a segment the writer has
// already sealed (the actor works a group behind the writer only when
// several callers keep it busy), and compaction would replace that
// segment before Close anyway. This one keeps four writers appending
// through several rotations and closes without compacting, so every file
// the store wrote while busy must be durable after Close as it stands.

// concurrentAuditWriters is how many goroutines append at once.
const concurrentAuditWriters = 4

// concurrentAuditedWorkload runs concurrentAuditWriters goroutines of
// durable appends, atomic batches and on-write appends made durable by
// Sync on a store of 64 KiB segments in dir, acknowledging each receipt
// to a as it returns; then closes the store and checks the whole tree.
// It returns how many acknowledgements it checked.
func concurrentAuditedWorkload(t *testing.T, a *vfs.Auditor, dir string, round int) int {
	t.Helper()
	s := openStore(t, dir, batpak.WithFS(a), batpak.WithSegmentSize(64<<10), batpak.WithSyncEvery(0, 0))
	var (
		mu      sync.Mutex
		checked int
		wg      sync.WaitGroup
	)
	ack := func(what string, rs ...batpak.Receipt) {
		for _, r := range rs {
			// Acknowledge reports through OnViolation (t.Errorf).
			_ = a.Acknowledge(fmt.Sprintf("round %d: %s, global %d", round, what, r.Global), r.ID[:])
		}
		mu.Lock()
		checked += len(rs)
		mu.Unlock()
	}
	for w := range concurrentAuditWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := batpak.NewCoordinate(fmt.Sprintf("writer-%d", w), "audit")
			if !assert.NoError(t, err) {
				return
			}
			for i := range 40 {
				r, err := s.Append(bg, c, kindMoved, batchMark{Batch: -1, Of: 1, Pad: make([]byte, 1200)})
				if !assert.NoError(t, err) {
					return
				}
				ack("durable append", r)
				if i%4 == w%4 {
					items := make([]batpak.BatchItem, 2+i%3)
					for j := range items {
						items[j] = batpak.BatchItem{Coord: c, Kind: kindMarker,
							Payload: batchMark{Batch: round*1000 + w*100 + i, Item: j, Of: len(items), Pad: make([]byte, 700)}}
					}
					rs, err := s.AppendBatch(bg, items)
					if !assert.NoError(t, err) {
						return
					}
					ack("batch", rs...)
				}
				if i%10 == w {
					r, err := s.AppendWithOptions(bg, c, kindMoved, payload{N: i}, batpak.AppendOptions{Durability: batpak.OnWrite})
					if !assert.NoError(t, err) {
						return
					}
					if !assert.NoError(t, s.Sync(bg)) {
						return
					}
					ack("on-write append after Sync", r)
				}
			}
		}()
	}
	wg.Wait()
	segs := len(segmentFiles(t, a, dir))
	closeStore(t, s)
	// No compaction: the segments sealed by rotation while the writers were
	// busy are on disk as the store left them, and must all be durable.
	_ = a.CheckDurableTree(dir)
	require.Greater(t, segs, 4, "the workload must rotate through several segments")
	return checked
}

func TestReliabilityWriteOrderingAuditConcurrent(t *testing.T) {
	for _, fsys := range []string{"Mem", "OS"} {
		t.Run(fsys, func(t *testing.T) {
			var inner vfs.FS = vfs.NewMem()
			dir := memDir
			if fsys == "OS" {
				inner, dir = vfs.OS, filepath.Join(t.TempDir(), "db")
			}
			a := vfs.NewAuditor(inner, vfs.AuditOptions{
				OnViolation: func(v vfs.Violation) { t.Errorf("write-ordering violation: %v", v) },
				Exempt:      func(name string) bool { return filepath.Base(name) == "LOCK" },
			})
			checked := 0
			for round := range 2 { // the second round reopens and continues the last segment
				checked += concurrentAuditedWorkload(t, a, dir, round)
			}
			c := a.Counts()
			assert.Equal(t, checked, c.Acknowledgements)
			assert.Positive(t, c.DurableChecks)
			require.NoError(t, a.Err())
			figure(t, "concurrent write-ordering audit (%s): acknowledgements checked %d, fsyncs %d, durable-file checks %d; violations %d",
				fsys, c.Acknowledgements, c.Syncs, c.DurableChecks, c.Violations)
		})
	}
}
