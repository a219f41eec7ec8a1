package reliability_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/vfs"
)

const shredMemDir = "/shred"

var (
	shredKey  = batpak.WithEncryption(keyring.MasterKey([32]byte{7, 7, 7}))
	shredKind = event.MustCustom(1, 9)
)

// TestShredCrashAtEveryOperation crashes the file system after each
// mutating operation of a session that opens an encrypted store, appends
// for new entities (new key blocks), shreds one entity, appends to it
// again and closes, and checks each crash image — also after a second
// crash inside its recovery:
//
//   - it opens with the key, holds every acknowledged event, and verifies;
//   - every event of the other entities reads as written (a shred never
//     loses another entity's key, and no event outlives its key);
//   - the shredded entity's earlier events are all readable or all
//     ErrShredded — never a mix, never another error — and shredded for
//     certain if Shred had returned.
//
// It runs with nothing unsynced surviving and with everything surviving.
func TestShredCrashAtEveryOperation(t *testing.T) {
	base := vfs.NewMem()
	opts := []batpak.Option{batpak.WithFS(base), shredKey, quiet}
	s, err := batpak.Open(shredMemDir, opts...)
	require.NoError(t, err)
	want := map[batpak.ID]string{} // every event's payload
	for i := range 60 {
		c := event.MustCoordinate(fmt.Sprintf("user:%d", i%6), "eu")
		p := fmt.Sprintf("payload %d of %s", i, c.Entity())
		r, err := s.Append(bg, c, shredKind, []byte(p))
		require.NoError(t, err)
		want[r.ID] = p
	}
	require.NoError(t, s.Close())

	type result struct {
		acked    map[batpak.ID]string
		shredded bool
	}
	run := func(fs *vfs.MemFS) (res result) {
		res.acked = map[batpak.ID]string{}
		s, err := batpak.Open(shredMemDir, batpak.WithFS(fs), shredKey, quiet)
		if err != nil {
			return res
		}
		defer s.Close()
		add := func(entity string, i int) bool {
			p := fmt.Sprintf("later %d of %s", i, entity)
			r, err := s.Append(bg, event.MustCoordinate(entity, "eu"), shredKind, []byte(p))
			if err == nil {
				res.acked[r.ID] = p
			}
			return err == nil
		}
		for i := range 12 {
			if !add(fmt.Sprintf("user:new%d", i), i) {
				return res
			}
		}
		if s.Shred(bg, "user:3") != nil {
			return res
		}
		res.shredded = true
		for i := range 3 {
			if !add("user:3", i) {
				return res
			}
		}
		return res
	}
	check := func(img *vfs.MemFS, res result) error {
		s, err := batpak.Open(shredMemDir, batpak.WithFS(img), shredKey, quiet)
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		defer s.Close()
		seen := map[batpak.ID]bool{}
		victim := map[string]int{}
		for ev, err := range s.Query(bg, event.AllEvents()) {
			if err != nil {
				return err
			}
			seen[ev.ID] = true
			p, old := want[ev.ID]
			if !old {
				p = res.acked[ev.ID]
			}
			if old && ev.Coordinate.Entity() == "user:3" {
				switch {
				case errors.Is(ev.PayloadErr, batpak.ErrShredded):
					victim["shredded"]++
				case ev.PayloadErr == nil && string(ev.Payload) == p:
					victim["readable"]++
				default:
					return fmt.Errorf("user:3 event %d: %q, %v", ev.Global, ev.Payload, ev.PayloadErr)
				}
				continue
			}
			if ev.PayloadErr != nil || (p != "" && string(ev.Payload) != p) {
				return fmt.Errorf("%s event %d: %q, %v; want %q", ev.Coordinate.Entity(), ev.Global, ev.Payload, ev.PayloadErr, p)
			}
		}
		for id := range want {
			if !seen[id] {
				return fmt.Errorf("event %v of the first session lost", id)
			}
		}
		for id := range res.acked {
			if !seen[id] {
				return fmt.Errorf("acknowledged event %v lost", id)
			}
		}
		if len(victim) != 1 {
			return fmt.Errorf("user:3's events half shredded: %v", victim)
		}
		if res.shredded && victim["shredded"] == 0 {
			return fmt.Errorf("Shred returned, and user:3's events still read: %v", victim)
		}
		rep, err := s.Verify(bg)
		if err != nil || !rep.OK() {
			return fmt.Errorf("verify: %v %v", err, rep.Problem)
		}
		return nil
	}

	probe := base.CrashClone(vfs.CrashOptions{})
	res := run(probe)
	require.True(t, res.shredded)
	require.NoError(t, check(probe, res))
	total := probe.Ops()
	shredded := 0
	for _, mode := range []vfs.CrashOptions{{}, {KeepUnsyncedFraction: 1}} {
		for k := 0; k <= total; k++ {
			fs := base.CrashClone(vfs.CrashOptions{})
			fs.SetCrashAfter(k, mode, nil)
			res := run(fs)
			img := fs.Crashed()
			if img == nil {
				continue
			}
			if err := check(img, res); err != nil {
				t.Errorf("crash after operation %d of %d (keep unsynced %v): %v", k, total, mode.KeepUnsyncedFraction, err)
			}
			if res.shredded {
				shredded++
			}
			again := img.CrashClone(vfs.CrashOptions{})
			again.SetCrashAfter(2, vfs.CrashOptions{}, nil)
			if s, err := batpak.Open(shredMemDir, batpak.WithFS(again), shredKey, quiet); err == nil {
				s.Close()
			}
			if img2 := again.Crashed(); img2 != nil {
				if err := check(img2, res); err != nil {
					t.Errorf("crash after operation %d, then in recovery: %v", k, err)
				}
			}
		}
	}
	t.Logf("%d operations, 2 crash modes; %d images after Shred returned", total, shredded)
}
