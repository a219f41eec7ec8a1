package batpakrust

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/internal/rustenc"
)

func TestSegmentNames(t *testing.T) {
	for name, want := range map[string]uint64{"000001.fbat": 1, "000042.fbat": 42, "1234567.fbat": 1234567} {
		id, ok := ParseSegmentName(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, id, name)
		if len(name) == 11 {
			assert.Equal(t, name, SegmentName(id))
		}
	}
	for _, name := range []string{"00001.fbat", "000001.seg", "00000a.fbat", "000001.fbat.tmp", "index.ckpt", ".fbat"} {
		_, ok := ParseSegmentName(name)
		assert.False(t, ok, name)
	}
}

func TestDecodeSegmentHeaderRejects(t *testing.T) {
	good := rustenc.SegmentHeader(7, 99)
	h, off, err := DecodeSegmentHeader(good)
	require.NoError(t, err)
	assert.Equal(t, SegmentHeader{Version: 1, SegmentID: 7, CreatedNS: 99}, h)
	assert.Equal(t, len(good), off)

	v2 := append([]byte(nil), good...)
	v2[8+2+len("version")] = 2 // the version's value (after the map and key headers)
	long := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(long[4:], 1<<20)
	tests := map[string]struct {
		b    []byte
		want error
	}{
		"short":          {good[:5], ErrTorn},
		"magic":          {append([]byte("FBAX"), good[4:]...), ErrMalformed},
		"cut header":     {good[:len(good)-1], ErrTorn},
		"huge length":    {long, ErrMalformed},
		"version 2":      {v2, ErrMalformed},
		"not a map":      {append([]byte("FBAT\x00\x00\x00\x01"), 0x90), ErrMalformed},
		"truncated map":  {append([]byte("FBAT\x00\x00\x00\x02"), 0x81, 0xa7), ErrMalformed},
		"negative flags": {append([]byte("FBAT\x00\x00\x00\x08"), 0x81, 0xa5, 'f', 'l', 'a', 'g', 's', 0xff), ErrMalformed},
	}
	for name, tc := range tests {
		_, _, err := DecodeSegmentHeader(tc.b)
		assert.ErrorIs(t, err, tc.want, name)
	}
}

