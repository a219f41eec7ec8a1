package reliability_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// The I/O-error loop (C5): the fixed crash workload (singles and batches
// filling 64 KiB segments, a checkpoint on Close) runs once per fault. Each
// fault fails the n-th operation of one kind, once or from then on, for
// every n the workload reaches; writes also fail short (torn) and with
// ENOSPC. fault_test.go has the hand-picked cases with their exact
// messages; this loop covers every operation.
//
// Each case checks: the store fails cleanly (an error, no panic, no hang);
// a write or fsync failure stops all writes with ErrFailStop and nothing
// more is written; no fsync is retried after a failed one (the auditor
// between the store and the faulty file system flags it); and on a healthy
// file system, both as the disk is and as a power loss right after would
// leave it, every acknowledged event is there (acknowledged ⊆ recovered),
// nothing partial, nothing beyond the one operation that failed (no
// ghost), no sequence reused.

// ioFaultKinds are the operation kinds the loop fails, mutating first.
var ioFaultKinds = []vfs.Op{
	vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpRemove,
	vfs.OpSyncDir, vfs.OpTruncate, vfs.OpMkdir, vfs.OpLock, vfs.OpOpen, vfs.OpRead,
}

type ioCase struct {
	name string
	rule vfs.Rule
}

// ioFigures are the loop's counts.
type ioFigures struct {
	cases, refusedAtOpen, failStopped, closeFailed, tolerated int
	violations                                                map[string]int
}

