// Package reliability holds batpak's crash, corruption and durability
// suites: black-box tests that drive the public API (batpak.Open and the
// Store's calls) over the file systems of package vfs — vfs.MemFS to
// simulate a power loss at any operation, vfs.FaultyFS to fail any
// operation, vfs.Auditor to check the write ordering as the store runs —
// and check the contract of docs/RELIABILITY.md (C1–C8): what was
// acknowledged survives any crash, recovery yields the longest valid
// prefix and never shows part of a batch, damage is reported rather than
// truncated away, no sequence is reused, a failed write or fsync stops
// the writer, and Close leaves nothing running.
//
// The package has no code of its own: only tests. Where a check needs
// more than the public API shows (the index a recovery builds, the
// frames of a segment file), it uses the exported functions of the lower
// packages (reader, segment, index), never the store's internals.
//
// The default mode runs with every `go test ./...` (CI adds -race); each
// family logs a "figures:" line, and the test binary prints a summary of
// them after the last test (shown with -v, or when a test fails):
//
//	go test -race -count=1 ./internal/reliability                                    # default mode
//	BATPAK_LONG=1 go test -race -count=1 -timeout 30m ./internal/reliability         # long mode
//	go test -race -count=1 -run 'Reliability|Crash|Truncate' ./internal/reliability  # the sweeps only
//
// BATPAK_LONG=1 lengthens the bit-flip sweep, the kill -9 loop, the crash
// and partial write-back modes, the directory-durability and compaction
// crash modes and the truncate sweep, and adds seeded random faults to the
// I/O-error loop. BATPAK_SOAK=1, the project's switch for soaks, has no
// family here yet (it lengthens the JetStream cluster run of natsembed).
// -short skips the kill -9 loop (it starts processes) and shortens the
// concurrent producers. BATPAK_WRITE_CORPUS=1 regenerates the fuzz seed
// corpora, which live beside the fuzz targets they feed
// (<package>/testdata/fuzz/<target>); TestReliabilityFuzzCorporaExist
// checks that they are there:
//
//	BATPAK_WRITE_CORPUS=1 go test -count=1 -run TestReliabilityWriteFuzzCorpus ./internal/reliability
package reliability
