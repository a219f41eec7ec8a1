package batpak_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/vfs"
)

var (
	masterKey = [32]byte{0x5e, 0xc2, 0xe7}
	encrypted = batpak.WithEncryption(keyring.MasterKey(masterKey))
	kindNote  = event.MustCustom(0x1, 0x00A)
)

// secret is a payload whose every field is distinctive, so that a search
// of the store's files for any of it means a leak.
type secret struct {
	Name  string
	Email string
	Notes string
}

func secretOf(i int) secret {
	return secret{
		Name: fmt.Sprintf("Zanzibar-Quux-%04d", i), Email: fmt.Sprintf("zq%04d@example.invalid", i),
		Notes: strings.Repeat(fmt.Sprintf("note %d; ", i), 30), // a few segments' worth in 300 events
	}
}

// TestEncryptedStoreHoldsNoPlaintext appends through every write path —
// single, pipelined, batches, keyed retries, imports — with payloads of
// every codec, compacts, snapshots and closes, then searches every byte of
// every file of the store and of the snapshot for any payload's text: none
// is there. Read back with the key, every payload is intact.
func TestEncryptedStoreHoldsNoPlaintext(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, encrypted, batpak.WithSegmentSize(64<<10))
	var plain [][]byte // every payload's distinctive text
	want := map[batpak.ID]string{}
	note := func(r batpak.Receipt, text string) {
		plain = append(plain, []byte(text))
		want[r.ID] = text
	}
	for i := range 400 {
		c := coord(t, fmt.Sprintf("user:%d", i%7), "eu")
		sec := secretOf(i)
		switch i % 5 {
		case 0:
			note(mustAppend(t, s, c, kindNote, sec), sec.Name)
		case 1:
			raw := []byte("raw bytes " + sec.Name)
			note(mustAppend(t, s, c, kindNote, raw), sec.Name)
		case 2:
			tk, err := s.Submit(bg, c, kindNote, sec, batpak.AppendOptions{IdempotencyKey: sec.Email})
			require.NoError(t, err)
			r, err := tk.Wait(bg)
			require.NoError(t, err)
			note(r, sec.Name)
			again, err := s.AppendWithOptions(bg, c, kindNote, sec, batpak.AppendOptions{IdempotencyKey: sec.Email})
			require.NoError(t, err)
			assert.True(t, again.Replayed)
			assert.Equal(t, r.ID, again.ID)
		case 3:
			rs, err := s.AppendBatch(bg, []batpak.BatchItem{
				{Coord: c, Kind: kindNote, Payload: sec},
				{Coord: coord(t, "user:batch", "eu"), Kind: kindNote, Payload: event.Encoded{Codec: event.CodecJSON, Bytes: []byte(`{"Name":"` + sec.Email + `"}`)}},
			})
			require.NoError(t, err)
			note(rs[0], sec.Name)
			note(rs[1], sec.Email)
		case 4:
			im, err := s.Importer(batpak.Durable)
			require.NoError(t, err)
			r, err := im.Append(bg, batpak.ImportEvent{ID: event.NewID(), Coord: c, Kind: kindNote, Codec: event.CodecRaw, Payload: []byte(sec.Name), Timestamp: time.Now().UnixMicro()})
			require.NoError(t, err)
			note(r, sec.Name)
		}
	}
	_, err := s.Compact(bg, batpak.CompactOptions{})
	require.NoError(t, err)
	snap := filepath.Join(t.TempDir(), "snap")
	_, err = s.Snapshot(bg, snap)
	require.NoError(t, err)
	closeStore(t, s)

	files := 0
	for _, root := range []string{dir, snap} {
		require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			for _, p := range plain {
				if bytes.Contains(b, p) {
					t.Errorf("%s holds the plaintext %q", path, p)
				}
			}
			return nil
		}))
	}
	assert.GreaterOrEqual(t, files, 6, "segments, keyset, checkpoint, store id, snapshot")

	for _, root := range []string{dir, snap} {
		s2 := openStore(t, root, encrypted)
		n := 0
		for _, ev := range all(t, s2) {
			require.NoError(t, ev.PayloadErr)
			assert.Contains(t, string(ev.Payload), want[ev.ID], "event %d", ev.Global)
			n++
		}
		assert.Equal(t, len(want), n)
		rep, err := s2.Verify(bg)
		require.NoError(t, err)
		assert.True(t, rep.OK(), "%v", rep.Problem)
	}
}

