package batpak

import "github.com/batpak-go/batpak/segment"

// TornCut returns a segment's bytes cut at cut, as a crash would leave them
// if nothing past cut had been synced: the header's sync note is lowered to
// the last whole frame at or before the cut — an fsync covers whole writes,
// so a real note never falls inside a frame. (Cutting below the note models
// losing synced bytes, which the store reports as corruption.) For tests in
// this package and its external test package.
func TornCut(data []byte, cut int) []byte {
	out := append([]byte(nil), data[:cut]...)
	note, ok := segment.DecodeSyncNote(out)
	if !ok {
		return out
	}
	boundary := int64(segment.HeaderSize)
	for boundary < int64(cut) {
		_, size, err := segment.ReadFrame(data[boundary:])
		if err != nil || boundary+int64(size) > int64(cut) {
			break
		}
		boundary += int64(size)
	}
	if note > boundary {
		lowered := segment.EncodeSyncNote(boundary)
		copy(out[segment.SyncNoteOffset:], lowered[:])
	}
	return out
}

// ReportFigures, set by the external test package, prints the figures the
// reliability tests collected; TestMain calls it once all tests ran.
var ReportFigures func()
