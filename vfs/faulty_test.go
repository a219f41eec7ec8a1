package vfs

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// faultyMem returns a FaultyFS over a MemFS with a durable /db and an open
// file /db/a.seg, and the MemFS to look behind the wrapper.
func faultyMem(t *testing.T) (*FaultyFS, *MemFS, File) {
	t.Helper()
	m := newDurableDB(t)
	ffs := NewFaulty(m)
	f := mustCreate(t, ffs, "/db/a.seg")
	must(t, ffs.SyncDir("/db"))
	return ffs, m, f
}

// syncPattern syncs f n times and returns which attempts failed (1-based).
func syncPattern(t *testing.T, f File, n int) []int {
	t.Helper()
	var failed []int
	for i := 1; i <= n; i++ {
		if err := f.Sync(); err != nil {
			mustIs(t, err, ErrInjected)
			failed = append(failed, i)
		}
	}
	return failed
}

func TestFaultyRuleModes(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
		want []int
	}{
		{"NthOnce", Rule{Op: OpSync, Nth: 3}, []int{3}},
		{"ZeroNthIsFirst", Rule{Op: OpSync}, []int{1}},
		{"PersistentFromNth", Rule{Op: OpSync, Nth: 3, Persistent: true}, []int{3, 4, 5, 6}},
		{"ProbabilityOneFromNth", Rule{Op: OpSync, Nth: 5, Probability: 1}, []int{5, 6}},
		{"OtherPathNeverFails", Rule{Op: OpSync, Path: ".idx", Persistent: true}, nil},
		{"MatchingPathFails", Rule{Op: OpSync, Path: ".seg", Nth: 2}, []int{2}},
		{"OtherOpNeverFails", Rule{Op: OpWrite, Persistent: true}, nil},
		{"AnyOpCountsEveryKind", Rule{Op: OpAny, Nth: 2}, []int{2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ffs, _, f := faultyMem(t)
			ffs.Inject(c.rule)
			got := syncPattern(t, f, 6)
			if !slices.Equal(got, c.want) {
				t.Fatalf("failed syncs %v, want %v", got, c.want)
			}
			if ffs.Injected() != len(c.want) {
				t.Fatalf("Injected() = %d, want %d", ffs.Injected(), len(c.want))
			}
		})
	}
}

func TestFaultyProbabilityIsDeterministicForSeed(t *testing.T) {
	pattern := func(seed uint64) []int {
		ffs, _, f := faultyMem(t)
		ffs.Inject(Rule{Op: OpSync, Probability: 0.3, Seed: seed})
		return syncPattern(t, f, 200)
	}
	first := pattern(9)
	if len(first) == 0 || len(first) == 200 {
		t.Fatalf("p=0.3 failed %d of 200 syncs", len(first))
	}
	if again := pattern(9); !slices.Equal(again, first) {
		t.Fatalf("same seed, different failures:\n%v\n%v", first, again)
	}
	if other := pattern(10); slices.Equal(other, first) {
		t.Fatal("seeds 9 and 10 failed the same 200 syncs")
	}
}

func TestFaultyFailedSyncLeavesDataUnsynced(t *testing.T) {
	ffs, m, f := faultyMem(t)
	ffs.Inject(Rule{Op: OpSync})
	mustWrite(t, f, 0, "data")
	mustIs(t, f.Sync(), ErrInjected)
	mustContain(t, m.CrashClone(CrashOptions{}), "/db/a.seg", "")
}

func TestFaultyShortWriteWritesHalfThenFails(t *testing.T) {
	for _, c := range []struct {
		name  string
		cause error
	}{
		{"DefaultIsErrShortWrite", nil},
		{"DiskFullMidWrite", syscall.ENOSPC},
	} {
		t.Run(c.name, func(t *testing.T) {
			ffs, m, f := faultyMem(t)
			mustWrite(t, f, 0, "head:")
			ffs.Inject(Rule{Op: OpWrite, Short: true, Err: c.cause})
			n, err := f.WriteAt([]byte("0123456789"), 5)
			if n != 5 {
				t.Fatalf("short write reported %d bytes, want 5", n)
			}
			mustIs(t, err, ErrInjected)
			if c.cause == nil {
				mustIs(t, err, io.ErrShortWrite)
			} else {
				mustIs(t, err, c.cause)
			}
			mustContain(t, m, "/db/a.seg", "head:01234")
		})
	}
}

