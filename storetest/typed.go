package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/projector"
)

// The suite's typed kind, as three releases of a program define it: the
// payload of "storetest.walked" was a walkV1, then a walkV2, now a walkV3.
// Each release has its own registry (a program has one); the suite never
// touches kinds.Default, which belongs to the program running it.
type (
	walkV1 struct{ Steps int }
	walkV2 struct {
		Steps int
		Dir   string
	}
	walkV3 struct {
		Meters int
		Dir    string
	}
)

func walk1to2(w walkV1) (walkV2, error) { return walkV2{Steps: w.Steps, Dir: "north"}, nil }
func walk2to3(w walkV2) (walkV3, error) { return walkV3{Meters: 2 * w.Steps, Dir: w.Dir}, nil }

var (
	walkedV1 = kinds.MustDefine[walkV1](kinds.NewRegistry(), "storetest.walked", 0x3, 0x001)
	walkedV2 = kinds.MustDefine[walkV2](kinds.NewRegistry(), "storetest.walked", 0x3, 0x001,
		kinds.Version(2), kinds.Upcast(1, walk1to2))
	typedKinds = kinds.NewRegistry()
	// Walked is the current release's kind.
	Walked = kinds.MustDefine[walkV3](typedKinds, "storetest.walked", 0x3, 0x001,
		kinds.Version(3), kinds.Upcast(1, walk1to2), kinds.Upcast(2, walk2to3))
)

// walkTotal is a projection that knows only the current shape.
type walkTotal struct {
	Meters int
	Dirs   string
}

func (*walkTotal) Projection() projector.Spec {
	return projector.Spec{Name: "storetest-walk", Version: 1, Kinds: []event.EventKind{Walked.Kind()}, Incremental: true}
}

func (w *walkTotal) Apply(ev *event.StoredEvent) error {
	v, err := Walked.Decode(ev)
	if err != nil {
		return err
	}
	w.Meters += v.Meters
	w.Dirs += v.Dir[:1]
	return nil
}

// typedKinds appends a kind's events as three releases of a program would
// (versions 1, 2 and 3, an untyped one and a batch) and reads them back as
// the current release's type on every read path of the facade: Get,
// Query, Stream, Latest, a cursor (history and live), a projection.
func (s *suite) typedKinds(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("walker:1", "x")
	r1, err := batpak.AppendTyped(bg, st, walkedV1, c, walkV1{Steps: 1})
	require.NoError(t, err)
	_, err = batpak.AppendTyped(bg, st, walkedV2, c, walkV2{Steps: 2, Dir: "east"})
	require.NoError(t, err)
	mustAppend(t, st, c, KindMoved, Moved{N: 1})               // another kind in the stream
	_, err = st.Append(bg, c, Walked.Kind(), walkV1{Steps: 4}) // untyped: unversioned, read as version 1
	require.NoError(t, err)
	_, err = st.AppendBatch(bg, []batpak.BatchItem{
		batpak.TypedItem(Walked, c, walkV3{Meters: 5, Dir: "south"}),
		batpak.TypedItem(walkedV2, c, walkV2{Steps: 3, Dir: "west"}),
	})
	require.NoError(t, err)

	want := []walkV3{{2, "north"}, {4, "east"}, {8, "north"}, {5, "south"}, {6, "west"}}
	var versions []uint32
	for _, ev := range collect(t, st.Query(bg, event.ForEntity("walker:1").WithKind(Walked.Kind()))) {
		versions = append(versions, ev.PayloadVersion)
	}
	assert.Equal(t, []uint32{1, 2, 0, 3, 2}, versions, "each event keeps the version it was written with")

	var got []walkV3
	for e, err := range Walked.Query(bg, st, event.ForEntity("walker:1")) {
		require.NoError(t, err)
		got = append(got, e.Data)
	}
	assert.Equal(t, want, got, "Query")
	got = got[:0]
	for e, err := range Walked.Events(st.Stream(bg, "walker:1")) {
		require.NoError(t, err)
		got = append(got, e.Data)
	}
	assert.Equal(t, want, got, "Stream, the other kind passed over")

	e, err := Walked.Get(bg, st, r1.ID)
	require.NoError(t, err)
	assert.Equal(t, walkV3{2, "north"}, e.Data, "Get of a version-1 event")
	assert.Equal(t, r1.Global, e.Global)
	latest, err := st.Latest(bg, "walker:1")
	require.NoError(t, err)
	lv, err := Walked.Decode(latest)
	require.NoError(t, err)
	assert.Equal(t, walkV3{6, "west"}, lv, "Latest")

	// An old release cannot read what a newer one wrote.
	_, err = walkedV1.Get(bg, st, latest.ID)
	require.ErrorIs(t, err, kinds.ErrVersionTooNew)

	cur, err := st.Cursor(event.ForEntity("walker:*").WithKind(Walked.Kind()), 0)
	require.NoError(t, err)
	tc := Walked.Cursor(cur)
	defer tc.Close()
	ctx := s.waitCtx(t)
	for i, w := range want {
		e, err := tc.Next(ctx)
		require.NoError(t, err)
		assert.Equal(t, w, e.Data, "cursor, event %d", i)
	}
	live, err := batpak.AppendTyped(bg, st, walkedV1, event.MustCoordinate("walker:2", "x"), walkV1{Steps: 10})
	require.NoError(t, err)
	e, err = tc.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, walkV3{20, "north"}, e.Data, "cursor, live")
	assert.Equal(t, live.Global, tc.Position())

	total, err := batpak.Project[walkTotal](bg, st, "walker:1", batpak.Consistent)
	require.NoError(t, err)
	assert.Equal(t, walkTotal{Meters: 25, Dirs: "nensw"}, total, "a projection that knows only version 3")

	names, err := st.KindNames().Table(bg)
	require.NoError(t, err)
	assert.Equal(t, "storetest.walked", names[Walked.Kind()], "learned by the typed appends")
}

