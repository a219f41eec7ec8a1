// Package snapshot copies an open batpak store consistently, while it
// takes appends, and checks such a copy later. A snapshot is a directory
// of segment files and a manifest, MANIFEST.json, listing each file's size
// and SHA-256 (docs/FORMAT.md, "Snapshot manifest"); the manifest is
// written last and atomically, so a directory without one is no snapshot.
//
// Take copies the segments that hold every event up to the store's
// visible frontier — sealed segments whole, the frontier's segment up to
// the end of the frontier's frame — fsyncs everything and writes the
// manifest. Verify checks a snapshot against its manifest; it needs only a
// file system, not a store, so a backup can be checked anywhere:
//
//	man, err := snapshot.Verify(ctx, vfs.OS, "/backups/monday")
//	if errors.Is(err, snapshot.ErrMismatch) { ... } // damaged or incomplete
//	fmt.Println("events up to", man.LastGlobal, "in", len(man.Files), "files")
//
// Users take a snapshot with Store.Snapshot, which checks the destination
// (CheckDest), holds the store's maintenance lock and calls Take, and
// verify one with batpak.VerifySnapshot; both return this package's
// Manifest.
package snapshot
