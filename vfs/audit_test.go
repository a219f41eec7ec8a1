package vfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// auditRoots runs a test on an Auditor over a MemFS and over the real file
// system, with a directory that exists (durably) before the audit starts.
func auditRoots(t *testing.T, opts AuditOptions, test func(t *testing.T, a *Auditor, inner FS, dir string)) {
	t.Run("Mem", func(t *testing.T) {
		mem := NewMem()
		must(t, mem.MkdirAll("/base"))
		must(t, mem.SyncDir("/"))
		test(t, NewAuditor(mem, opts), mem, "/base")
	})
	t.Run("OS", func(t *testing.T) {
		test(t, NewAuditor(OS, opts), OS, t.TempDir())
	})
}

// mustViolate checks that err is one Violation of kind k and that the
// auditor recorded exactly the wanted kinds so far.
func mustViolate(t *testing.T, a *Auditor, err error, k ViolationKind, kinds ...ViolationKind) {
	t.Helper()
	var v Violation
	if !errors.As(err, &v) || v.Kind != k || !errors.Is(err, ErrOrderViolation) {
		t.Fatalf("got %v, want a %v violation", err, k)
	}
	got := a.Violations()
	if len(got) != len(kinds) {
		t.Fatalf("recorded %v, want kinds %v", got, kinds)
	}
	for i, v := range got {
		if v.Kind != kinds[i] {
			t.Fatalf("recorded %v, want kinds %v", got, kinds)
		}
	}
	if a.Counts().Violations != len(kinds) {
		t.Fatalf("Counts().Violations = %d, want %d", a.Counts().Violations, len(kinds))
	}
}

func TestAuditorPassesCorrectlyOrderedWrites(t *testing.T) {
	auditRoots(t, AuditOptions{}, func(t *testing.T, a *Auditor, _ FS, base string) {
		db := filepath.Join(base, "db")
		must(t, a.MkdirAll(db))
		must(t, a.SyncDir(base))
		f := mustCreate(t, a, filepath.Join(db, "log"))
		must(t, a.SyncDir(db))
		mustWrite(t, f, 0, "record-1;")
		must(t, f.Sync())
		must(t, a.Acknowledge("append 1", []byte("record-1")))
		mustWrite(t, f, 9, "record-2;")
		must(t, f.Sync())
		must(t, a.Acknowledge("append 2", []byte("record-2")))
		must(t, WriteFileAtomic(a, db, "CHECKPOINT", []byte("checkpoint")))
		must(t, a.CheckDurable(filepath.Join(db, "CHECKPOINT")))
		must(t, a.CheckDurableTree(db))
		if v := a.Violations(); len(v) != 0 || a.Err() != nil {
			t.Fatalf("violations on a correct sequence: %v", v)
		}
		c := a.Counts()
		if c.Acknowledgements != 2 || c.Renames != 1 || c.DurableChecks != 3 || c.Syncs != 6 {
			t.Fatalf("counts %+v", c)
		}
		mustContain(t, a, filepath.Join(db, "log"), "record-1;record-2;")
	})
}

func TestAuditorCatchesAnAcknowledgementBeforeItsFsync(t *testing.T) {
	auditRoots(t, AuditOptions{}, func(t *testing.T, a *Auditor, _ FS, base string) {
		f := mustCreate(t, a, filepath.Join(base, "log"))
		must(t, a.SyncDir(base))
		mustWrite(t, f, 0, "record-1;")
		err := a.Acknowledge("append 1", []byte("record-1"))
		mustViolate(t, a, err, AckBeforeSync, AckBeforeSync)
		if !strings.Contains(err.Error(), "append 1") || !strings.Contains(err.Error(), "log") {
			t.Fatalf("the violation does not name the acknowledgement and the file: %v", err)
		}
		must(t, f.Sync())
		must(t, a.Acknowledge("append 1 again", []byte("record-1")))
		// Bytes synced and then overwritten are not durable any more.
		mustWrite(t, f, 0, "RECORD-X;")
		mustViolate(t, a, a.Acknowledge("overwritten", []byte("RECORD-X")), AckBeforeSync, AckBeforeSync, AckBeforeSync)
	})
}

