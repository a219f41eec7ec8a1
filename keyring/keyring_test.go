package keyring_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

const dir = "/store"

var (
	master = keyring.MasterKey([32]byte{1, 2, 3})
	kind   = event.MustCustom(1, 1)
)

func openNew(t *testing.T, fsys vfs.FS) *keyring.Keyring {
	t.Helper()
	require.NoError(t, vfs.MkdirAllDurable(fsys, dir))
	kr, err := keyring.Open(fsys, dir, master, keyring.Options{Create: true})
	require.NoError(t, err)
	require.NotNil(t, kr)
	t.Cleanup(func() { kr.Close() })
	return kr
}

// view parses the event frame of a sealed payload as the read path does.
func view(t testing.TB, coord event.Coordinate, k event.EventKind, flags uint16, sealed []byte) *segment.EventView {
	t.Helper()
	rec := segment.EventRecord{
		ID: event.NewID(), Kind: k, Flags: flags, Global: 1, Codec: event.CodecJSON, Sealed: true,
		Entity: coord.Entity(), Scope: coord.Scope(), Payload: sealed,
	}
	frame, _ := segment.AppendEvent(nil, &rec, true, [32]byte{})
	body, _, err := segment.ReadFrame(frame)
	require.NoError(t, err)
	var v segment.EventView
	require.NoError(t, segment.ParseEvent(body, &v))
	require.True(t, v.Sealed)
	return &v
}

func seal(t *testing.T, kr *keyring.Keyring, coord event.Coordinate, plain string) []byte {
	t.Helper()
	b, err := kr.Seal(coord, kind, 0, event.CodecJSON, []byte(plain))
	require.NoError(t, err)
	return b
}

func keyOf(t *testing.T, sealed []byte) uint64 {
	t.Helper()
	s, err := segment.ParseSealed(sealed)
	require.NoError(t, err)
	return s.Key
}

func TestSealOpensOnlyAsTheSameEvent(t *testing.T) {
	kr := openNew(t, vfs.NewMem())
	alice := event.MustCoordinate("user:alice", "eu")
	sealed := seal(t, kr, alice, `{"name":"Alice Liddell"}`)
	assert.NotContains(t, string(sealed), "Alice")
	assert.Len(t, sealed, 1+segment.SealNonceSize+len(`{"name":"Alice Liddell"}`)+segment.SealTagSize)

	got, err := kr.Open(view(t, alice, kind, 0, sealed), false)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"Alice Liddell"}`, string(got))

	// In place: the plaintext lands over the box, in the payload's bytes.
	v := view(t, alice, kind, 0, sealed)
	got, err = kr.Open(v, true)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"Alice Liddell"}`, string(got))
	assert.Equal(t, &v.Payload[1+segment.SealNonceSize], &got[0])

	// The same box in another entity's, scope's, kind's or flags' event does
	// not open, nor does an altered one.
	for name, v := range map[string]*segment.EventView{
		"entity": view(t, event.MustCoordinate("user:bob", "eu"), kind, 0, sealed),
		"scope":  view(t, event.MustCoordinate("user:alice", "us"), kind, 0, sealed),
		"kind":   view(t, alice, event.MustCustom(1, 2), 0, sealed),
		"flags":  view(t, alice, kind, 1, sealed),
	} {
		_, err := kr.Open(v, false)
		assert.ErrorIs(t, err, segment.ErrBadRecord, name)
	}
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1
	_, err = kr.Open(view(t, alice, kind, 0, altered), false)
	assert.ErrorIs(t, err, segment.ErrBadRecord)
}

func TestEachEntityHasItsOwnKey(t *testing.T) {
	kr := openNew(t, vfs.NewMem())
	a1 := seal(t, kr, event.MustCoordinate("user:alice", "eu"), "1")
	a2 := seal(t, kr, event.MustCoordinate("user:alice", "us"), "2")
	b1 := seal(t, kr, event.MustCoordinate("user:bob", "eu"), "3")
	assert.Equal(t, keyOf(t, a1), keyOf(t, a2), "one key per entity, whatever the scope")
	assert.NotEqual(t, keyOf(t, a1), keyOf(t, b1))
	assert.NotEqual(t, a1[1:1+segment.SealNonceSize], a2[1:1+segment.SealNonceSize], "fresh nonces")
}

