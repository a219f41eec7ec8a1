// Package reader reads batpak's segments: it recovers a store directory on
// open (rebuilding the index by scanning frames, truncating a torn tail,
// reporting corruption by segment and offset) and reads events for the
// facade's Get and queries, on the caller's goroutine.
package reader