func TestAuditorCatchesAnAcknowledgementBeforeItsDirectoryFsync(t *testing.T) {
	auditRoots(t, AuditOptions{}, func(t *testing.T, a *Auditor, _ FS, base string) {
		f := mustCreate(t, a, filepath.Join(base, "0002.seg")) // a new segment
		mustWrite(t, f, 0, "record-7;")
		must(t, f.Sync()) // the data is synced, the entry is not
		mustViolate(t, a, a.Acknowledge("append 7", []byte("record-7")), AckBeforeDirSync, AckBeforeDirSync)
		must(t, a.SyncDir(base))
		must(t, a.Acknowledge("append 7", []byte("record-7")))
		mustViolate(t, a, a.Acknowledge("append 8", []byte("record-8")), AckNotWritten, AckBeforeDirSync, AckNotWritten)
	})
}

func TestAuditorCatchesARenameBeforeTheFsync(t *testing.T) {
	auditRoots(t, AuditOptions{}, func(t *testing.T, a *Auditor, _ FS, base string) {
		tmp, final := filepath.Join(base, "CHECKPOINT.tmp"), filepath.Join(base, "CHECKPOINT")
		f := mustCreate(t, a, tmp)
		mustWrite(t, f, 0, "new checkpoint")
		must(t, a.Rename(tmp, final)) // recorded, not refused: FailFast is off
		got := a.Violations()
		if len(got) != 1 || got[0].Kind != RenameBeforeSync || got[0].Path != tmp {
			t.Fatalf("violations %v, want one RenameBeforeSync of %s", got, tmp)
		}
		mustContain(t, a, final, "new checkpoint")
	})
	t.Run("FailFast", func(t *testing.T) {
		auditRoots(t, AuditOptions{FailFast: true}, func(t *testing.T, a *Auditor, inner FS, base string) {
			tmp, final := filepath.Join(base, "cursor.tmp"), filepath.Join(base, "cursor")
			writeFile(t, inner, final, "old") // exists before the audit: durable
			f := mustCreate(t, a, tmp)
			mustWrite(t, f, 0, "new")
			err := a.Rename(tmp, final)
			mustViolate(t, a, err, RenameBeforeSync, RenameBeforeSync)
			mustContain(t, inner, final, "old") // the rename never reached the disk
			must(t, f.Sync())
			must(t, a.Rename(tmp, final))
			mustContain(t, inner, final, "new")
		})
	})
	t.Run("Exempt", func(t *testing.T) {
		cache := func(name string) bool { return strings.HasSuffix(name, ".cache") }
		auditRoots(t, AuditOptions{Exempt: cache}, func(t *testing.T, a *Auditor, _ FS, base string) {
			f := mustCreate(t, a, filepath.Join(base, "p.tmp"))
			mustWrite(t, f, 0, "cached")
			must(t, a.Rename(filepath.Join(base, "p.tmp"), filepath.Join(base, "p.cache")))
			must(t, a.CheckDurableTree(base))
			if v := a.Violations(); len(v) != 0 {
				t.Fatalf("violations for an exempt file: %v", v)
			}
		})
	})
}

func TestAuditorCatchesRelianceOnAnUnsyncedDirectoryEntry(t *testing.T) {
	auditRoots(t, AuditOptions{}, func(t *testing.T, a *Auditor, _ FS, base string) {
		tmp, final := filepath.Join(base, "SEQUENCE.tmp"), filepath.Join(base, "SEQUENCE")
		f := mustCreate(t, a, tmp)
		mustWrite(t, f, 0, "mark")
		must(t, f.Sync())
		must(t, a.Rename(tmp, final))
		err := a.CheckDurable(final) // the rename was not followed by a directory fsync
		mustViolate(t, a, err, NotDurable, NotDurable)
		if !strings.Contains(err.Error(), "not durable") {
			t.Fatalf("unclear description: %v", err)
		}
		// A directory created and not synced in its parent: its files are lost with it.
		sub := filepath.Join(base, "cursors")
		must(t, a.MkdirAll(sub))
		must(t, a.SyncDir(base)) // makes SEQUENCE durable too
		must(t, a.CheckDurable(final))
		g := mustCreate(t, a, filepath.Join(sub, "c1"))
		must(t, g.Sync())
		mustViolate(t, a, a.CheckDurableTree(sub), NotDurable, NotDurable, NotDurable)
		must(t, a.SyncDir(sub))
		must(t, a.CheckDurableTree(base))
		// Unsynced data in a durable file.
		mustWrite(t, g, 0, "42")
		mustViolate(t, a, a.CheckDurable(filepath.Join(sub, "c1")), NotDurable, NotDurable, NotDurable, NotDurable)
	})
}

