package vfs

import (
	"errors"
	"testing"
)

// Tests of the crash-point hook: Ops numbering, SetCrashAfter and the
// enumeration loop the store's crash tests are built on.

func TestOpsCountsMutatingOperations(t *testing.T) {
	m := NewMem()
	var f File
	steps := []struct {
		name   string
		do     func() error
		counts bool
	}{
		{"MkdirAll", func() error { return m.MkdirAll("/db") }, true},
		{"Create", func() (err error) { f, err = m.Create("/db/a"); return err }, true},
		{"WriteAt", func() error { _, err := f.WriteAt([]byte("x"), 0); return err }, true},
		{"ReadAt", func() error { _, err := f.ReadAt(make([]byte, 1), 0); return err }, false},
		{"Size", func() error { _, err := f.Size(); return err }, false},
		{"Sync", f2(&f, File.Sync), true},
		{"Truncate", func() error { return f.Truncate(0) }, true},
		{"SyncDir", func() error { return m.SyncDir("/db") }, true},
		{"List", func() error { _, err := m.List("/db"); return err }, false},
		{"Open", func() error { g, err := m.Open("/db/a"); g.Close(); return err }, false},
		{"Rename", func() error { return m.Rename("/db/a", "/db/b") }, true},
		{"LockCreatingItsFile", func() error { l, err := m.Lock("/db/LOCK"); l.Close(); return err }, true},
		{"LockOfExistingFile", func() error { l, err := m.Lock("/db/LOCK"); l.Close(); return err }, false},
		{"Remove", func() error { return m.Remove("/db/b") }, true},
		{"FailedRemove", func() error { m.Remove("/db/b"); return nil }, false},
		{"Close", f2(&f, File.Close), false},
	}
	for _, s := range steps {
		before := m.Ops()
		must(t, s.do())
		want := before
		if s.counts {
			want++
		}
		if got := m.Ops(); got != want {
			t.Fatalf("%s: Ops() went from %d to %d, want %d", s.name, before, got, want)
		}
	}
}

// f2 defers reading *f until the step runs.
func f2(f *File, method func(File) error) func() error {
	return func() error { return method(*f) }
}

func TestSetCrashAfterFreezesAtOpK(t *testing.T) {
	m := newDurableDB(t) // ops 1, 2
	f := mustCreate(t, m, "/db/log")
	must(t, m.SyncDir("/db"))
	base := m.Ops()

	var clones []*MemFS
	m.SetCrashAfter(base+2, CrashOptions{}, func(c *MemFS) { clones = append(clones, c) })
	mustWrite(t, f, 0, "acked")
	if len(clones) != 0 {
		t.Fatal("crashed one operation early")
	}
	must(t, f.Sync()) // op k itself succeeds
	if len(clones) != 1 || m.Crashed() != clones[0] {
		t.Fatalf("onCrash called %d times; Crashed() = %p", len(clones), m.Crashed())
	}

	_, err := f.WriteAt([]byte("lost"), 5)
	mustIs(t, err, ErrCrashed)
	_, err = f.ReadAt(make([]byte, 1), 0)
	mustIs(t, err, ErrCrashed)
	_, err = m.List("/db")
	mustIs(t, err, ErrCrashed)
	_, err = m.Lock("/db/LOCK")
	mustIs(t, err, ErrCrashed)
	mustIs(t, m.SyncDir("/db"), ErrCrashed)
	must(t, f.Close()) // shutting down still works
	if m.Ops() != base+2 {
		t.Fatalf("Ops() = %d after the crash, want %d", m.Ops(), base+2)
	}
	mustContain(t, clones[0], "/db/log", "acked")
	m.SetCrashAfter(0, CrashOptions{}, func(*MemFS) { t.Fatal("crashed twice") })
}

func TestSetCrashAfterPastPointCrashesAtOnce(t *testing.T) {
	m := newDurableDB(t)
	m.SetCrashAfter(0, CrashOptions{}, nil)
	if m.Crashed() == nil {
		t.Fatal("no crash")
	}
	mustList(t, m.Crashed(), "/", "db")
	mustIs(t, m.MkdirAll("/x"), ErrCrashed)
}

// TestCrashPointEnumerationFindsAckedData drives the enumeration the store's
// tests will run: a tiny log that acknowledges a record once its fsync (and,
// for a new file, the directory fsync) returned. At every crash point the
// acknowledged records must be in the clone, and an unsafe variant that
// skips the directory fsync must be caught at some point.
func TestCrashPointEnumerationFindsAckedData(t *testing.T) {
	records := []string{"r1;", "r2;", "r3;"}
	workload := func(m *MemFS, syncDir bool) (acked string) {
		if m.MkdirAll("/db") != nil || m.SyncDir("/") != nil {
			return ""
		}
		f, err := m.Create("/db/log")
		if err != nil {
			return ""
		}
		defer f.Close()
		if syncDir && m.SyncDir("/db") != nil {
			return ""
		}
		off := int64(0)
		for _, r := range records {
			if _, err := f.WriteAt([]byte(r), off); err != nil {
				return acked
			}
			if f.Sync() != nil {
				return acked
			}
			off += int64(len(r))
			acked += r
		}
		return acked
	}
	check := func(syncDir bool) (points, violations int) {
		full := NewMem()
		if got := workload(full, syncDir); got != "r1;r2;r3;" {
			t.Fatalf("uncrashed workload acknowledged %q", got)
		}
		for k := 0; k <= full.Ops(); k++ {
			m := NewMem()
			m.SetCrashAfter(k, CrashOptions{}, nil)
			acked := workload(m, syncDir)
			c := m.Crashed()
			if c == nil {
				t.Fatalf("k=%d: no crash", k)
			}
			points++
			got := ""
			if f, err := c.Open("/db/log"); err == nil {
				got = readFile(t, c, "/db/log")
				f.Close()
			}
			if len(got) < len(acked) || got[:len(acked)] != acked {
				violations++
			}
		}
		return points, violations
	}
	if points, v := check(true); v != 0 || points != 11 {
		t.Fatalf("safe log: %d violations over %d crash points, want 0 over 11", v, points)
	}
	if _, v := check(false); v == 0 {
		t.Fatal("a log that never syncs its directory lost nothing; the crash model is too kind")
	}
}

func TestMemCrashedErrorNamesOperation(t *testing.T) {
	m := NewMem()
	m.SetCrashAfter(0, CrashOptions{}, nil)
	err := m.Remove("/x")
	if !errors.Is(err, ErrCrashed) || err.Error() != "remove /x: vfs: file system crashed" {
		t.Fatalf("got %v", err)
	}
}
