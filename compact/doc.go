// Package compact is batpak's compaction: it merges small sealed segments,
// drops the events a retention predicate rejects and turns the events a
// tombstone predicate picks into tombstones, keeping every other kept frame
// byte for byte (docs/FORMAT.md, "Compaction" and "Tombstones").
//
// It works in three steps, which the facade's Store.Compact runs under its
// maintenance lock after a write barrier:
//
//  1. plan (pure): Rules.PlanSegment reads one segment's bytes and decides
//     which frames stay — a batch stays whole or goes whole — and which
//     become tombstones, and Group splits the
//     planned segments into runs that fit a target size; Record and Encode
//     give the compaction record and the bytes of a run's new file. None of
//     them touches a file or starts a goroutine. Read plans a store's sealed
//     segments, pinning their bytes until Plan.Release.
//  2. rewrite: Files.Rewrite removes the checkpoint and puts each run's new
//     file in place by the crash-safe rename protocol, removing the
//     segments it replaces.
//  3. apply: Rewritten.Apply adds the new files to the segment set, rewrites
//     the index in one step and retires the replaced segments; Lost says
//     what the writer must forget (the facade tells it, through its own
//     command).
//
// Run does the three in order for the facade (with the write barrier it is
// given); in outline (segs and idx are the store's reader.Segments and
// index):
//
//	plan, err := compact.Read(ctx, segs, sealed, compact.Rules{Retain: retain}, targetSize)
//	if err != nil { ... }
//	defer plan.Release()
//	out, err := compact.Files{FS: fs, Dir: dir, Clock: time.Now}.Rewrite(ctx, plan.Groups)
//	out.Apply(segs, idx, barrier) // even after an error: what is on disk is done
//	entities, through := out.Lost()
//
// Users call Store.Compact; its options and report are the facade's own
// types (batpak.CompactOptions, batpak.CompactReport).
package compact