func TestShredDestroysTheEntitysKeysAndNothingElse(t *testing.T) {
	fsys := vfs.NewMem()
	kr := openNew(t, fsys)
	alice, bob := event.MustCoordinate("user:alice", "eu"), event.MustCoordinate("user:bob", "eu")
	sa, sb := seal(t, kr, alice, "alice's"), seal(t, kr, bob, "bob's")
	va, vb := view(t, alice, kind, 0, sa), view(t, bob, kind, 0, sb)
	assert.False(t, kr.Shredded(va))

	n, err := kr.Shred("user:alice", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = kr.Open(va, false)
	assert.ErrorIs(t, err, event.ErrShredded)
	assert.True(t, kr.Shredded(va))
	got, err := kr.Open(vb, false)
	require.NoError(t, err)
	assert.Equal(t, "bob's", string(got))

	// Shredding again destroys nothing; alice's next payload gets a new key.
	n, err = kr.Shred("user:alice", []uint64{keyOf(t, sa)})
	require.NoError(t, err)
	assert.Zero(t, n)
	sa2 := seal(t, kr, alice, "alice again")
	assert.NotEqual(t, keyOf(t, sa), keyOf(t, sa2))
	got, err = kr.Open(view(t, alice, kind, 0, sa2), false)
	require.NoError(t, err)
	assert.Equal(t, "alice again", string(got))

	// After a reopen it is the same: the shred is in the file.
	require.NoError(t, kr.Close())
	kr2, err := keyring.Open(fsys, dir, master, keyring.Options{})
	require.NoError(t, err)
	defer kr2.Close()
	_, err = kr2.Open(va, false)
	assert.ErrorIs(t, err, event.ErrShredded)
	_, err = kr2.Open(vb, false)
	assert.NoError(t, err)
	_, err = kr2.Open(view(t, alice, kind, 0, sa2), false)
	assert.NoError(t, err)

	// No old copy of the keyset lingers in the directory.
	names, err := fsys.List(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{keyring.Name}, names)
}

func TestShredTakesTheKeysTheEventsName(t *testing.T) {
	fsys := vfs.NewMem()
	kr := openNew(t, fsys)
	alice := event.MustCoordinate("user:alice", "eu")
	old := seal(t, kr, alice, "from an earlier session")
	require.NoError(t, kr.Close())

	// A new session without Latest gives alice a new key; Shred must be
	// told the old one (the store finds it in alice's events).
	kr2, err := keyring.Open(fsys, dir, master, keyring.Options{})
	require.NoError(t, err)
	defer kr2.Close()
	cur := seal(t, kr2, alice, "now")
	require.NotEqual(t, keyOf(t, old), keyOf(t, cur))
	n, err := kr2.Shred("user:alice", []uint64{keyOf(t, old), 9999})
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the current key and the old one; an unknown number is ignored")
	for _, s := range [][]byte{old, cur} {
		_, err := kr2.Open(view(t, alice, kind, 0, s), false)
		assert.ErrorIs(t, err, event.ErrShredded)
	}
}

func TestLatestReusesTheNewestEventsKey(t *testing.T) {
	fsys := vfs.NewMem()
	kr := openNew(t, fsys)
	alice := event.MustCoordinate("user:alice", "eu")
	first := seal(t, kr, alice, "x")
	require.NoError(t, kr.Close())
	asked := 0
	kr2, err := keyring.Open(fsys, dir, master, keyring.Options{Latest: func(entity string) (uint64, bool, error) {
		asked++
		assert.Equal(t, "user:alice", entity)
		return keyOf(t, first), true, nil
	}})
	require.NoError(t, err)
	defer kr2.Close()
	for range 3 {
		assert.Equal(t, keyOf(t, first), keyOf(t, seal(t, kr2, alice, "y")))
	}
	assert.Equal(t, 1, asked, "asked once, then remembered")
	keys := kr2.Keys()

	// A Latest that names a shredded key gets a fresh one instead.
	_, err = kr2.Shred("user:alice", nil)
	require.NoError(t, err)
	fresh := seal(t, kr2, alice, "z")
	assert.NotEqual(t, keyOf(t, first), keyOf(t, fresh))
	assert.Equal(t, 2, asked)
	// One key gone, a block of four made (the first session's unused keys
	// are not given out again: no one knows whether a lost event used them).
	assert.Equal(t, keys-1+4, kr2.Keys())
}

func TestBlocksGrowAndEveryKeySurvivesAReopen(t *testing.T) {
	fsys := vfs.NewMem()
	kr := openNew(t, fsys)
	sealed := map[string][]byte{}
	for i := range 300 {
		c := event.MustCoordinate(fmt.Sprintf("user:%d", i), "eu")
		sealed[c.Entity()] = seal(t, kr, c, c.Entity())
	}
	// 4+8+…+256 ≥ 300 keys in 7 blocks; 300 used.
	assert.Equal(t, 4+8+16+32+64+128+256, kr.Keys())
	require.NoError(t, kr.Close())
	kr2, err := keyring.Open(fsys, dir, master, keyring.Options{ReadOnly: true})
	require.NoError(t, err)
	defer kr2.Close()
	for entity, s := range sealed {
		got, err := kr2.Open(view(t, event.MustCoordinate(entity, "eu"), kind, 0, s), false)
		require.NoError(t, err)
		assert.Equal(t, entity, string(got))
	}
	_, err = kr2.Seal(event.MustCoordinate("user:new", "eu"), kind, 0, event.CodecJSON, []byte("x"))
	assert.Error(t, err, "a read-only keyring makes no keys")
}

func TestWrongKeyFailsAndChangesNothing(t *testing.T) {
	fsys := vfs.NewMem()
	kr := openNew(t, fsys)
	seal(t, kr, event.MustCoordinate("user:alice", "eu"), "x")
	require.NoError(t, kr.Close())
	// Leave what a writable open would repair: a torn block and a temporary
	// file.
	f, err := fsys.OpenRW(filepath.Join(dir, keyring.Name))
	require.NoError(t, err)
	size, err := f.Size()
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0x40, 0, 0, 0, 1, 2}, size)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	tmp, err := fsys.Create(filepath.Join(dir, keyring.TempName))
	require.NoError(t, err)
	require.NoError(t, tmp.Close())
	before := snapshot(t, fsys)
	ops := fsys.Ops()

	wrong := keyring.MasterKey([32]byte{9})
	assert.ErrorIs(t, keyring.Check(fsys, dir, wrong), keyring.ErrWrongKey)
	_, err = keyring.Open(fsys, dir, wrong, keyring.Options{Create: true})
	assert.ErrorIs(t, err, keyring.ErrWrongKey)
	assert.Equal(t, before, snapshot(t, fsys))
	assert.Equal(t, ops, fsys.Ops(), "no mutating operation at all")

	// The right key repairs both.
	require.NoError(t, keyring.Check(fsys, dir, master))
	kr2, err := keyring.Open(fsys, dir, master, keyring.Options{})
	require.NoError(t, err)
	require.NoError(t, kr2.Close())
	after := snapshot(t, fsys)
	assert.Equal(t, []string{keyring.Name}, keysOf(after))
	assert.Len(t, after[keyring.Name], len(before[keyring.Name])-6)
}