// counter counts an entity's notes, skipping those whose payload was
// shredded: the way a projection keeps working over erased events.
type counter struct {
	Notes    int
	Names    []string
	Shredded int
}

func (c *counter) Projection() projector.Spec {
	return projector.Spec{Name: "counter", Version: 1, Kinds: []event.EventKind{kindNote}}
}

func (c *counter) Apply(ev *event.StoredEvent) error {
	c.Notes++
	sec, err := batpak.Decode[secret](ev)
	switch {
	case err == nil:
		c.Names = append(c.Names, sec.Name)
	case errors.Is(err, batpak.ErrShredded):
		c.Shredded++ // the event happened; what it said is gone
	default:
		return err
	}
	return nil
}

// TestShredReachesEveryReadPath appends notes for alice and bob, shreds
// alice, and reads through every path — Get, Latest, Stream, ByScope,
// ByFact, Query, cursors (guaranteed and durable), a react loop,
// projections, WalkAncestors — before and after a reopen and a compaction:
// alice's events are all there with their headers and links, their
// payloads ErrShredded; bob's read as written; Verify passes throughout.
func TestShredReachesEveryReadPath(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, encrypted, batpak.WithSegmentSize(64<<10))
	alice, bob := coord(t, "user:alice", "eu"), coord(t, "user:bob", "eu")
	var aliceIDs []batpak.ID
	for i := range 300 {
		c := bob
		if i%3 == 0 {
			c = alice
		}
		r, err := s.AppendWithOptions(bg, c, kindNote, secretOf(i), batpak.AppendOptions{IdempotencyKey: fmt.Sprint("k", i)})
		require.NoError(t, err)
		if c == alice {
			aliceIDs = append(aliceIDs, r.ID)
		}
	}
	// A durable cursor that has read up to the middle, before the shred.
	dc, err := s.DurableCursor("audit", event.AllEvents())
	require.NoError(t, err)
	for range 150 {
		_, err := dc.Next(bg)
		require.NoError(t, err)
	}
	require.NoError(t, dc.Close())

	require.NoError(t, s.Shred(bg, "user:alice"))
	check := func(s *batpak.Store, stage string) {
		t.Helper()
		isAlice := func(ev *batpak.StoredEvent) bool { return ev.Coordinate.Entity() == "user:alice" }
		checkEv := func(where string, ev *batpak.StoredEvent) {
			t.Helper()
			if isAlice(ev) {
				assert.ErrorIs(t, ev.PayloadErr, batpak.ErrShredded, "%s %s: alice's payload", stage, where)
				assert.Empty(t, ev.Payload)
				assert.NotZero(t, ev.Hash.Self, "headers stay")
				return
			}
			require.NoError(t, ev.PayloadErr, "%s %s: bob's payload", stage, where)
			sec, err := batpak.Decode[secret](ev)
			require.NoError(t, err)
			assert.Contains(t, sec.Name, "Zanzibar")
		}
		ev, err := s.Get(bg, aliceIDs[5])
		require.NoError(t, err)
		checkEv("Get", ev)
		assert.Equal(t, uint64(5), ev.Sequence)
		_, err = batpak.Decode[secret](ev)
		assert.ErrorIs(t, err, batpak.ErrShredded)
		for _, who := range []string{"user:alice", "user:bob"} {
			ev, err := s.Latest(bg, who)
			require.NoError(t, err)
			checkEv("Latest", ev)
			evs := collect(t, s.Stream(bg, who))
			assert.Len(t, evs, map[string]int{"user:alice": 100, "user:bob": 200}[who])
			for _, ev := range evs {
				checkEv("Stream", ev)
			}
		}
		for name, q := range map[string]func() []*batpak.StoredEvent{
			"ByScope": func() []*batpak.StoredEvent { return collect(t, s.ByScope(bg, "eu")) },
			"ByFact":  func() []*batpak.StoredEvent { return collect(t, s.ByFact(bg, kindNote)) },
			"Query":   func() []*batpak.StoredEvent { return all(t, s) },
		} {
			evs := q()
			assert.Len(t, evs, 300, name)
			for _, ev := range evs {
				checkEv(name, ev)
			}
		}
		cur, err := s.Cursor(event.AllEvents(), 0)
		require.NoError(t, err)
		batch, err := cur.NextBatch(bg, 300)
		require.NoError(t, err)
		assert.Len(t, batch, 300)
		for _, ev := range batch {
			checkEv("Cursor", ev)
		}
		require.NoError(t, cur.Close())
		dc, err := s.DurableCursor("audit", event.AllEvents())
		require.NoError(t, err)
		ev, err = dc.Next(bg)
		require.NoError(t, err)
		checkEv("DurableCursor", ev)
		require.NoError(t, dc.Close())

		// Walking alice's chain checks every hash over the ciphertext.
		walked := collect(t, s.WalkAncestors(bg, aliceIDs[len(aliceIDs)-1], 0))
		assert.Len(t, walked, 100)

		// A projection sees the error and skips: 100 notes, none readable.
		st, err := batpak.Project[counter](bg, s, "user:alice", batpak.Consistent)
		require.NoError(t, err)
		assert.Equal(t, counter{Notes: 100, Shredded: 100}, st)
		st, err = batpak.Project[counter](bg, s, "user:bob", batpak.Consistent)
		require.NoError(t, err)
		assert.Equal(t, 200, st.Notes)
		assert.Len(t, st.Names, 200)

		rep, err := s.Verify(bg)
		require.NoError(t, err)
		assert.True(t, rep.OK(), "%s: %v", stage, rep.Problem)
	}
	check(s, "after the shred")

	// A react loop is handed alice's events with the error, and goes on.
	seen := make(chan error, 300)
	loop, err := s.ReactLoop(bg, event.ForEntity("user:alice"), func(_ context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		seen <- ev.PayloadErr
		return nil, nil
	}, batpak.ReactFrom(0))
	require.NoError(t, err)
	for range 100 {
		assert.ErrorIs(t, <-seen, batpak.ErrShredded)
	}
	require.NoError(t, loop.Stop(bg))

	// An idempotent retry of a shredded event cannot be compared: it is
	// refused, saying why.
	_, err = s.AppendWithOptions(bg, alice, kindNote, secretOf(0), batpak.AppendOptions{IdempotencyKey: "k0"})
	assert.ErrorIs(t, err, batpak.ErrDuplicate)
	assert.ErrorIs(t, err, batpak.ErrShredded)
	// Bob's retries still replay, alice's new events get a new key.
	r, err := s.AppendWithOptions(bg, bob, kindNote, secretOf(1), batpak.AppendOptions{IdempotencyKey: "k1"})
	require.NoError(t, err)
	assert.True(t, r.Replayed)
	r = mustAppend(t, s, alice, kindNote, secret{Name: "alice, later"})
	ev, err := s.Get(bg, r.ID)
	require.NoError(t, err)
	require.NoError(t, ev.PayloadErr)
	closeStore(t, s)

	s = openStore(t, dir, encrypted, batpak.WithSegmentSize(64<<10))
	ev, err = s.Get(bg, r.ID)
	require.NoError(t, err)
	sec, err := batpak.Decode[secret](ev)
	require.NoError(t, err)
	assert.Equal(t, "alice, later", sec.Name)
	// The later event is not shredded: check the first 300 only.
	rep, err := s.Compact(bg, batpak.CompactOptions{})
	require.NoError(t, err)
	assert.Positive(t, rep.Shredded, "compaction dropped shredded ciphertext")
	assert.Equal(t, 0, rep.EventsDropped)
	vr, err := s.Verify(bg)
	require.NoError(t, err)
	assert.True(t, vr.OK(), "%v", vr.Problem)
	assert.Equal(t, rep.Shredded, vr.Tombstones, "Verify accepts each stripped event as a tombstone")
	for _, ev := range collect(t, s.Stream(bg, "user:alice")) {
		if ev.ID == r.ID {
			require.NoError(t, ev.PayloadErr)
			continue
		}
		assert.ErrorIs(t, ev.PayloadErr, batpak.ErrShredded)
	}
	closeStore(t, s)

	// Without the key the store opens read-only; headers read, payloads
	// are sealed (or shredded: that needs no key).
	ro, err := batpak.OpenReadOnly(dir, quiet)
	require.NoError(t, err)
	defer ro.Close()
	for _, ev := range all(t, ro) {
		if ev.Coordinate.Entity() == "user:bob" || ev.ID == r.ID {
			assert.ErrorIs(t, ev.PayloadErr, batpak.ErrSealed)
		} else {
			assert.ErrorIs(t, ev.PayloadErr, batpak.ErrShredded)
		}
	}
	vr, err = ro.Verify(bg)
	require.NoError(t, err)
	assert.True(t, vr.OK())
}

