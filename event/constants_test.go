package event

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The kinds and flags shared with batpak-rust carry batpak-rust's numbers
// (its EventKind constants and FLAG_* bits): an imported store and code
// ported from Rust must mean the same thing by the same value.
func TestKindsAndFlagsHaveBatpakRustNumbers(t *testing.T) {
	kinds := []struct {
		name string
		got  EventKind
		want uint16
	}{
		{"DATA", KindData, 0x1000},
		{"SYSTEM_INIT", KindInit, 0x0001},
		{"SYSTEM_SHUTDOWN", KindShutdown, 0x0002},
		{"SYSTEM_HEARTBEAT", KindHeartbeat, 0x0003},
		{"SYSTEM_CONFIG_CHANGE", KindConfigChange, 0x0004},
		{"SYSTEM_CHECKPOINT", KindCheckpoint, 0x0005},
		{"SYSTEM_BATCH_BEGIN", KindBatchBegin, 0x0006},
		{"SYSTEM_BATCH_COMMIT", KindBatchCommit, 0x0007},
		{"TOMBSTONE", KindTombstone, 0x0FFE},
		{"EFFECT_ERROR", KindError, 0xD001},
		{"EFFECT_RETRY", KindRetry, 0xD002},
		{"EFFECT_ACK", KindAck, 0xD004},
		{"EFFECT_BACKPRESSURE", KindBackpressure, 0xD005},
		{"EFFECT_CANCEL", KindCancel, 0xD006},
		{"EFFECT_CONFLICT", KindConflict, 0xD007},
	}
	for _, k := range kinds {
		assert.Equal(t, k.want, uint16(k.got), k.name)
	}
	assert.True(t, KindTombstone.IsSystem(), "TOMBSTONE is a system kind")
	assert.True(t, KindBatchBegin.IsSystem() && KindBatchCommit.IsSystem())
	assert.False(t, KindData.IsSystem() || KindData.IsEffect(), "DATA is a user kind")
	assert.NoError(t, CheckKind(KindData), "DATA may be appended")
	for _, k := range []EventKind{KindBatchBegin, KindBatchCommit, KindTombstone, KindAck, KindConflict} {
		assert.ErrorIs(t, CheckKind(k), ErrReservedKind, "%v", k)
	}

	assert.Equal(t, uint16(0x01), FlagRequiresAck, "FLAG_REQUIRES_ACK")
	assert.Equal(t, uint16(0x02), FlagTransactional, "FLAG_TRANSACTIONAL")
	assert.Equal(t, uint16(0x08), FlagReplay, "FLAG_REPLAY")
}

func TestFlagHelpersReadTheirOwnBitOnly(t *testing.T) {
	tests := []struct {
		flags                    uint16
		ack, transactional, repl bool
	}{
		{0, false, false, false},
		{FlagRequiresAck, true, false, false},
		{FlagTransactional, false, true, false},
		{FlagReplay, false, false, true},
		{0x04 | 0x10 | 0x8000, false, false, false}, // the caller's bits
		{0xFFFF, true, true, true},
	}
	for _, tc := range tests {
		h := Header{Flags: tc.flags}
		assert.Equal(t, tc.ack, h.RequiresAck(), "flags %#x", tc.flags)
		assert.Equal(t, tc.transactional, h.IsTransactional(), "flags %#x", tc.flags)
		assert.Equal(t, tc.repl, h.IsReplay(), "flags %#x", tc.flags)
	}
}

// After Observe, every id the generator makes sorts after the observed
// UUIDv7s, whatever the wall clock says; ids that are not UUIDv7 do not
// move it.
func TestGeneratorObserveStaysAboveImportedIDs(t *testing.T) {
	g := NewGenerator(ID{})
	base := NewGenerator(ID{})
	var highest ID
	for i := range 2000 {
		// Ids of a store whose clock ran ahead, in no particular order.
		id := base.Next(int64(1_900_000_000_000 + i%7))
		g.Observe(id)
		if id.Compare(highest) > 0 {
			highest = id
		}
	}
	for range 100 {
		next := g.Next(1_700_000_000_000) // a wall clock behind the imported ids
		assert.Positive(t, next.Compare(highest), "%v after %v", next, highest)
		highest = next
	}

	g = NewGenerator(ID{})
	odd := ID{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	g.Observe(odd) // not a UUIDv7: a program's own 128-bit number
	assert.Equal(t, int64(1_700_000_000_000), g.Next(1_700_000_000_000).UnixMilli(), "the generator is not bent to it")
}