func TestDamageIsReportedNotDropped(t *testing.T) {
	fsys := vfs.NewMem()
	kr := openNew(t, fsys)
	for i := range 10 { // two blocks: 4 and 8 keys
		seal(t, kr, event.MustCoordinate(fmt.Sprintf("user:%d", i), "eu"), "x")
	}
	require.NoError(t, kr.Close())
	good := snapshot(t, fsys)[keyring.Name]
	for _, tc := range []struct {
		name string
		at   int
	}{{"magic", 0}, {"header", 14}, {"first block", 100}} {
		b := bytes.Clone(good)
		b[tc.at] ^= 0x10
		put(t, fsys, b)
		_, err := keyring.Open(fsys, dir, master, keyring.Options{})
		assert.ErrorIs(t, err, keyring.ErrDamaged, tc.name)
	}
	// Damage to the last block cannot be told from a torn append (as with
	// a segment's unsynced tail): it is cut off, and its keys with it, which
	// then read as unknown, never as shredded.
	b := bytes.Clone(good)
	b[len(b)-10] ^= 0x10
	put(t, fsys, b)
	kr2, err := keyring.Open(fsys, dir, master, keyring.Options{ReadOnly: true})
	require.NoError(t, err)
	assert.Equal(t, 4, kr2.Keys())
}

