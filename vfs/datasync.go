package vfs

// DataSyncer is implemented by files that can flush their data without
// the metadata a later read does not need (fdatasync(2)): the OS file
// system's, on platforms that have fdatasync. The file's size is flushed
// when it changed, so a file grown or truncated reads back whole.
type DataSyncer interface {
	SyncData() error
}

// SyncData flushes f's data to stable storage: with fdatasync where f
// offers it (DataSyncer), else with f.Sync. Wrappers that do not pass
// DataSyncer on (fault injection, auditing) therefore see a Sync.
func SyncData(f File) error {
	if ds, ok := f.(DataSyncer); ok {
		return ds.SyncData()
	}
	return f.Sync()
}
