// Package salvage rescues what is intact in a damaged store: every event
// whose frame still reads back, and every atomic batch all of whose events
// do, with their ids, global order, causal links and per-entity sequences
// unchanged; and it says exactly what was lost — the segment and byte
// range of each damaged region, how many events it held and which
// entities they belonged to, and how precise each of those figures is.
//
// A store that Open refuses (a *event.CorruptionError, a missing
// segment file) is left as it is: Run reads it read-only, never taking
// its lock, and writes the rescued events into a new store directory,
// which verifies and opens normally. Walk reads the same events without
// writing anything, for tools that show a damaged store (batpak's inspect,
// dump and tail).
//
// How the damage is found and what is kept is described in
// docs/RELIABILITY.md ("Salvage"); how a rescued store says that events
// are missing, in docs/FORMAT.md ("Compaction record").
package salvage
