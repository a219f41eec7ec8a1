package batpak_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/vfs"
)

// The facade's typed kinds live in the default registry, as a program's
// do. Each shape below is one release of the "test.trip" payload.
type (
	tripV1 struct{ Km int }
	tripV2 struct {
		Meters int
		Mode   string
	}
)

func tripUp(t tripV1) (tripV2, error) { return tripV2{Meters: 1000 * t.Km, Mode: "walk"}, nil }

var (
	// tripOld is the first release's kind, in a registry of its own: the
	// default registry holds the current release only.
	tripOld = kinds.MustDefine[tripV1](kinds.NewRegistry(), "test.trip", 0x4, 0x001)
	trip    = batpak.DefineKind[tripV2]("test.trip", 0x4, 0x001, kinds.Version(2), kinds.Upcast(1, tripUp))
	alarm   = batpak.DefineKind[string]("test.alarm", 0x4, 0x002)
)

// TestDefineKindPanicsOnACollision: the default registry refuses a second
// type for a kind at definition.
func TestDefineKindPanicsOnACollision(t *testing.T) {
	assert.PanicsWithError(t,
		`kinds: kind or name already defined: kind 0x4001 is already "test.trip" (type batpak_test.tripV2); "test.other" (type batpak_test.tripV1) cannot have it too`,
		func() { batpak.DefineKind[tripV1]("test.other", 0x4, 0x001) })
}

// TestDecodeAsUpcasts reads old and new events by any path into the
// current type through the default registry.
func TestDecodeAsUpcasts(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := event.MustCoordinate("car:1", "x")
	r1, err := batpak.AppendTyped(bg, s, tripOld, c, tripV1{Km: 3})
	require.NoError(t, err)
	r2, err := batpak.AppendTyped(bg, s, trip, c, tripV2{Meters: 10, Mode: "bike"})
	require.NoError(t, err)
	_, err = s.Append(bg, c, kindMoved, "untyped")
	require.NoError(t, err)

	ev, err := s.Get(bg, r1.ID)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), ev.PayloadVersion)
	got, err := batpak.DecodeAs[tripV2](ev)
	require.NoError(t, err)
	assert.Equal(t, tripV2{Meters: 3000, Mode: "walk"}, got)
	ev, err = s.Get(bg, r2.ID)
	require.NoError(t, err)
	got, err = batpak.DecodeAs[tripV2](ev)
	require.NoError(t, err)
	assert.Equal(t, tripV2{Meters: 10, Mode: "bike"}, got)

	_, err = batpak.DecodeAs[tripV1](ev)
	require.ErrorIs(t, err, kinds.ErrTypeMismatch)
	latest, err := s.Latest(bg, "car:1")
	require.NoError(t, err)
	_, err = batpak.DecodeAs[string](latest)
	require.ErrorIs(t, err, kinds.ErrUnregistered, "an untyped kind")

	_, err = batpak.AppendTyped(bg, s, trip, c, tripV2{}, batpak.AppendOptions{}, batpak.AppendOptions{})
	require.ErrorIs(t, err, batpak.ErrInvalidOption)
}

// TestTypedReactLoopAndSubscription: a reactor decodes old events as the
// current type, and a lossy subscription's notification reads back typed.
func TestTypedReactLoopAndSubscription(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	sub, err := s.Subscribe(event.AllEvents().WithKind(alarm.Kind()), 4)
	require.NoError(t, err)
	defer sub.Close()
	loop, err := s.ReactLoop(ctx, event.AllEvents().WithKind(trip.Kind()), func(ctx context.Context, ev *batpak.StoredEvent) ([]batpak.BatchItem, error) {
		v, err := batpak.DecodeAs[tripV2](ev)
		if err != nil {
			return nil, err
		}
		return []batpak.BatchItem{batpak.TypedItem(alarm, event.MustCoordinate("alarm:1", "x"), v.Mode)}, nil
	}, batpak.ReactFrom(0))
	require.NoError(t, err)
	_, err = batpak.AppendTyped(bg, s, tripOld, event.MustCoordinate("car:1", "x"), tripV1{Km: 1})
	require.NoError(t, err)
	n, err := sub.Recv(ctx)
	require.NoError(t, err)
	e, err := alarm.Get(ctx, s, n.ID)
	require.NoError(t, err)
	assert.Equal(t, "walk", e.Data, "the reactor saw the version-1 event as a tripV2")
	require.NoError(t, loop.Stop(ctx))
}

// TestKindNamesReadOnlyAndSnapshot: a read-only store reads the names the
// writer kept, learns none itself, and picks up new ones on Refresh; a
// snapshot carries the names, and its manifest checks them.
func TestKindNamesReadOnlyAndSnapshot(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	c := event.MustCoordinate("car:1", "x")
	_, err := batpak.AppendTyped(bg, s, trip, c, tripV2{Meters: 1})
	require.NoError(t, err)

	ro, err := batpak.OpenReadOnly(dir, quiet)
	require.NoError(t, err)
	defer ro.Close()
	names, err := ro.KindNames().Table(bg)
	require.NoError(t, err)
	assert.Equal(t, kinds.Table{trip.Kind(): "test.trip"}, names)
	_, err = batpak.AppendTyped(bg, ro, alarm, c, "x")
	require.ErrorIs(t, err, batpak.ErrReadOnly)
	_, err = batpak.AppendTyped(bg, s, alarm, c, "ring")
	require.NoError(t, err)
	_, err = ro.Refresh(bg)
	require.NoError(t, err)
	names, err = ro.KindNames().Table(bg)
	require.NoError(t, err)
	assert.Equal(t, kinds.Table{trip.Kind(): "test.trip", alarm.Kind(): "test.alarm"}, names)

	snap := filepath.Join(t.TempDir(), "snap")
	man, err := s.Snapshot(bg, snap)
	require.NoError(t, err)
	assert.Equal(t, kinds.FileName, man.Files[len(man.Files)-1].Name)
	_, err = batpak.VerifySnapshot(bg, snap)
	require.NoError(t, err)
	copied, err := kinds.ReadFile(vfs.OS, snap)
	require.NoError(t, err)
	assert.Equal(t, names, copied)

	writeFile(t, vfs.OS, filepath.Join(snap, kinds.FileName), []byte(`{"format": 1, "kinds": {}}`+"\n"))
	_, err = batpak.VerifySnapshot(bg, snap)
	require.ErrorIs(t, err, batpak.ErrSnapshotMismatch, "the manifest covers the names")
}

// TestDamagedKindNames: a store whose names file is damaged opens and
// works untyped; typed appends are refused and the file is left as it is.
func TestDamagedKindNames(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	_, err := batpak.AppendTyped(bg, s, trip, event.MustCoordinate("car:1", "x"), tripV2{Meters: 1})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	path := filepath.Join(dir, kinds.FileName)
	writeFile(t, vfs.OS, path, []byte("{damaged"))

	s = openStore(t, dir)
	_, err = s.Append(bg, event.MustCoordinate("car:1", "x"), kindMoved, "untyped")
	require.NoError(t, err)
	_, err = batpak.AppendTyped(bg, s, trip, event.MustCoordinate("car:1", "x"), tripV2{Meters: 2})
	require.ErrorIs(t, err, kinds.ErrNamesCorrupt)
	assert.Contains(t, err.Error(), path)
	_, err = s.KindNames().Table(bg)
	require.ErrorIs(t, err, kinds.ErrNamesCorrupt)
	require.Equal(t, "{damaged", string(readFile(t, vfs.OS, path)))
}
