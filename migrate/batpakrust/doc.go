// Package batpakrust reads stores written by batpak-rust 0.3.0, the Rust
// original of batpak, and imports them into a batpak-go store (the
// `batpak import` command runs Import; docs/MIGRATING.md). Nothing in this
// package writes to a batpak-rust directory.
//
//	src, err := batpakrust.Open("rust-store")
//	dst, err := batpak.Open("go-store")
//	rep, err := batpakrust.Import(ctx, src, dst, nil) // resumable: run it again after a crash
//	fmt.Println(rep.Imported, rep.SkippedEvents, rep.DamagedFrames)
//
// Scan reads without writing anywhere, handing on each event and each
// committed batch:
//
//	rep, err := src.Scan(ctx, nil, func(u batpakrust.Unit) error {
//		for _, e := range u.Events { … } // one event, or a committed batch
//		return nil
//	})
//	fmt.Println(rep) // events, entities, batches, skipped, damaged, chain breaks
//
// # The format, as batpak-rust 0.3.0 writes it
//
// A store directory holds segment files NNNNNN.fbat (the id in six or more
// decimal digits; ids may skip where batpak-rust's compaction merged
// segments) and, after a clean close, index.ckpt.
//
// A segment starts with "FBAT", a u32 big-endian length and that many bytes
// of MessagePack: the map {version: 1, flags: 0, created_ns, segment_id}.
// Frames follow back to back: a u32 big-endian body length (at most
// 256 MiB), the body's CRC-32 (IEEE polynomial, as crc32fast computes it)
// as u32 big-endian, then the body. The body is the MessagePack map that
// rmp-serde writes for {event: {header, payload, hash_chain}, entity,
// scope}, every struct as a map with named keys:
//
//	header: {event_id, correlation_id: 16-byte bin (the u128, big-endian),
//	         causation_id: bin or nil, timestamp_us: int (µs),
//	         position: {wall_ms, counter, depth, lane, sequence},
//	         payload_size, event_kind: u16, flags: u8,
//	         content_hash: array of 32 ints}
//	payload: array of ints 0–255 — the payload's MessagePack bytes
//	hash_chain: {prev_hash, event_hash: arrays of 32 ints} or nil
//
// position.sequence is the per-entity sequence, 0 for an entity's first
// event. The global sequence is not in the frame: it is the event's place
// in the log (counted from 0, batch markers not counted), and the SIDX
// footer and index.ckpt record it.
//
// An atomic batch is a BEGIN marker frame, its items, and a COMMIT marker
// frame. A marker is a frame like an event's with kind 0x0006 (BEGIN) or
// 0x0007 (COMMIT), entity "_batch", scope "_system", an empty payload, no
// hash_chain, and the batch's id — a small integer, not a UUID (the global
// sequence its first item gets) — as both event and correlation id; the
// BEGIN's payload_size is the number of items. batpak-rust's recovery
// shows a batch's items only once its COMMIT is read with the announced
// number of items before it; a batch may cross into the next segment.
//
// The hash chain is per entity: event_hash (and content_hash, which repeats
// it) is the Blake3 hash of the payload bytes alone — the header, the
// coordinate and the previous hash are not hashed — and prev_hash is the
// entity's previous event's event_hash, zero for its first event. Only
// the links, not the hashes, tie events together, so the chain proves
// order and payloads, not headers. With batpak-rust's blake3 feature off
// all three hashes are zero.
//
// A sealed segment ends in a SIDX footer (see DecodeFooter): the frames,
// then a MessagePack array of entity and scope names, then 154 bytes per
// event (markers have none), then the string table's offset (u64 LE), the
// entry count (u32 LE) and "SIDX". index.ckpt (see DecodeCheckpoint) is
// "FBATCK", a u16 LE version (2), a u32 LE CRC-32 of the rest and a
// MessagePack map of every event's index row.
//
// # What Scan checks
//
// Every frame's CRC; the MessagePack of every frame; batch structure
// (BEGIN, the announced number of items, COMMIT); the hash chain of every
// entity (payload hashes, prev_hash links, per-entity sequences); and the
// SIDX footers and index.ckpt, field by field, against the frames they
// describe. Frames are the truth: footers and the checkpoint are derived
// data, and a disagreement is reported as a mismatch.
package batpakrust