// TestWrongKeyChangesNothing opens an encrypted store, left with work for
// recovery (a torn tail, a compaction's leftover, no checkpoint), with the
// wrong key and without a key: both fail before anything is written —
// every file byte for byte as before, no file made or removed. Read-only
// without a key works; the right key then opens it and recovers.
func TestWrongKeyChangesNothing(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, encrypted)
	for i := range 50 {
		mustAppend(t, s, coord(t, fmt.Sprintf("user:%d", i%4), "eu"), kindNote, secretOf(i))
	}
	closeStore(t, s)
	require.NoError(t, os.Remove(filepath.Join(dir, "CHECKPOINT")))
	seg := filepath.Join(dir, segmentFiles(t, vfs.OS, dir)[0])
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	require.NoError(t, err)
	fi, err := f.Stat()
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0x30, 0, 0, 0, 0xde, 0xad}, fi.Size()) // a torn frame
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "0000000000000009.compact"), []byte("leftover"), 0o600))
	before := dirBytes(t, dir)

	for name, opts := range map[string][]batpak.Option{
		"wrong key": {batpak.WithEncryption(keyring.MasterKey([32]byte{1}))},
		"no key":    nil,
	} {
		_, err := tryOpen(dir, opts...)
		require.Error(t, err, name)
		assert.Equal(t, before, dirBytes(t, dir), "%s: the directory changed", name)
		switch name {
		case "wrong key":
			assert.ErrorIs(t, err, batpak.ErrWrongKey)
			_, err = batpak.OpenReadOnly(dir, append(opts, quiet)...)
			assert.ErrorIs(t, err, batpak.ErrWrongKey)
		case "no key":
			assert.ErrorIs(t, err, batpak.ErrKeyRequired)
		}
		assert.Equal(t, before, dirBytes(t, dir), "%s: the directory changed", name)
	}

	ro, err := batpak.OpenReadOnly(dir, quiet)
	require.NoError(t, err)
	evs := all(t, ro)
	assert.Len(t, evs, 50)
	assert.ErrorIs(t, evs[0].PayloadErr, batpak.ErrSealed)
	require.NoError(t, ro.Close())
	assert.Equal(t, before, dirBytes(t, dir))

	s = openStore(t, dir, encrypted)
	assert.True(t, s.Stats().Recovery.Torn)
	evs = all(t, s)
	assert.Len(t, evs, 50)
	require.NoError(t, evs[49].PayloadErr)
}

