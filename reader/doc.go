// Package reader reads batpak's segments: it recovers a store directory
// when the store opens, and reads the events the facade's Get, queries,
// cursors and projections ask for.
//
// # Recovery
//
// Recover rebuilds the index by the fastest valid route (the checkpoint,
// then the footers of sealed segments, then a scan of the frames after
// them). Damage in the last segment at or past its sync note — or, if the
// note is damaged, damage with nothing valid after it — is a torn tail: it
// is cut off and reported (event.RecoveryReport.Torn). Damage anywhere else is a
// *event.CorruptionError naming the segment and offset; nothing is
// dropped silently. A trailing segment whose header a crash tore before
// any frame was written is removed; files an interrupted compaction left
// are removed. Read-only, nothing is changed, and the last segment is
// indexed only up to its sync note; CatchUp goes on from there as the
// writer in another process makes more durable. Verify checks a
// directory without changing it.
//
// # Reading events
//
// Segments is the set of open segment files, mapped read-only where the
// file system allows. Read, ReadLinked (Get: the event and its
// predecessor's hash in one allocation), ReadHash and ReadFrame read one
// event. A RunReader (Segments.Runs) is the one decoder of runs of frames
// that queries, cursors and projections share. It takes the frames a part
// at a time (at most RunSpan bytes of them): out of the mappings, frame by
// frame under one read lock, or, where a segment is not mapped, a run at a
// time — the frames of one segment no more than RunGap apart — with one
// ReadAt each. Every frame is CRC-checked and must hold its entry's event
// (global sequence, entity sequence and kind), and is decoded with the
// coordinate from the index's interned names. Fill gives events the caller
// keeps (queries, cursors: a part's events share one allocation and their
// payloads another); Each hands one reused event to a callback
// (projections: nothing is allocated per event). An entry taken before a
// compaction may name a segment it retired: the event is found again by
// its entity and sequence and read where it moved, or reported dropped
// (nil from Fill, skipped by Each) for the caller to decide — a query
// skips it, a cursor takes fresh entries.
//
// The facade's reads are built on it here, so the facade only checks the
// store's state and maps errors: ReadEvent (Get, Latest), Query (queries,
// entity streams with Hash.Prev, a workflow's events), Ancestors
// (WalkAncestors, checking each hash), Scan (projections), Load and
// BatchSpan (cursors and the fan-out actor: where an atomic batch ends).
//
// # The store directory
//
// LockDir readies a directory for a store that writes (refusing a foreign
// one, CheckDir) and takes its lock; SaveCheckpoint writes the index
// checkpoint a clean Close leaves.
//
// # Who owns what
//
// Nothing here runs a goroutine of its own but one: while Recover rebuilds
// a large index it decodes frames on a second goroutine and publishes on
// the caller's (scanPipelined); that goroutine has ended when Recover
// returns.
//
//   - Recover, CatchUp and Verify run on the caller's goroutine. A
//     Recovered is the caller's; the store hands its Index and Segments to
//     the writer and the readers.
//   - Reads run on the goroutine of whoever reads: the facade's callers
//     (Get, queries, projections), a cursor's owner (Next), and the
//     fan-out actor (the events it delivers). A RunReader belongs to one
//     goroutine for one read: take it with Runs, Release it after.
//   - Segments is shared by every reader, the writer (Add when it starts
//     a segment), compaction (AddCompacted, Retire) and the budget. Its
//     lock is held shared while bytes are copied out of a mapping or read
//     from a file, and exclusively to add, remap, evict, reopen, retire or
//     close a segment: a segment is never closed under a copy, so readers
//     hold no references. The budget's recency stamps are atomics that
//     readers set under the shared lock (SetBudget).
//   - The Index is package index's: many readers, one publisher.
//
// # Example
//
// Reading a store's events in global order, as a projection does:
//
//	rec, err := reader.Recover(reader.Options{FS: vfs.OS, Dir: dir, ReadOnly: true})
//	if err != nil {
//		return err
//	}
//	defer rec.Segments.Close()
//	var es []index.Entry
//	for e := range rec.Index.Query(event.AllEvents(), 0) {
//		es = append(es, e)
//	}
//	r := rec.Segments.Runs(rec.Index)
//	defer r.Release()
//	return r.Each(es, func(ev *event.StoredEvent) error {
//		fmt.Println(ev.Global, ev.Coordinate, len(ev.Payload)) // ev is reused: copy what you keep
//		return nil
//	})
package reader
