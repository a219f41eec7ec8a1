package batpaktest_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/batpaktest"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

var (
	ctx   = context.Background()
	kind  = event.MustCustom(1, 1)
	coord = event.MustCoordinate("account:1", "bank:1")
)

func appendN(t *testing.T, s *batpak.Store, n int, d batpak.Durability) {
	t.Helper()
	for i := range n {
		_, err := s.AppendWithOptions(ctx, coord, kind, i, batpak.AppendOptions{Durability: d})
		require.NoError(t, err)
	}
}

func TestOpenIsInMemoryAndClosedWhenTheTestEnds(t *testing.T) {
	var s *batpak.Store
	t.Run("inner", func(t *testing.T) {
		s = batpaktest.Open(t)
		appendN(t, s, 3, batpak.Durable)
		assert.EqualValues(t, 3, s.Stats().Events)
		files, err := batpaktest.FS(t, s).List(batpaktest.Dir)
		require.NoError(t, err)
		assert.NotEmpty(t, files, "the store's files are on its in-memory file system")
	})
	_, err := s.Append(ctx, coord, kind, 1)
	assert.ErrorIs(t, err, batpak.ErrClosed, "closed by the inner test's cleanup")
}

func TestEachOpenHasItsOwnFileSystem(t *testing.T) {
	a, b := batpaktest.Open(t), batpaktest.Open(t) // the same Dir, no lock conflict
	appendN(t, a, 2, batpak.Durable)
	assert.Zero(t, b.Stats().Events)
	assert.NotSame(t, batpaktest.FS(t, a), batpaktest.FS(t, b))
}

func TestCrashKeepsDurableEventsAndLosesUnsyncedOnes(t *testing.T) {
	// No on-write sync by count or time: only Sync and durable appends sync.
	s := batpaktest.Open(t, batpak.WithSyncEvery(0, 0))
	appendN(t, s, 5, batpak.Durable)
	appendN(t, s, 4, batpak.OnWrite)
	require.EqualValues(t, 9, s.Stats().Events)

	s2 := batpaktest.Crash(t, s)
	assert.EqualValues(t, 5, s2.Stats().Events, "the on-write events after the last fsync are lost")
	_, err := s.Append(ctx, coord, kind, 1)
	assert.ErrorIs(t, err, batpak.ErrClosed, "the crashed store is closed")

	// Global sequences are never reused after a crash.
	r, err := s2.Append(ctx, coord, kind, 1)
	require.NoError(t, err)
	assert.Greater(t, r.Global, uint64(9))
	assert.EqualValues(t, 5, r.Sequence, "the entity continues after its last durable event")
}

func TestCrashAfterSyncKeepsEverything(t *testing.T) {
	s := batpaktest.Open(t, batpak.WithSyncEvery(0, 0))
	appendN(t, s, 4, batpak.OnWrite)
	require.NoError(t, s.Sync(ctx))
	s = batpaktest.Crash(t, s)
	assert.EqualValues(t, 4, s.Stats().Events)
}

func TestCrashWithKeptUnsyncedBlocksRecovers(t *testing.T) {
	for seed := range uint64(8) {
		s := batpaktest.Open(t, batpak.WithSyncEvery(0, 0))
		appendN(t, s, 3, batpak.Durable)
		appendN(t, s, 50, batpak.OnWrite)
		s = batpaktest.CrashWith(t, s, vfs.CrashOptions{KeepUnsyncedFraction: 0.5, BlockSize: 64, Seed: seed})
		events := s.Stats().Events
		assert.GreaterOrEqual(t, events, 3, "seed %d: durable events survive", seed)
		assert.LessOrEqual(t, events, 53, "seed %d", seed)
		appendN(t, s, 1, batpak.Durable) // and the store goes on
	}
}

func TestReopenKeepsOptionsAndEvents(t *testing.T) {
	s := batpaktest.Open(t, batpak.WithDurability(batpak.OnWrite), batpak.WithSyncEvery(0, 0))
	appendN(t, s, 3, batpak.DefaultDurability)
	s = batpaktest.Reopen(t, s)
	assert.EqualValues(t, 3, s.Stats().Events, "a clean close syncs on-write events")
	appendN(t, s, 2, batpak.DefaultDurability)
	assert.EqualValues(t, 2, s.Diagnostics().Unsynced, "still on-write after the reopen")
	s = batpaktest.Crash(t, s)
	assert.EqualValues(t, 3, s.Stats().Events, "and the options survive a crash too")
}

// fatalRecorder is a testing.TB whose Fatalf ends the goroutine that
// called it and records the failure, so a test can check that a helper
// fails the test it is given.
type fatalRecorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *fatalRecorder) didFail(fn func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.TB.Fatal("the helper neither returned nor failed")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func TestMisuseFailsTheTest(t *testing.T) {
	s := batpaktest.Open(t)
	s2 := batpaktest.Crash(t, s)

	r := &fatalRecorder{TB: t}
	assert.True(t, r.didFail(func() { batpaktest.Crash(r, s) }), "crashing a store twice")
	r = &fatalRecorder{TB: t}
	assert.True(t, r.didFail(func() { batpaktest.Reopen(r, s) }), "reopening a crashed store")

	mine, err := batpak.Open("/db", batpak.WithFS(vfs.NewMem()))
	require.NoError(t, err)
	defer mine.Close()
	r = &fatalRecorder{TB: t}
	assert.True(t, r.didFail(func() { batpaktest.Crash(r, mine) }), "a store this package did not open")
	r = &fatalRecorder{TB: t}
	assert.True(t, r.didFail(func() { batpaktest.FS(r, mine) }))

	appendN(t, s2, 1, batpak.Durable) // the store Crash returned works
}
