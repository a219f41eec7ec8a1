package batpak_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// dataSyncFS is an in-memory file system whose files offer fdatasync
// (vfs.DataSyncer), counting, per file name, the syncs of each kind.
type dataSyncFS struct {
	vfs.FS
	mu               sync.Mutex
	syncs, dataSyncs map[string]int
}

func newDataSyncFS() *dataSyncFS {
	return &dataSyncFS{FS: vfs.NewMem(), syncs: map[string]int{}, dataSyncs: map[string]int{}}
}

type dataSyncFile struct {
	vfs.File
	fs *dataSyncFS
}

func (f dataSyncFile) Sync() error {
	f.fs.count(f.fs.syncs, f.Name())
	return f.File.Sync()
}

func (f dataSyncFile) SyncData() error {
	f.fs.count(f.fs.dataSyncs, f.Name())
	return f.File.Sync() // the in-memory file system keeps what either sync covers
}

func (d *dataSyncFS) count(m map[string]int, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m[filepath.Base(name)]++
}

func (d *dataSyncFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return dataSyncFile{f, d}, nil
}

func (d *dataSyncFS) Create(name string) (vfs.File, error) { return d.wrap(d.FS.Create(name)) }
func (d *dataSyncFS) OpenRW(name string) (vfs.File, error) { return d.wrap(d.FS.OpenRW(name)) }

// segmentSyncs sums the counts of segment files.
func (d *dataSyncFS) segmentSyncs() (syncs, dataSyncs int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for n, c := range d.syncs {
		if _, ok := segment.ParseFileName(n); ok {
			syncs += c
		}
	}
	for n, c := range d.dataSyncs {
		if _, ok := segment.ParseFileName(n); ok {
			dataSyncs += c
		}
	}
	return syncs, dataSyncs
}

// With SyncData, the fsyncs that acknowledge appends, rotate and close
// segments are fdatasyncs; creating a segment is still a full fsync. With
// the default SyncAll, no fdatasync is made. Either way the events come
// back after a reopen.
func TestSyncModeChoosesTheSegmentSyncs(t *testing.T) {
	for _, mode := range []batpak.SyncMode{batpak.SyncAll, batpak.SyncData} {
		t.Run(mode.String(), func(t *testing.T) {
			fs := newDataSyncFS()
			opts := []batpak.Option{quiet, batpak.WithFS(fs), batpak.WithSegmentSize(64 << 10), batpak.WithSyncMode(mode)}
			s := openStore(t, memDir, opts...)
			c := coord(t, "e", "s")
			for i := range 60 {
				mustAppend(t, s, c, kindMoved, payload{N: i, Note: string(make([]byte, 2000))}) // durable: one fsync each
			}
			require.NoError(t, s.Close())
			segs := len(segmentFiles(t, fs, memDir))
			require.Greater(t, segs, 1, "rotated at least once")
			syncs, dataSyncs := fs.segmentSyncs()
			if mode == batpak.SyncAll {
				assert.Zero(t, dataSyncs)
				assert.GreaterOrEqual(t, syncs, 60)
			} else {
				assert.GreaterOrEqual(t, dataSyncs, 60, "every acknowledging fsync")
				assert.Equal(t, segs, syncs, "one full fsync per segment, when it is created")
			}
			s = openStore(t, memDir, opts...)
			assert.Len(t, all(t, s), 60)
		})
	}
}

func TestWithSyncModeRefusesAnUnknownMode(t *testing.T) {
	_, err := batpak.Open(t.TempDir(), batpak.WithSyncMode(batpak.SyncMode(7)))
	assert.ErrorIs(t, err, batpak.ErrInvalidOption)
}

// On the real file system of a platform with fdatasync, a store in
// SyncData mode works end to end.
func TestSyncDataOnTheRealFileSystem(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quiet, batpak.WithSyncMode(batpak.SyncData))
	for i := range 10 {
		mustAppend(t, s, coord(t, "e", "s"), kindMoved, payload{N: i})
	}
	require.NoError(t, s.Close())
	rep, err := batpak.VerifyDir(bg, dir, nil)
	require.NoError(t, err)
	assert.True(t, rep.OK())
	assert.Equal(t, 10, rep.Events)
}
