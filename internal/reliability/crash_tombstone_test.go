package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

const tombstoneMemDir = "/tombstone"

var tombstoneKind = event.MustCustom(1, 7)

// TestTombstoneCompactionCrashAtEveryOperationLosesNothing crashes the file
// system after each mutating operation of Open + Compact (with a Tombstone
// rule) + Close, and checks each image: it opens, holds every event
// exactly once at its global sequence, each either as written or — only if
// picked — as its tombstone (id, coordinate, sequence and flags kept,
// payload empty), and verifies.
func TestTombstoneCompactionCrashAtEveryOperationLosesNothing(t *testing.T) {
	ctx := context.Background()
	base := vfs.NewMem()
	opts := []batpak.Option{batpak.WithFS(base), batpak.WithSegmentSize(64 << 10)}
	s, err := batpak.Open(tombstoneMemDir, opts...)
	require.NoError(t, err)
	type want struct {
		global  uint64
		entity  string
		seq     uint64
		payload []byte
	}
	var written []batpak.Receipt
	wants := map[batpak.ID]want{}
	for i := range 200 {
		c := event.MustCoordinate(fmt.Sprintf("user:%d", i%3), "pii")
		p := bytes.Repeat([]byte{byte(i)}, 1400)
		var rs []batpak.Receipt
		if i%11 == 10 {
			rs, err = s.AppendBatch(ctx, []batpak.BatchItem{
				{Coord: c, Kind: tombstoneKind, Payload: p},
				{Coord: event.MustCoordinate("user:0", "pii"), Kind: tombstoneKind, Payload: p},
			})
		} else {
			var r batpak.Receipt
			r, err = s.Append(ctx, c, tombstoneKind, p)
			rs = []batpak.Receipt{r}
		}
		require.NoError(t, err)
		for _, r := range rs {
			written = append(written, r)
			wants[r.ID] = want{global: r.Global, entity: r.Coordinate.Entity(), seq: r.Sequence, payload: p}
		}
	}
	require.NoError(t, s.Close())

	pick := func(ev *batpak.StoredEvent) bool { return ev.Coordinate.Entity() == "user:0" }
	run := func(fs *vfs.MemFS) error {
		s, err := batpak.Open(tombstoneMemDir, batpak.WithFS(fs), batpak.WithSegmentSize(64<<10))
		if err != nil {
			return err
		}
		_, err = s.Compact(ctx, batpak.CompactOptions{Tombstone: pick, TargetSize: 64 << 10})
		return errors.Join(err, s.Close())
	}
	check := func(img *vfs.MemFS) (tombs int, err error) {
		s, err := batpak.Open(tombstoneMemDir, batpak.WithFS(img))
		if err != nil {
			return 0, fmt.Errorf("open: %w", err)
		}
		defer s.Close()
		n := 0
		for ev, err := range s.Query(ctx, event.AllEvents()) {
			if err != nil {
				return 0, err
			}
			n++
			w, ok := wants[ev.ID]
			switch {
			case !ok:
				return 0, fmt.Errorf("event %v was never written", ev.ID)
			case ev.Global != w.global || ev.Coordinate.Entity() != w.entity || ev.Sequence != w.seq:
				return 0, fmt.Errorf("event %v moved: global %d seq %d, want %d %d", ev.ID, ev.Global, ev.Sequence, w.global, w.seq)
			case ev.Kind == event.KindTombstone:
				if w.entity != "user:0" || len(ev.Payload) != 0 {
					return 0, fmt.Errorf("event %v of %s is a tombstone with %d payload bytes", ev.ID, w.entity, len(ev.Payload))
				}
				tombs++
			case ev.Kind != tombstoneKind || !bytes.Equal(ev.Payload, w.payload):
				return 0, fmt.Errorf("event %v changed (kind %v)", ev.ID, ev.Kind)
			}
		}
		if n != len(written) {
			return 0, fmt.Errorf("%d events, want %d", n, len(written))
		}
		rep, err := s.Verify(ctx)
		if err != nil || !rep.OK() {
			return 0, fmt.Errorf("verify: %v %v", err, rep.Problem)
		}
		if rep.Tombstones != tombs {
			return 0, fmt.Errorf("verify counted %d tombstones, the reads %d", rep.Tombstones, tombs)
		}
		return tombs, nil
	}

	probe := base.CrashClone(vfs.CrashOptions{})
	require.NoError(t, run(probe))
	all, err := check(probe)
	require.NoError(t, err)
	require.Positive(t, all)
	total := probe.Ops()
	partial := 0
	for _, mode := range []vfs.CrashOptions{{}, {KeepUnsyncedFraction: 1}} {
		for k := 0; k <= total; k++ {
			fs := base.CrashClone(vfs.CrashOptions{})
			fs.SetCrashAfter(k, mode, nil)
			_ = run(fs)
			img := fs.Crashed()
			if img == nil {
				continue
			}
			tombs, err := check(img)
			if err != nil {
				t.Errorf("crash after op %d of %d (keep unsynced %v): %v", k, total, mode.KeepUnsyncedFraction, err)
			}
			if tombs > 0 && tombs < all {
				partial++
			}
		}
	}
	t.Logf("%d operations; %d images with some groups compacted", total, partial)
}
