package inspector

import (
	"strings"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stored(t *testing.T, c event.Codec, v any) *batpak.StoredEvent {
	t.Helper()
	b, codec, err := event.Encode(c, v)
	require.NoError(t, err)
	return &batpak.StoredEvent{Codec: codec, Payload: b}
}

// TestViewPayload: each codec shown as the event page shows it.
func TestViewPayload(t *testing.T) {
	// MessagePack: indented JSON, keys sorted, bytes as hex, no HTML
	// escapes (the template escapes).
	p := viewPayload(stored(t, batpak.MsgPack, map[string]any{"b": []byte{1, 2}, "a": "<x>"}))
	assert.Equal(t, "{\n  \"a\": \"<x>\",\n  \"b\": \"0x0102\"\n}", p.Text)
	assert.False(t, p.Hex)
	assert.Empty(t, p.Note)

	// MessagePack maps with keys other than strings.
	p = viewPayload(stored(t, batpak.MsgPack, map[int]string{1: "one"}))
	assert.Equal(t, "{\n  \"1\": \"one\"\n}", p.Text)

	// JSON as stored, indented: no rounding past 2^53.
	p = viewPayload(&batpak.StoredEvent{Codec: batpak.JSON, Payload: []byte(`{"n":9007199254740993}`)})
	assert.Equal(t, "{\n  \"n\": 9007199254740993\n}", p.Text)

	// Bytes the codec cannot decode: a note and a hex dump.
	p = viewPayload(&batpak.StoredEvent{Codec: batpak.JSON, Payload: []byte(`{"n":`)})
	assert.True(t, p.Hex)
	assert.Contains(t, p.Note, "not valid JSON")
	assert.Equal(t, "00000000  7b 22 6e 22 3a                                    |{\"n\":|\n", p.Text)

	// Raw: a hex dump, bounded.
	raw := make([]byte, maxHexDump+100)
	p = viewPayload(&batpak.StoredEvent{Codec: batpak.Raw, Payload: raw})
	assert.True(t, p.Hex)
	assert.Equal(t, maxHexDump/16, strings.Count(p.Text, "\n"))
	assert.Contains(t, p.Note, "the first 16 KiB")

	// A large payload is cut at a rune boundary, and says so.
	big := strings.Repeat("é", maxPayloadText)
	p = viewPayload(stored(t, batpak.MsgPack, big))
	assert.LessOrEqual(t, len(p.Text), maxPayloadText+len("\n…"))
	assert.True(t, strings.HasSuffix(p.Text, "\n…"))
	assert.Contains(t, p.Note, "cut at")
}

// TestSummary: one printable line, bounded.
func TestSummary(t *testing.T) {
	assert.Equal(t, `{"a":1,"b":"x\ny"}`, summary(stored(t, batpak.MsgPack, map[string]any{"b": "x\ny", "a": 1})))
	assert.Equal(t, "4 bytes", summary(&batpak.StoredEvent{Codec: batpak.Raw, Payload: []byte("abcd")}))
	assert.Equal(t, "", summary(&batpak.StoredEvent{Codec: batpak.Raw}))
	long := summary(stored(t, batpak.MsgPack, strings.Repeat("x", 500)))
	assert.Equal(t, summaryLen, len([]rune(long)))
	assert.True(t, strings.HasSuffix(long, "…"))
	// Control characters are escaped as JSON escapes them.
	assert.Equal(t, `"\u0007"`, summary(stored(t, batpak.MsgPack, "\a")))
}
