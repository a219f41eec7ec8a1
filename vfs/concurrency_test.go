package vfs

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentUseIsRaceFree runs the pattern of the store (one writer
// appending and syncing, readers reading behind it, another goroutine
// listing and syncing the directory, a crash clone taken mid-flight) on
// MemFS and on a FaultyFS over it. It proves nothing without -race.
func TestConcurrentUseIsRaceFree(t *testing.T) {
	for _, c := range []struct {
		name string
		wrap func(*MemFS) FS
	}{
		{"Mem", func(m *MemFS) FS { return m }},
		{"FaultyMem", func(m *MemFS) FS {
			f := NewFaulty(m)
			f.Inject(Rule{Op: OpRead, Probability: 0.1, Seed: 1})
			return f
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newDurableDB(t)
			fsys := c.wrap(m)
			const writers, records = 4, 200
			record := []byte("0123456789abcdef")
			var wg sync.WaitGroup
			for w := range writers {
				name := fmt.Sprintf("/db/%d.seg", w)
				f := mustCreate(t, fsys, name)
				wg.Go(func() {
					for i := range records {
						if _, err := f.WriteAt(record, int64(i*len(record))); err != nil {
							t.Error(err)
							return
						}
						if i%10 == 0 {
							if err := f.Sync(); err != nil {
								t.Error(err)
								return
							}
						}
					}
				})
				wg.Go(func() {
					r, err := fsys.Open(name)
					if err != nil {
						t.Error(err)
						return
					}
					defer r.Close()
					buf := make([]byte, len(record))
					for i := range records {
						// Reads may race ahead of the writer (EOF) or be
						// failed on purpose; whole records must never tear.
						if n, _ := r.ReadAt(buf, int64(i*len(record))); n == len(buf) && !bytes.Equal(buf, record) {
							t.Errorf("read %q", buf)
							return
						}
					}
				})
			}
			wg.Go(func() {
				for range 50 {
					if _, err := fsys.List("/db"); err != nil {
						t.Error(err)
						return
					}
					if err := fsys.SyncDir("/db"); err != nil {
						t.Error(err)
						return
					}
					m.CrashClone(CrashOptions{KeepUnsyncedFraction: 0.5, BlockSize: 16})
				}
			})
			wg.Wait()
			must(t, fsys.SyncDir("/db"))
			img := m.CrashClone(CrashOptions{})
			for w := range writers {
				// Every writer synced at record 190, so at least 191 records survive.
				if got := len(readFile(t, img, fmt.Sprintf("/db/%d.seg", w))); got < 191*len(record) {
					t.Fatalf("writer %d: %d durable bytes", w, got)
				}
			}
		})
	}
}