func TestFaultyENOSPCIsBothSyscallErrorAndInjected(t *testing.T) {
	ffs, m, f := faultyMem(t)
	ffs.Inject(Rule{Op: OpWrite, Nth: 2, Persistent: true, Err: syscall.ENOSPC})
	mustWrite(t, f, 0, "fits")
	for range 3 {
		n, err := f.WriteAt([]byte("more"), 4)
		if n != 0 {
			t.Fatalf("a failed write wrote %d bytes", n)
		}
		mustIs(t, err, syscall.ENOSPC)
		mustIs(t, err, ErrInjected)
	}
	mustContain(t, m, "/db/a.seg", "fits")
}

// TestFaultyEveryOpKindFailsBeforeReachingInner checks each operation kind
// can be failed, with ErrInjected, and that the inner FS never saw it.
func TestFaultyEveryOpKindFailsBeforeReachingInner(t *testing.T) {
	cases := []struct {
		op    Op
		do    func(fsys FS, f File) error
		after func(t *testing.T, m *MemFS)
	}{
		{OpCreate, func(fsys FS, _ File) error { _, err := fsys.Create("/db/new"); return err },
			func(t *testing.T, m *MemFS) { mustNotExist(t, m, "/db/new") }},
		{OpOpen, func(fsys FS, _ File) error { _, err := fsys.Open("/db/a.seg"); return err }, nil},
		{OpOpen, func(fsys FS, _ File) error { _, err := fsys.OpenRW("/db/a.seg"); return err }, nil},
		{OpWrite, func(_ FS, f File) error { _, err := f.WriteAt([]byte("zz"), 0); return err },
			func(t *testing.T, m *MemFS) { mustContain(t, m, "/db/a.seg", "xy") }},
		{OpSync, func(_ FS, f File) error { return f.Sync() }, nil},
		{OpRead, func(_ FS, f File) error { _, err := f.ReadAt(make([]byte, 1), 0); return err }, nil},
		{OpRename, func(fsys FS, _ File) error { return fsys.Rename("/db/a.seg", "/db/b.seg") },
			func(t *testing.T, m *MemFS) { mustContain(t, m, "/db/a.seg", "xy") }},
		{OpRemove, func(fsys FS, _ File) error { return fsys.Remove("/db/a.seg") },
			func(t *testing.T, m *MemFS) { mustContain(t, m, "/db/a.seg", "xy") }},
		{OpSyncDir, func(fsys FS, _ File) error { return fsys.SyncDir("/db") }, nil},
		{OpTruncate, func(_ FS, f File) error { return f.Truncate(0) },
			func(t *testing.T, m *MemFS) { mustContain(t, m, "/db/a.seg", "xy") }},
		{OpMkdir, func(fsys FS, _ File) error { return fsys.MkdirAll("/db/sub") },
			func(t *testing.T, m *MemFS) { mustList(t, m, "/db", "a.seg") }},
		{OpList, func(fsys FS, _ File) error { _, err := fsys.List("/db"); return err }, nil},
		{OpLock, func(fsys FS, _ File) error { _, err := fsys.Lock("/db/LOCK"); return err },
			func(t *testing.T, m *MemFS) { mustList(t, m, "/db", "a.seg") }},
	}
	for _, c := range cases {
		t.Run(c.op.String(), func(t *testing.T) {
			ffs, m, f := faultyMem(t)
			mustWrite(t, f, 0, "xy")
			opsBefore := m.Ops()
			ffs.Inject(Rule{Op: c.op, Path: "/db"})
			err := c.do(ffs, f)
			mustIs(t, err, ErrInjected)
			if m.Ops() != opsBefore {
				t.Fatal("the failed operation reached the inner FS")
			}
			if c.after != nil {
				c.after(t, m)
			}
			// The rule was once-only: the same operation now goes through.
			must(t, c.do(ffs, f))
		})
	}
}