// TestShredWithoutEncryption: a plain store has nothing to shred.
func TestShredWithoutEncryption(t *testing.T) {
	s := openStore(t, t.TempDir())
	mustAppend(t, s, coord(t, "user:alice", "eu"), kindNote, secretOf(1))
	assert.ErrorIs(t, s.Shred(bg, "user:alice"), batpak.ErrNotEncrypted)
	s2 := openStore(t, t.TempDir(), encrypted)
	assert.NoError(t, s2.Shred(bg, "user:nobody"), "nothing to shred is not an error")
	assert.ErrorIs(t, s2.Shred(bg, ""), batpak.ErrInvalidCoordinate)
}

// TestEncryptionOnAnExistingStore: a plain store opened with a key keeps
// its plaintext events readable and seals the new ones; from then on it
// needs the key.
func TestEncryptionOnAnExistingStore(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	old := mustAppend(t, s, coord(t, "user:alice", "eu"), kindNote, secretOf(1))
	closeStore(t, s)
	s = openStore(t, dir, encrypted)
	sealed := mustAppend(t, s, coord(t, "user:alice", "eu"), kindNote, secretOf(2))
	for _, id := range []batpak.ID{old.ID, sealed.ID} {
		ev, err := s.Get(bg, id)
		require.NoError(t, err)
		require.NoError(t, ev.PayloadErr)
	}
	// Shredding alice erases what was sealed; her plaintext event stays
	// readable: it was never encrypted.
	require.NoError(t, s.Shred(bg, "user:alice"))
	ev, err := s.Get(bg, old.ID)
	require.NoError(t, err)
	assert.NoError(t, ev.PayloadErr)
	ev, err = s.Get(bg, sealed.ID)
	require.NoError(t, err)
	assert.ErrorIs(t, ev.PayloadErr, batpak.ErrShredded)
	closeStore(t, s)
	_, err = tryOpen(dir)
	assert.ErrorIs(t, err, batpak.ErrKeyRequired)
}

// dirBytes maps every file under dir to its bytes.
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = b
		return err
	}))
	return out
}