// kindNames checks the store's kind names: learned on a typed append,
// never renamed (the append is refused and nothing is written), refused for
// a typed payload appended as another kind, registered explicitly, and kept
// across a reopen. A retried keyed append must repeat the payload's
// version too.
func (s *suite) kindNames(t *testing.T) {
	st := s.open(t)
	c := event.MustCoordinate("walker:1", "x")
	_, err := batpak.AppendTyped(bg, st, Walked, c, walkV3{Meters: 1, Dir: "up"})
	require.NoError(t, err)

	renamed := kinds.MustDefine[walkV3](kinds.NewRegistry(), "storetest.strolled", 0x3, 0x001, kinds.Version(3))
	_, err = batpak.AppendTyped(bg, st, renamed, c, walkV3{Meters: 1})
	require.ErrorIs(t, err, kinds.ErrNameMismatch)
	taken := kinds.MustDefine[walkV3](kinds.NewRegistry(), "storetest.walked", 0x3, 0x002)
	_, err = batpak.AppendTyped(bg, st, taken, c, walkV3{Meters: 1})
	require.ErrorIs(t, err, kinds.ErrNameMismatch)
	_, err = st.Append(bg, c, KindMoved, Walked.Payload(walkV3{Meters: 1}))
	require.ErrorIs(t, err, kinds.ErrWrongKind)
	_, err = st.AppendBatch(bg, []batpak.BatchItem{batpak.TypedItem(renamed, c, walkV3{})})
	require.ErrorIs(t, err, kinds.ErrNameMismatch)
	assert.Len(t, collect(t, st.Stream(bg, "walker:1")), 1, "refused appends wrote nothing")

	extra := kinds.NewRegistry()
	kinds.MustDefine[Moved](extra, "storetest.hopped", 0x3, 0x003)
	require.NoError(t, kinds.Register(bg, st.KindNames(), extra))
	want := kinds.Table{Walked.Kind(): "storetest.walked", 0x3003: "storetest.hopped"}
	names, err := st.KindNames().Table(bg)
	require.NoError(t, err)
	assert.Equal(t, want, names)

	// Idempotency: the same bytes under another payload version are
	// another event.
	sameBytesV2 := kinds.MustDefine[walkV1](kinds.NewRegistry(), "storetest.walked", 0x3, 0x001,
		kinds.Version(2), kinds.Upcast(1, func(w walkV1) (walkV1, error) { return w, nil }))
	key := batpak.AppendOptions{IdempotencyKey: "walk-once"}
	first, err := batpak.AppendTyped(bg, st, walkedV1, c, walkV1{Steps: 7}, key)
	require.NoError(t, err)
	again, err := batpak.AppendTyped(bg, st, walkedV1, c, walkV1{Steps: 7}, key)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.Global, again.Global)
	_, err = batpak.AppendTyped(bg, st, sameBytesV2, c, walkV1{Steps: 7}, key)
	require.ErrorIs(t, err, batpak.ErrDuplicate)

	if s.cfg.reopen != nil {
		st = s.cfg.reopen(t, st)
		names, err = st.KindNames().Table(bg)
		require.NoError(t, err)
		assert.Equal(t, want, names, "after a reopen")
		_, err = batpak.AppendTyped(bg, st, renamed, c, walkV3{Meters: 1})
		require.ErrorIs(t, err, kinds.ErrNameMismatch, "after a reopen")
	}
}