func TestFaultyCountsEachKind(t *testing.T) {
	ffs := NewFaulty(NewMem())
	must(t, ffs.MkdirAll("/db"))
	f, err := ffs.Create("/db/a")
	must(t, err)
	ffs.Inject(Rule{Op: OpSync, Persistent: true})
	mustWrite(t, f, 0, "x")
	mustWrite(t, f, 1, "y")
	f.Sync() // failed attempts count too
	f.Sync()
	f.Sync()
	must(t, f.Close())
	must(t, ffs.Rename("/db/a", "/db/b"))
	want := map[Op]int{OpMkdir: 1, OpCreate: 1, OpWrite: 2, OpSync: 3, OpRename: 1, OpAny: 8}
	for op := OpCreate; op <= OpAny; op++ {
		if got := ffs.Count(op); got != want[op] {
			t.Errorf("Count(%v) = %d, want %d", op, got, want[op])
		}
	}
	ffs.Reset()
	if ffs.Count(OpAny) != 0 || ffs.Injected() != 0 {
		t.Fatalf("after Reset: Count(OpAny) %d, Injected %d", ffs.Count(OpAny), ffs.Injected())
	}
	g, err := ffs.OpenRW("/db/b")
	must(t, err)
	defer g.Close()
	must(t, g.Sync()) // the persistent rule is gone
}

func TestFaultyRulesCountMatchesIndependently(t *testing.T) {
	ffs, _, f := faultyMem(t)
	ffs.Inject(Rule{Op: OpSync, Nth: 2})
	ffs.Inject(Rule{Op: OpSync, Nth: 2, Err: syscall.EIO}) // same op: shadowed, but still counting
	ffs.Inject(Rule{Op: OpSync, Nth: 3, Err: syscall.EIO})
	must(t, f.Sync())
	err := f.Sync()
	mustIs(t, err, ErrInjected)
	if errors.Is(err, syscall.EIO) {
		t.Fatalf("the second rule decided the error: %v", err)
	}
	mustIs(t, f.Sync(), syscall.EIO) // the third rule's Nth was not shifted
	must(t, f.Sync())
}

func TestFaultyRenameMatchesEitherPath(t *testing.T) {
	ffs, _, _ := faultyMem(t)
	ffs.Inject(Rule{Op: OpRename, Path: "CHECKPOINT", Persistent: true})
	writeFile(t, ffs, "/db/CHECKPOINT.tmp", "x")
	err := ffs.Rename("/db/CHECKPOINT.tmp", "/db/CHECKPOINT")
	mustIs(t, err, ErrInjected)
	must(t, ffs.Rename("/db/a.seg", "/db/b.seg"))
	mustIs(t, ffs.Rename("/db/b.seg", "/db/CHECKPOINT"), ErrInjected)
}

func TestFaultyInjectPanicsOnMeaninglessRule(t *testing.T) {
	for _, r := range []Rule{
		{},
		{Op: OpAny + 1},
		{Op: OpSync, Nth: -1},
		{Op: OpSync, Probability: 1.5},
		{Op: OpSync, Short: true},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Inject(%+v) did not panic", r)
				}
			}()
			NewFaulty(OS).Inject(r)
		}()
	}
}

func TestFaultyOverOSInjectsAndPassesThrough(t *testing.T) {
	dir := t.TempDir()
	ffs := NewFaulty(OS)
	ffs.Inject(Rule{Op: OpCreate, Nth: 1, Path: "bad"})
	_, err := ffs.Create(filepath.Join(dir, "bad"))
	mustIs(t, err, ErrInjected)
	mustList(t, OS, dir)
	writeFile(t, ffs, filepath.Join(dir, "good"), "ok")
	mustContain(t, OS, filepath.Join(dir, "good"), "ok")
}

func TestOpStringNamesEveryKind(t *testing.T) {
	seen := map[string]bool{}
	for op := OpCreate; op <= OpAny; op++ {
		s := op.String()
		if s == "" || seen[s] || s[0] == 'O' {
			t.Fatalf("Op %d has name %q", op, s)
		}
		seen[s] = true
	}
	if got := Op(0).String(); got != "Op(0)" {
		t.Fatalf("Op(0).String() = %q", got)
	}
}
