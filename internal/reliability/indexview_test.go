package reliability_test

import (
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/vfs"
	"github.com/stretchr/testify/require"
)

// The differentials (checkpoint against scan, footers against scan) and
// the compaction crash test compare what the store's index holds, which
// the public API does not show: offsets, interned names, the id index.
// They look at it from the outside, through reader.Recover — the recovery
// batpak.Open runs, with the options Open gives it — rather than through
// the store's internals.

// indexView is everything an index answers, for comparing two.
type indexView struct {
	Entries  []index.Entry
	Names    []string
	Entities map[string][]uint64
	Scopes   map[string][]uint64
	IDs      map[batpak.ID]uint64
}

// recoverIndex runs the recovery batpak.Open runs on the store in dir of
// fsys, repairs included (a torn tail cut, compaction leftovers removed,
// the footer of a cleanly closed last segment cut for the writer to go on
// from), and closes the recovered segment files when the test ends.
func recoverIndex(t testing.TB, fsys vfs.FS, dir string) (*reader.Recovered, error) {
	t.Helper()
	rec, err := reader.Recover(reader.Options{FS: fsys, Dir: dir})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = rec.Segments.Close() })
	return rec, nil
}

// viewOf returns everything the recovered index answers.
func viewOf(t testing.TB, rec *reader.Recovered) indexView {
	t.Helper()
	x := rec.Index
	v := indexView{Entities: map[string][]uint64{}, Scopes: map[string][]uint64{}, IDs: map[batpak.ID]uint64{}}
	for e := range x.Query(event.AllEvents(), 0) {
		v.Entries = append(v.Entries, e)
		v.Names = append(v.Names, x.EntityName(e.Entity)+"@"+x.ScopeName(e.Scope))
		ev, err := rec.Segments.Read(x, e)
		require.NoError(t, err, "reading global %d", e.Global)
		byID, _ := x.LookupID(ev.ID)
		v.IDs[ev.ID] = byID.Global
	}
	for _, name := range x.Entities() {
		for e := range x.Query(event.ForEntity(name), 0) {
			v.Entities[name] = append(v.Entities[name], e.Global)
		}
	}
	for _, name := range x.Scopes() {
		for e := range x.Query(event.ForScope(name), 0) {
			v.Scopes[name] = append(v.Scopes[name], e.Global)
		}
	}
	return v
}

// reopenView returns the view of the index a reopening of the store in
// dir (on the OS file system) builds, and its recovery report. Recovery
// runs on a copy of dir, so the store's files stay as they are: Open would
// also cut the last segment's footer, but its Close would seal the segment
// again.
func reopenView(t *testing.T, dir string) (indexView, batpak.RecoveryReport) {
	t.Helper()
	v, rep, err := recoverView(t, vfs.OS, copyDir(t, dir))
	require.NoError(t, err)
	return v, rep
}

// recoverView returns the view of the index recovery builds for the
// store in dir of fsys, in place, and its report.
func recoverView(t *testing.T, fsys vfs.FS, dir string) (indexView, batpak.RecoveryReport, error) {
	t.Helper()
	rec, err := recoverIndex(t, fsys, dir)
	if err != nil {
		return indexView{}, batpak.RecoveryReport{}, err
	}
	return viewOf(t, rec), rec.Report, nil
}

// mustRecoverView is recoverView failing the test on an error.
func mustRecoverView(t *testing.T, fsys vfs.FS, dir string) (indexView, batpak.RecoveryReport) {
	t.Helper()
	v, rep, err := recoverView(t, fsys, dir)
	require.NoError(t, err)
	return v, rep
}
