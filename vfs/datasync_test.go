package vfs

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type syncCounter struct {
	File
	syncs, dataSyncs int
}

func (s *syncCounter) Sync() error { s.syncs++; return nil }

type dataSyncCounter struct{ syncCounter }

func (d *dataSyncCounter) SyncData() error { d.dataSyncs++; return nil }

// SyncData uses fdatasync where the file offers it and Sync elsewhere.
func TestSyncDataFallsBackToSync(t *testing.T) {
	plain := &syncCounter{}
	require.NoError(t, SyncData(plain))
	assert.Equal(t, 1, plain.syncs)

	ds := &dataSyncCounter{}
	require.NoError(t, SyncData(ds))
	assert.Equal(t, 1, ds.dataSyncs)
	assert.Zero(t, ds.syncs)
}

// The OS file system's files offer fdatasync on Linux, and it works on a
// real file; elsewhere they fall back to Sync.
func TestOSFileSyncData(t *testing.T) {
	f, err := OS.Create(filepath.Join(t.TempDir(), "f"))
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteAt([]byte("data"), 0)
	require.NoError(t, err)
	_, ok := f.(DataSyncer)
	assert.Equal(t, runtime.GOOS == "linux", ok)
	require.NoError(t, SyncData(f))
	require.NoError(t, f.Close())
	assert.Error(t, SyncData(f), "a closed file reports the failure")
}
