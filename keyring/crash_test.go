package keyring_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/vfs"
)

// sealedPayload is a payload a run sealed, and what it must open to.
type sealedPayload struct {
	coord  event.Coordinate
	plain  string
	sealed []byte
}

// TestCrashAtEveryOperation crashes the file system after each mutating
// operation of a session that makes keys (two new blocks), shreds an
// entity and seals for it again, and checks each crash image: the keyset
// opens with the master key; every payload sealed before the crash whose
// key was not shredded opens (a key is durable before it seals anything,
// and a shred loses no other key); the shredded entity's old payload is
// either still readable (the shred had not committed) or shredded — never
// unknown — and shredded for certain if Shred had returned. It runs with
// nothing unsynced surviving and with everything unsynced surviving.
func TestCrashAtEveryOperation(t *testing.T) {
	base := vfs.NewMem()
	kr := openNew(t, base)
	var before []sealedPayload
	for i := range 6 {
		c := event.MustCoordinate(fmt.Sprintf("user:%d", i), "eu")
		before = append(before, sealedPayload{c, c.Entity(), seal(t, kr, c, c.Entity())})
	}
	require.NoError(t, kr.Close())
	victim := before[3]

	type result struct {
		sealed   []sealedPayload
		shredded bool // Shred returned without error
	}
	run := func(fsys vfs.FS) (res result, err error) {
		kr, err := keyring.Open(fsys, dir, master, keyring.Options{})
		if err != nil {
			return res, err
		}
		defer func() { err = errors.Join(err, kr.Close()) }()
		sealFor := func(c event.Coordinate, plain string) error {
			b, err := kr.Seal(c, kind, 0, event.CodecJSON, []byte(plain))
			if err == nil {
				res.sealed = append(res.sealed, sealedPayload{c, plain, b})
			}
			return err
		}
		for i := 6; i < 20; i++ {
			c := event.MustCoordinate(fmt.Sprintf("user:%d", i), "eu")
			if err := sealFor(c, c.Entity()); err != nil {
				return res, err
			}
		}
		if _, err := kr.Shred(victim.coord.Entity(), []uint64{keyOf(t, victim.sealed)}); err != nil {
			return res, err
		}
		res.shredded = true
		if err := sealFor(victim.coord, "after the shred"); err != nil {
			return res, err
		}
		for i := 20; i < 60; i++ { // another block, after the shred
			c := event.MustCoordinate(fmt.Sprintf("user:%d", i), "eu")
			if err := sealFor(c, c.Entity()); err != nil {
				return res, err
			}
		}
		return res, nil
	}
	check := func(img vfs.FS, res result) error {
		kr, err := keyring.Open(img, dir, master, keyring.Options{})
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		defer kr.Close()
		for _, p := range append(append([]sealedPayload{}, before...), res.sealed...) {
			got, err := kr.Open(view(t, p.coord, kind, 0, p.sealed), false)
			if p.coord == victim.coord && p.plain == victim.plain {
				switch {
				case errors.Is(err, event.ErrShredded):
				case res.shredded:
					return fmt.Errorf("the shred returned, and the victim's payload reads: %q, %v", got, err)
				case err != nil:
					return fmt.Errorf("the victim's payload, not yet shredded: %w", err)
				}
				continue
			}
			if err != nil || string(got) != p.plain {
				return fmt.Errorf("%s's payload %q: got %q, %v", p.coord.Entity(), p.plain, got, err)
			}
		}
		return nil
	}

	probe := base.CrashClone(vfs.CrashOptions{})
	res, err := run(probe)
	require.NoError(t, err)
	require.True(t, res.shredded)
	require.NoError(t, check(probe, res))
	total := probe.Ops()
	shredded := 0
	for _, mode := range []vfs.CrashOptions{{}, {KeepUnsyncedFraction: 1}, {KeepUnsyncedFraction: 0.5, Seed: 7, BlockSize: 16}} {
		for k := 0; k <= total; k++ {
			fsys := base.CrashClone(vfs.CrashOptions{})
			fsys.SetCrashAfter(k, mode, nil)
			res, _ := run(fsys)
			img := fsys.Crashed()
			if img == nil {
				continue
			}
			if err := check(img, res); err != nil {
				t.Errorf("crash after operation %d of %d (keep unsynced %v): %v", k, total, mode.KeepUnsyncedFraction, err)
			}
			if res.shredded {
				shredded++
			}
			// Recovery itself may crash too: crash the image's repair at
			// its first operation, then recover again.
			again := img.CrashClone(vfs.CrashOptions{})
			again.SetCrashAfter(1, vfs.CrashOptions{}, nil)
			if kr, err := keyring.Open(again, dir, master, keyring.Options{}); err == nil {
				kr.Close()
			}
			if img2 := again.Crashed(); img2 != nil {
				if err := check(img2, res); err != nil {
					t.Errorf("crash after operation %d, then in recovery: %v", k, err)
				}
			}
		}
	}
	t.Logf("%d operations, 3 crash modes; %d images after the shred returned", total, shredded)
}