func TestReliabilityIOErrorLoop(t *testing.T) {
	const pad = 6000
	opts := []batpak.Option{batpak.WithSegmentSize(64 << 10), quiet}

	// Learn how many operations of each kind the workload performs.
	dry := vfs.NewFaulty(vfs.NewMem())
	if _, _, err := ioSessions(t, vfs.NewAuditor(dry, vfs.AuditOptions{}), dry, 0, pad, opts, &ioFigures{}); err != nil || dry.Injected() != 0 {
		t.Fatalf("the workload failed without faults: %v", err)
	}
	counts := map[vfs.Op]int{}
	for _, k := range ioFaultKinds {
		counts[k] = dry.Count(k)
	}

	// Every n of every kind (kinds met more than 40 times would be sampled,
	// every third n, outside long mode; the workload has none so far).
	var cases []ioCase
	for _, k := range ioFaultKinds {
		step := 1
		if counts[k] > 40 && !reliabilityLong() {
			step = 3
		}
		for n := 1; n <= counts[k]; n += step {
			cases = append(cases,
				ioCase{fmt.Sprintf("%v#%d-once", k, n), vfs.Rule{Op: k, Nth: n}},
				ioCase{fmt.Sprintf("%v#%d-persistent", k, n), vfs.Rule{Op: k, Nth: n, Persistent: true}})
			if k == vfs.OpWrite {
				cases = append(cases,
					ioCase{fmt.Sprintf("write#%d-short", n), vfs.Rule{Op: k, Nth: n, Short: true}},
					ioCase{fmt.Sprintf("write#%d-enospc", n), vfs.Rule{Op: k, Nth: n, Persistent: true, Err: syscall.ENOSPC}})
			}
		}
	}

	// Long mode adds seeded random faults: any operation fails with
	// probability 2% (at most one kind of failure decides the outcome, the
	// first; later ones may hit the shutdown and the recovery).
	if reliabilityLong() {
		for seed := range uint64(100) {
			cases = append(cases, ioCase{fmt.Sprintf("any-2%%-seed%d", seed), vfs.Rule{Op: vfs.OpAny, Probability: 0.02, Seed: seed}})
		}
	}

	fig := ioFigures{violations: map[string]int{}}
	for _, c := range cases {
		if err := ioErrorCase(t, c, pad, opts, &fig); err != nil {
			kind, _, _ := strings.Cut(err.Error(), ":")
			fig.violations[kind]++
			if n := len(fig.violations); fig.violations[kind] <= 3 && n <= 5 {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	}
	total := 0
	for _, n := range fig.violations {
		total += n
	}
	figure(t, "I/O-error loop: %d cases over %d operations (%v); refused at Open %d, fail-stopped %d, Close failed %d, tolerated %d; violations %d %v",
		fig.cases, sumCounts(counts), counts, fig.refusedAtOpen, fig.failStopped, fig.closeFailed, fig.tolerated, total, fig.violations)
}

func sumCounts(m map[vfs.Op]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// ioErrorCase runs the workload with one fault and checks the outcome. The
// returned error starts with the violation's kind.
func ioErrorCase(t *testing.T, c ioCase, pad int, opts []batpak.Option, fig *ioFigures) error {
	t.Helper()
	fig.cases++
	mem := vfs.NewMem()
	faulty := vfs.NewFaulty(mem)
	faulty.Inject(c.rule)
	audit := vfs.NewAuditor(faulty, vfs.AuditOptions{FailFast: true})

	acked, batches, err := ioSessions(t, audit, faulty, c.rule.Op, pad, opts, fig)
	if err != nil {
		return err
	}
	for _, v := range audit.Violations() {
		return fmt.Errorf("fsync retried: %v", v)
	}
	// On a healthy disk, as it is, and as a power loss would leave it.
	if err := ioRecovered(t, mem.CrashClone(vfs.CrashOptions{}), acked, batches, opts); err != nil {
		return fmt.Errorf("%w (after a power loss)", err)
	}
	return ioRecovered(t, mem, acked, batches, opts)
}

// ioSessions runs the workload on fs in two sessions: the crash workload
// on a new store, then a reopen (recovery from the checkpoint, so reads),
// a batch and a single. It stops at the first failure, checks that it was
// a clean one, and returns what was acknowledged.
func ioSessions(t *testing.T, fs vfs.FS, faulty *vfs.FaultyFS, op vfs.Op, pad int, opts []batpak.Option, fig *ioFigures) (acked []batpak.Receipt, batches map[int]bool, _ error) {
	t.Helper()
	for session := range 2 {
		s, err := tryOpen(memDir, append(slices.Clone(opts), batpak.WithFS(fs))...)
		switch {
		case errors.Is(err, errOpenPanicked):
			return nil, nil, fmt.Errorf("panic: Open: %w", err)
		case err != nil:
			if !errors.Is(err, vfs.ErrInjected) {
				return nil, nil, fmt.Errorf("wrong error: Open failed with a non-injected error: %w", err)
			}
			fig.refusedAtOpen++
			return acked, batches, nil
		}
		if session == 0 {
			acked, batches, err = crashWorkload(t, s, pad)
		} else {
			var more []batpak.Receipt
			more, err = s.AppendBatch(bg, []batpak.BatchItem{
				{Coord: coord(t, "a", "s"), Kind: kindMarker, Payload: batchMark{Batch: 200, Item: 0, Of: 2}},
				{Coord: coord(t, "d", "s"), Kind: kindMarker, Payload: batchMark{Batch: 200, Item: 1, Of: 2}},
			})
			if err == nil {
				acked, batches[200] = append(acked, more...), true
				var r batpak.Receipt
				if r, err = s.Append(bg, coord(t, "d", "s"), kindMoved, batchMark{Batch: -1, Of: 1}); err == nil {
					acked = append(acked, r)
				}
			}
		}
		if err != nil {
			if !errors.Is(err, batpak.ErrFailStop) && op != vfs.OpRead && op != vfs.OpOpen && op != vfs.OpAny {
				_ = s.Close()
				return nil, nil, fmt.Errorf("not fail-stop: a write met %v and returned %w", op, err)
			}
			if errors.Is(err, batpak.ErrFailStop) {
				fig.failStopped++
				// Every later write is refused, and touches nothing.
				ops := faulty.Count(vfs.OpWrite) + faulty.Count(vfs.OpSync) + faulty.Count(vfs.OpSyncDir)
				if _, err := s.Append(bg, coord(t, "a", "s"), kindMoved, payload{}); !errors.Is(err, batpak.ErrFailStop) {
					_ = s.Close()
					return nil, nil, fmt.Errorf("not fail-stop: an append after the failure returned %v", err)
				}
				if got := faulty.Count(vfs.OpWrite) + faulty.Count(vfs.OpSync) + faulty.Count(vfs.OpSyncDir); got != ops {
					_ = s.Close()
					return nil, nil, fmt.Errorf("write after fail-stop: the refused append ran %d writes or fsyncs", got-ops)
				}
			}
			_ = s.Close()
			return acked, batches, nil
		}
		if err := s.Close(); err != nil {
			fig.closeFailed++
			return acked, batches, nil
		}
	}
	fig.tolerated++ // the fault hit something the store may ignore (a leftover's removal)
	return acked, batches, nil
}

// ioRecovered checks a healthy file system after a faulty run: the crash
// image checks (acknowledged ⊆ recovered, batches whole, log consistent,
// no sequence reused) and no ghost: the events not acknowledged are those
// of at most one operation, the one that failed, after all acknowledged.
func ioRecovered(t *testing.T, fs vfs.FS, acked []batpak.Receipt, batches map[int]bool, opts []batpak.Option) error {
	t.Helper()
	s, err := tryOpen(memDir, append(slices.Clone(opts), batpak.WithFS(fs))...)
	if err != nil {
		return fmt.Errorf("refused: reopening on a healthy file system: %w", err)
	}
	var evs []*batpak.StoredEvent
	for ev, err := range s.Query(bg, event.AllEvents()) {
		if err != nil {
			_ = s.Close()
			return fmt.Errorf("corrupt: reading the recovered log: %w", err)
		}
		evs = append(evs, ev)
	}
	_ = s.Close()
	ackedIDs := map[batpak.ID]bool{}
	var lastAcked uint64
	for _, r := range acked {
		ackedIDs[r.ID] = true
		lastAcked = max(lastAcked, r.Global)
	}
	op := -2 // the batch number of the unacknowledged operation; -1 a single
	extra := 0
	for _, ev := range evs {
		if ackedIDs[ev.ID] {
			continue
		}
		extra++
		m, err := batpak.Decode[batchMark](ev)
		if err != nil {
			return fmt.Errorf("ghost: unacknowledged event %d is not the workload's: %v", ev.Global, err)
		}
		switch {
		case ev.Global < lastAcked:
			return fmt.Errorf("ghost: unacknowledged event %d before acknowledged %d", ev.Global, lastAcked)
		case op != -2 && (m.Batch != op || op == -1):
			return fmt.Errorf("ghost: unacknowledged events of two operations (%d and %d)", op, m.Batch)
		}
		op = m.Batch
	}
	if extra > 20 {
		return fmt.Errorf("ghost: %d unacknowledged events", extra)
	}
	return checkCrashImage(t, fs, acked, batches, opts...)
}
