// Package vfs is batpak's file-system seam. The writer and the reader touch
// the disk only through an FS, so tests can swap in a file system that
// injects errors or simulates a crash by dropping what was never synced.
//
// The real file system, OS, works on Linux, macOS and Windows: locking,
// mapping and directory sync go through golang.org/x/sys in build-tagged
// files, and where a platform lacks a feature (a writable mapping needs
// fallocate, so Linux only; Windows has no directory fsync) the store uses
// the plain write path that MemFS proves (docs/TUNING.md, Platforms).
//
// Files and directories are created private (PrivateModes: 0600 and 0700);
// WithModes returns a view of a file system that creates with other modes,
// Mode reports what exists and LooseModes lists what grants group or other
// users more than wanted. PortableName refuses names that some platform
// cannot hold as a file name (Windows device names such as "con", reserved
// characters, a trailing dot or space).
//
// Four implementations exist: OS (the real one, the default), and for tests
// the in-memory crash file system (NewMem), the error-injecting wrapper
// (NewFaulty) and the write-ordering auditor (NewAuditor) in this package. Users may use them to test their own services
// against crashes; package batpaktest wraps a MemFS store for a test
// (Open, Crash, Reopen).
//
// A MemFS remembers what each file and directory holds now and what the last
// Sync or SyncDir made durable; CrashClone returns the file system a power
// loss would leave behind:
//
//	fsys := vfs.NewMem()
//	_ = fsys.MkdirAll("/db")
//	_ = fsys.SyncDir("/") // the directory itself must be durable too
//	f, _ := fsys.Create("/db/log")
//	_ = fsys.SyncDir("/db") // the new entry is durable
//	f.WriteAt([]byte("acked"), 0)
//	_ = f.Sync() // "acked" is durable
//	f.WriteAt([]byte(" lost"), 5)
//
//	after := fsys.CrashClone(vfs.CrashOptions{})
//	g, _ := after.Open("/db/log") // holds "acked" only
//
// To crash at every point of a workload, run it once to learn Ops, then
// rerun it on fresh file systems armed with SetCrashAfter(k, ...) for each
// k and check what recovery finds in Crashed. A FaultyFS wraps any FS and
// fails chosen operations:
//
//	ffs := vfs.NewFaulty(vfs.OS)
//	ffs.Inject(vfs.Rule{Op: vfs.OpSync, Nth: 3, Path: ".seg"}) // the 3rd segment fsync fails
//	ffs.Inject(vfs.Rule{Op: vfs.OpWrite, Persistent: true, Err: syscall.ENOSPC}) // disk full
//	// ... run the store on ffs; errors.Is(err, vfs.ErrInjected) tells the
//	// injected faults from real ones, ffs.Count(vfs.OpSync) how many ran.
//
// An Auditor wraps any FS and checks write ordering as the program runs: no
// rename of a file with unsynced data, no fsync retried after a failure,
// and, when the test reports an acknowledgement, that what was
// acknowledged is durable (synced, in a file whose directory entry is
// synced):
//
//	audit := vfs.NewAuditor(vfs.NewMem(), vfs.AuditOptions{OnViolation: func(v vfs.Violation) { t.Error(v) }})
//	// ... run the program on audit; after each acknowledgement:
//	audit.Acknowledge("append 7", recordBytes)
//	// ... and for files it relies on:
//	audit.CheckDurable("/db/cursor")
package vfs