func TestAuditorCatchesAnFsyncRetriedAfterAFailure(t *testing.T) {
	for _, failFast := range []bool{false, true} {
		ffs := NewFaulty(NewMem())
		a := NewAuditor(ffs, AuditOptions{FailFast: failFast})
		f := mustCreate(t, a, "/seg")
		must(t, a.SyncDir("/"))
		mustWrite(t, f, 0, "frames")
		ffs.Inject(Rule{Op: OpSync, Path: "seg"})
		mustIs(t, f.Sync(), ErrInjected)
		if len(a.Violations()) != 0 {
			t.Fatalf("a failed fsync is not itself a violation: %v", a.Violations())
		}
		syncs := ffs.Count(OpSync)
		err := f.Sync() // the retry
		if failFast {
			mustViolate(t, a, err, SyncRetry, SyncRetry)
			if ffs.Count(OpSync) != syncs {
				t.Fatal("FailFast let the retried fsync through")
			}
		} else if err != nil || len(a.Violations()) != 1 || a.Violations()[0].Kind != SyncRetry {
			t.Fatalf("retry: err %v, violations %v; want the retry recorded", err, a.Violations())
		}
	}
	// The same for a directory.
	ffs := NewFaulty(NewMem())
	a := NewAuditor(ffs, AuditOptions{})
	must(t, a.MkdirAll("/d"))
	ffs.Inject(Rule{Op: OpSyncDir})
	mustIs(t, a.SyncDir("/d"), ErrInjected)
	must(t, a.SyncDir("/d"))
	if v := a.Violations(); len(v) != 1 || v[0].Kind != SyncRetry || v[0].Path != "/d" {
		t.Fatalf("violations %v, want a SyncRetry of /d", v)
	}
}

func TestAuditorTakesExistingFilesAsDurable(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "old.seg"), []byte("record-0;"), 0o644))
	a := NewAuditor(nil, AuditOptions{})
	f, err := a.OpenRW(filepath.Join(dir, "old.seg"))
	must(t, err)
	defer f.Close()
	must(t, a.Acknowledge("old", []byte("record-0")))
	mustWrite(t, f, 9, "record-1;")
	mustViolate(t, a, a.Acknowledge("new", []byte("record-1")), AckBeforeSync, AckBeforeSync)
	must(t, f.Sync())
	must(t, a.Acknowledge("new", []byte("record-1")))
	// A torn write (short) is mirrored as far as it went.
	ffs := NewFaulty(OS)
	ffs.Inject(Rule{Op: OpWrite, Short: true})
	b := NewAuditor(ffs, AuditOptions{})
	g, err := b.OpenRW(filepath.Join(dir, "old.seg"))
	must(t, err)
	defer g.Close()
	if _, err := g.WriteAt([]byte("abcdefgh"), 18); err == nil {
		t.Fatal("the short write did not fail")
	}
	must(t, g.Sync())
	must(t, b.Acknowledge("first half", []byte("abcd")))
	mustViolate(t, b, b.Acknowledge("second half", []byte("efgh")), AckNotWritten, AckNotWritten)
}

func TestMkdirAllDurableSyncsEveryNewLevel(t *testing.T) {
	// Plain MkdirAll and a sync of the parent only: a crash drops /a.
	mem := NewMem()
	must(t, mem.MkdirAll("/a/b/c"))
	must(t, mem.SyncDir("/a/b"))
	mustList(t, mem.CrashClone(CrashOptions{}), "/")
	// MkdirAllDurable keeps every level, whether the top existed or not.
	// Existing levels count as durable where their parents were synced;
	// with "/a/b/c" existing, only its own entry in /a/b is unsynced.
	for _, pre := range []string{"", "/a", "/a/b/c"} {
		mem := NewMem()
		if pre != "" {
			must(t, mem.MkdirAll(pre))
			must(t, mem.SyncDir("/"))
			must(t, mem.SyncDir("/a"))
		}
		must(t, MkdirAllDurable(mem, "/a/b/c"))
		mustList(t, mem.CrashClone(CrashOptions{}), "/a/b", "c")
	}
	// Through an auditor, every file below is then relied on safely.
	a := NewAuditor(NewMem(), AuditOptions{})
	must(t, MkdirAllDurable(a, "/x/y"))
	must(t, WriteFileAtomic(a, "/x/y", "f", []byte("v")))
	must(t, a.CheckDurableTree("/x"))
}
