// Package segment is batpak's on-disk format: the segment header with its
// sync note, CRC-32C frames, the compact binary event record with its
// per-entity Blake3 chain hash, batch BEGIN/COMMIT markers, and the scanner
// recovery and verification use. Encoding and decoding are pure functions
// over byte slices; every length read from disk is bounded before anything
// is allocated for it. docs/FORMAT.md describes every byte.
//
//	frame, self := segment.AppendEvent(buf, &rec, true, prevHash)
//	body, size, err := segment.ReadFrame(data[off:])
//	res, err := segment.Scan(data, id, segment.HeaderSize, lastGlobal, tornFrom, visit)
package segment
