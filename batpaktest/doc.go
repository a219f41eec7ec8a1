// Package batpaktest helps users test code built on batpak — projections,
// reactors, read models, anything that reads or appends — against a real
// store that lives in memory, and against power losses.
//
//	func TestBalance(t *testing.T) {
//		store := batpaktest.Open(t)            // in memory, closed when the test ends
//		deposit(t, store, 10)                  // durable: survives a crash
//		store = batpaktest.Crash(t, store)     // power loss, and the store reopened
//		got, err := batpak.Project[Balance](ctx, store, "account:1", batpak.Consistent)
//		...
//	}
//
// Open opens a store on its own vfs.MemFS and closes it in t.Cleanup,
// failing the test if Close fails. Crash simulates a power loss: what the
// store had made durable (every fsync, every synced directory entry) is
// kept and nothing else — the on-write events of the last sync window, a
// file never synced — then the store is reopened on that image, through
// the recovery a real restart runs. Reopen closes the store cleanly and
// opens it again. The stores these return are closed at the end of the
// test too; the *batpak.Store passed to Crash or Reopen is closed and must
// not be used again.
//
// The in-memory file system is the one the store's own crash and
// durability tests use (package vfs): it keeps, for every file, what was
// written and what was synced, and a crash image holds only the latter
// (CrashWith can also keep a random part of the unsynced blocks, as a real
// disk's writeback may).
package batpaktest
