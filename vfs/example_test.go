package vfs_test

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/batpak-go/batpak/vfs"
)

func ExampleMemFS_CrashClone() {
	fsys := vfs.NewMem()
	_ = fsys.MkdirAll("/db")
	_ = fsys.SyncDir("/")
	f, _ := fsys.Create("/db/log")
	_ = fsys.SyncDir("/db")
	_, _ = f.WriteAt([]byte("acked"), 0)
	_ = f.Sync()
	_, _ = f.WriteAt([]byte(" lost"), 5)

	after := fsys.CrashClone(vfs.CrashOptions{})
	g, _ := after.Open("/db/log")
	buf := make([]byte, 16)
	n, err := g.ReadAt(buf, 0)
	fmt.Printf("%q %v\n", buf[:n], err == io.EOF)
	// Output: "acked" true
}

func ExampleMemFS_SetCrashAfter() {
	workload := func(fsys vfs.FS) error {
		f, err := fsys.Create("/log")
		if err != nil {
			return err
		}
		defer f.Close()
		if err := fsys.SyncDir("/"); err != nil {
			return err
		}
		if _, err := f.WriteAt([]byte("event"), 0); err != nil {
			return err
		}
		return f.Sync()
	}
	dry := vfs.NewMem()
	_ = workload(dry)
	for k := 0; k <= dry.Ops(); k++ {
		fsys := vfs.NewMem()
		fsys.SetCrashAfter(k, vfs.CrashOptions{}, nil)
		err := workload(fsys)
		names, _ := fsys.Crashed().List("/")
		fmt.Printf("crash after op %d: workload error is ErrCrashed: %v, on disk: %v\n",
			k, errors.Is(err, vfs.ErrCrashed), names)
	}
	// Output:
	// crash after op 0: workload error is ErrCrashed: true, on disk: []
	// crash after op 1: workload error is ErrCrashed: true, on disk: []
	// crash after op 2: workload error is ErrCrashed: true, on disk: [log]
	// crash after op 3: workload error is ErrCrashed: true, on disk: [log]
	// crash after op 4: workload error is ErrCrashed: false, on disk: [log]
}

func ExampleFaultyFS() {
	fsys := vfs.NewFaulty(vfs.NewMem())
	fsys.Inject(vfs.Rule{Op: vfs.OpWrite, Nth: 2, Persistent: true, Err: syscall.ENOSPC})
	f, _ := fsys.Create("/seg")
	for i := range 3 {
		_, err := f.WriteAt([]byte("x"), int64(i))
		fmt.Println(i, errors.Is(err, syscall.ENOSPC), errors.Is(err, vfs.ErrInjected))
	}
	// Output:
	// 0 false false
	// 1 true true
	// 2 true true
}

func ExampleAuditor() {
	audit := vfs.NewAuditor(vfs.NewMem(), vfs.AuditOptions{})
	_ = audit.MkdirAll("/db")
	_ = audit.SyncDir("/")
	f, _ := audit.Create("/db/log")
	_ = audit.SyncDir("/db")

	// A program that acknowledges before its fsync:
	_, _ = f.WriteAt([]byte("event-1;"), 0)
	fmt.Println(audit.Acknowledge("append 1", []byte("event-1")))
	_ = f.Sync()
	fmt.Println(audit.Acknowledge("append 1", []byte("event-1")))

	// A checkpoint renamed into place before it was synced:
	tmp, _ := audit.Create("/db/CHECKPOINT.tmp")
	_, _ = tmp.WriteAt([]byte("index"), 0)
	_ = audit.Rename("/db/CHECKPOINT.tmp", "/db/CHECKPOINT")

	for _, v := range audit.Violations() {
		fmt.Println(v.Kind)
	}
	// Output:
	// vfs: acknowledged before its fsync: append 1 (/db/log): the record is in bytes written since the file's last fsync, after operation 5
	// <nil>
	// acknowledged before its fsync
	// renamed before its fsync
}