func TestNotAKeyset(t *testing.T) {
	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll(dir))
	kr, err := keyring.Open(fsys, dir, master, keyring.Options{})
	require.NoError(t, err)
	assert.Nil(t, kr, "no keyset and no Create: none")
	ok, err := keyring.Exists(fsys, dir)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, keyring.Check(fsys, dir, master))
}

// A wrapper that refuses everything, as a key service that is down.
type refusing struct{}

func (refusing) Wrap(key, aad []byte) ([]byte, error)       { return nil, errors.New("service down") }
func (refusing) Unwrap(wrapped, aad []byte) ([]byte, error) { return nil, errors.New("service down") }

func TestWrapperErrors(t *testing.T) {
	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll(dir))
	_, err := keyring.Open(fsys, dir, refusing{}, keyring.Options{Create: true})
	assert.ErrorContains(t, err, "service down")
	ok, err := keyring.Exists(fsys, dir)
	require.NoError(t, err)
	assert.False(t, ok, "nothing created")
	openNew(t, fsys).Close()
	_, err = keyring.Open(fsys, dir, refusing{}, keyring.Options{})
	assert.ErrorIs(t, err, keyring.ErrWrongKey)
}

func snapshot(t *testing.T, fsys vfs.FS) map[string][]byte {
	t.Helper()
	names, err := fsys.List(dir)
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, n := range names {
		out[n] = read(t, fsys, filepath.Join(dir, n))
	}
	return out
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func read(t *testing.T, fsys vfs.FS, name string) []byte {
	t.Helper()
	f, err := fsys.Open(name)
	require.NoError(t, err)
	defer f.Close()
	size, err := f.Size()
	require.NoError(t, err)
	b := make([]byte, size)
	_, err = f.ReadAt(b, 0)
	require.NoError(t, err)
	return b
}

func put(t *testing.T, fsys vfs.FS, b []byte) {
	t.Helper()
	require.NoError(t, vfs.WriteFileAtomic(fsys, dir, keyring.Name, b))
}

// TestShreddingEveryKeyKeepsTheNumbering shreds every key the keyset
// holds (the first block's four, one entity each), so the rewritten file
// holds no key at all: after a reopen the shredded payloads still read as
// shredded, not as a key never given out, and a new key gets a number no
// shredded key had — a reused number would make the old payloads look
// damaged.
func TestShreddingEveryKeyKeepsTheNumbering(t *testing.T) {
	fsys := vfs.NewMem()
	kr := openNew(t, fsys)
	var views []*segment.EventView
	var used []uint64
	for i := range 4 {
		c := event.MustCoordinate(fmt.Sprintf("user:%d", i), "eu")
		s := seal(t, kr, c, "payload")
		views = append(views, view(t, c, kind, 0, s))
		used = append(used, keyOf(t, s))
	}
	require.Equal(t, 4, kr.Keys(), "the first block is used up")
	for i := range 4 {
		n, err := kr.Shred(fmt.Sprintf("user:%d", i), nil)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	require.Zero(t, kr.Keys())
	require.NoError(t, kr.Close())

	kr2, err := keyring.Open(fsys, dir, master, keyring.Options{})
	require.NoError(t, err)
	defer kr2.Close()
	for _, v := range views {
		_, err := kr2.Open(v, false)
		assert.ErrorIs(t, err, event.ErrShredded)
	}
	fresh := keyOf(t, seal(t, kr2, event.MustCoordinate("user:new", "eu"), "new"))
	assert.NotContains(t, used, fresh, "a shredded key's number is never given out again")
}