func TestReadFrameRejects(t *testing.T) {
	frame := rustenc.Frame([]byte{0x80})
	body, size, err := ReadFrame(frame)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x80}, body)
	assert.Equal(t, 9, size)

	bad := append([]byte(nil), frame...)
	bad[8] ^= 1
	_, size, err = ReadFrame(bad)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Equal(t, 9, size, "a CRC failure still says where the frame ends")
	_, _, err = ReadFrame(frame[:8])
	assert.ErrorIs(t, err, ErrTorn)
	_, _, err = ReadFrame(frame[:3])
	assert.ErrorIs(t, err, ErrTorn)
	huge := binary.BigEndian.AppendUint32(nil, MaxFrameBody+1)
	_, _, err = ReadFrame(append(huge, 0, 0, 0, 0))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestDecodeEventRejects(t *testing.T) {
	e := &rustenc.Event{Entity: "e", Scope: "s", Payload: []byte{1, 2}, Chain: &rustenc.Chain{}}
	good := rustenc.FrameBody(e)
	_, err := DecodeEvent(good)
	require.NoError(t, err)
	tests := map[string][]byte{
		"trailing bytes": append(append([]byte(nil), good...), 0xc0),
		"cut":            good[:len(good)-3],
		"empty map":      {0x80},
		"not a map":      {0x01},
		"array too long": {0x81, 0xa5, 'e', 'n', 't', 'i', 't', 'y', 0xdc, 0xff, 0xff},
	}
	// A hash of 31 bytes: rebuild the body with one hash element fewer.
	short := append([]byte{0x81, 0xa5, 'e', 'v', 'e', 'n', 't', 0x81, 0xaa}, "hash_chain"...)
	short = append(short, 0x81, 0xa9)
	short = append(short, "prev_hash"...)
	short = append(short, 0xdc, 0, 31)
	for range 31 {
		short = append(short, 0)
	}
	tests["bad hash length"] = short
	for name, b := range tests {
		_, err := DecodeEvent(b)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

// Payloads come as rmp-serde writes a Vec<u8> (an array of integers), as
// bin, or — after batpak-rust's compaction re-encoded them — as a value;
// each reads back as MessagePack bytes.
func TestDecodeEventPayloadForms(t *testing.T) {
	base := &rustenc.Event{Entity: "e", Scope: "s", Payload: []byte{0x81, 0xa1, 'x', 0x05}}
	e, err := DecodeEvent(rustenc.FrameBody(base))
	require.NoError(t, err)
	assert.Equal(t, base.Payload, e.Payload, "array of ints")

	body := rustenc.FrameBody(base)
	// Swap the payload for a bin, then for a map value.
	arr := []byte{0xa7, 'p', 'a', 'y', 'l', 'o', 'a', 'd', 0x94, 0xcc, 0x81, 0xcc, 0xa1, 0x78, 0x05}
	i := indexOf(body, arr)
	require.GreaterOrEqual(t, i, 0)
	asBin := append(append(append([]byte(nil), body[:i+8]...), 0xc4, 4, 0x81, 0xa1, 'x', 0x05), body[i+len(arr):]...)
	e, err = DecodeEvent(asBin)
	require.NoError(t, err)
	assert.Equal(t, base.Payload, e.Payload, "bin")
	asValue := append(append(append([]byte(nil), body[:i+8]...), 0x81, 0xa1, 'x', 0x05), body[i+len(arr):]...)
	e, err = DecodeEvent(asValue)
	require.NoError(t, err)
	assert.Equal(t, base.Payload, e.Payload, "a value")
	asArray := append(append(append([]byte(nil), body[:i+8]...), 0x92, 0xa1, 'x', 0x05), body[i+len(arr):]...)
	e, err = DecodeEvent(asArray)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x92, 0xa1, 'x', 0x05}, e.Payload, "an array that is not bytes is a value")
}

func indexOf(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}

func TestDecodeFooterRejects(t *testing.T) {
	entry := rustenc.FooterEntry{Entity: "e", Scope: "s", Offset: 9, Length: 10, Global: 3}
	good := append(make([]byte, 9), rustenc.Footer(9, []rustenc.FooterEntry{entry})...)
	f, ok, err := DecodeFooter(good, 9)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, f.Entries, 1)
	assert.Equal(t, uint64(3), f.Entries[0].Global)
	assert.Equal(t, int64(9), f.FramesEnd)

	_, ok, err = DecodeFooter(good[:len(good)-1], 9)
	assert.False(t, ok, "no magic: not sealed")
	assert.NoError(t, err)

	count := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(count[len(count)-8:], 2)
	offset := append([]byte(nil), good...)
	binary.LittleEndian.PutUint64(offset[len(offset)-16:], 3)
	name := append([]byte(nil), good...)
	name[9+1+2+2+16] = 9 // the entry's entity index
	for label, b := range map[string][]byte{"count": count, "offset before frames": offset, "name index": name} {
		_, ok, err := DecodeFooter(b, 9)
		assert.True(t, ok, label)
		assert.ErrorIs(t, err, ErrMalformed, label)
	}
}

func TestDecodeCheckpointRejects(t *testing.T) {
	good := rustenc.Checkpoint(1, 1, 100, []rustenc.CheckpointEntry{{Entity: "e", Scope: "s"}})
	c, err := DecodeCheckpoint(good)
	require.NoError(t, err)
	require.Len(t, c.Entries, 1)
	assert.Equal(t, "e", c.Entries[0].Entity)

	crc := append([]byte(nil), good...)
	crc[len(crc)-1] ^= 1
	version := append([]byte(nil), good...)
	version[6] = 3
	for label, b := range map[string][]byte{
		"crc": crc, "version": version, "magic": append([]byte("FBATCX"), good[6:]...), "short": good[:10],
	} {
		_, err := DecodeCheckpoint(b)
		assert.Error(t, err, label)
	}
}
