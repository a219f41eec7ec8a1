package segment

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

func sealedRecord() EventRecord {
	nonce := bytes.Repeat([]byte{7}, SealNonceSize)
	payload := append(AppendSealedHead(nil, 300, nonce), bytes.Repeat([]byte{0xAB}, 40)...)
	return EventRecord{
		ID: event.NewID(), Kind: event.MustCustom(1, 2), Flags: 5, Global: 9, Sequence: 3, Timestamp: 1e15,
		Codec: event.CodecMsgPack, Sealed: true, IdemKey: "k", Entity: "user:alice", Scope: "eu", Payload: payload,
	}
}

func TestSealedRecordRoundTrip(t *testing.T) {
	rec := sealedRecord()
	frame, self := AppendEvent(nil, &rec, true, [32]byte{1})
	body, _, err := ReadFrame(frame)
	require.NoError(t, err)
	assert.Equal(t, byte(maskSealed), body[1]&maskSealed, "mask bit 7")
	var v EventView
	require.NoError(t, ParseEvent(body, &v))
	assert.True(t, v.Sealed)
	assert.Equal(t, event.CodecMsgPack, v.Codec, "the codec of the payload inside")
	assert.False(t, IsStripped(&v))
	s, err := ParseSealed(v.Payload)
	require.NoError(t, err)
	assert.Equal(t, uint64(300), s.Key)
	assert.Equal(t, bytes.Repeat([]byte{7}, SealNonceSize), s.Nonce)
	assert.Len(t, s.Box, 40)

	// Stripping keeps everything but the payload, the stored hash included.
	stripped := AppendStripped(nil, &v)
	body2, _, err := ReadFrame(stripped)
	require.NoError(t, err)
	var w EventView
	require.NoError(t, ParseEvent(body2, &w))
	assert.True(t, IsStripped(&w))
	assert.False(t, IsTombstone(&w))
	assert.Equal(t, self, w.Hash)
	w2, v2 := w, v
	w2.Payload, v2.Payload = nil, nil
	assert.Equal(t, v2, w2)
	assert.False(t, VerifyHash(body2, [32]byte{1}), "a stripped event no longer hashes over its body")

	var ev event.StoredEvent
	v.ToStored(&ev)
	assert.ErrorIs(t, ev.PayloadErr, event.ErrSealed)
	assert.Nil(t, ev.Payload)
	w.ToStored(&ev)
	assert.ErrorIs(t, ev.PayloadErr, event.ErrShredded)
	assert.ErrorIs(t, ev.Decode(new(any)), event.ErrShredded)
}

func TestParseSealedRefusesMalformed(t *testing.T) {
	nonce := make([]byte, SealNonceSize)
	for name, p := range map[string][]byte{
		"empty":       nil,
		"key zero":    append(AppendSealedHead(nil, 0, nonce), make([]byte, SealTagSize)...),
		"no tag":      AppendSealedHead(nil, 1, nonce),
		"short nonce": binary.AppendUvarint(nil, 1),
		"bad varint":  bytes.Repeat([]byte{0xFF}, 11),
	} {
		_, err := ParseSealed(p)
		assert.ErrorIs(t, err, ErrBadRecord, name)
	}
}

func TestSealAADBindsEveryField(t *testing.T) {
	base := SealAAD(nil, 1, event.MustCustom(1, 1), 0, event.CodecJSON, "user:alice", "eu")
	for name, other := range map[string][]byte{
		"key":    SealAAD(nil, 2, event.MustCustom(1, 1), 0, event.CodecJSON, "user:alice", "eu"),
		"kind":   SealAAD(nil, 1, event.MustCustom(1, 2), 0, event.CodecJSON, "user:alice", "eu"),
		"flags":  SealAAD(nil, 1, event.MustCustom(1, 1), 1, event.CodecJSON, "user:alice", "eu"),
		"codec":  SealAAD(nil, 1, event.MustCustom(1, 1), 0, event.CodecMsgPack, "user:alice", "eu"),
		"entity": SealAAD(nil, 1, event.MustCustom(1, 1), 0, event.CodecJSON, "user:alicee", "u"),
		"scope":  SealAAD(nil, 1, event.MustCustom(1, 1), 0, event.CodecJSON, "user:alice", "us"),
	} {
		assert.NotEqual(t, base, other, name)
	}
	assert.Equal(t, base, SealAAD(nil, 1, event.MustCustom(1, 1), 0, event.CodecJSON, []byte("user:alice"), []byte("eu")))
}
