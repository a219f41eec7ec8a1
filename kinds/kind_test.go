package kinds

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

func defineMoved(t *testing.T, r *Registry, opts ...Option) *Kind[movedV3] {
	t.Helper()
	if len(opts) == 0 {
		opts = []Option{Version(3), Upcast(1, v1to2), Upcast(2, v2to3)}
	}
	k, err := Define[movedV3](r, "player.moved", 0x1, 0x002, opts...)
	require.NoError(t, err)
	return k
}

// TestDecodeEveryVersion: one kind at version 3 reads its events of
// versions 1, 2 and 3 (and unversioned ones, as version 1) as a movedV3,
// in either codec.
func TestDecodeEveryVersion(t *testing.T) {
	k := defineMoved(t, NewRegistry())
	assert.Equal(t, event.EventKind(0x1002), k.Kind())
	for _, codec := range []event.Codec{event.CodecMsgPack, event.CodecJSON} {
		for _, tc := range []struct {
			version uint32
			payload any
			want    movedV3
		}{
			{0, movedV1{X: 4}, movedV3{To: "x4", Dist: 4}},
			{1, movedV1{X: 4}, movedV3{To: "x4", Dist: 4}},
			{2, movedV2{X: 4, Y: 5}, movedV3{To: "x4", Dist: 9}},
			{3, movedV3{To: "crypt", Dist: 1}, movedV3{To: "crypt", Dist: 1}},
		} {
			got, err := k.Decode(stored(t, k.Kind(), tc.version, codec, tc.payload))
			require.NoError(t, err, "version %d, %v", tc.version, codec)
			assert.Equal(t, tc.want, got, "version %d, %v", tc.version, codec)
		}
	}
}

// TestDecodeRefuses: what cannot be read is an error naming why, never a
// zero value passed off as the payload.
func TestDecodeRefuses(t *testing.T) {
	k := defineMoved(t, NewRegistry())
	_, err := k.Decode(stored(t, k.Kind(), 4, event.CodecMsgPack, movedV3{}))
	require.ErrorIs(t, err, ErrVersionTooNew)
	assert.Contains(t, err.Error(), "version 4 of player.moved")

	_, err = k.Decode(stored(t, 0x1003, 3, event.CodecMsgPack, movedV3{}))
	require.ErrorIs(t, err, ErrWrongKind)

	_, err = k.Decode(stored(t, k.Kind(), 3, event.CodecMsgPack, "not a struct"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoding event 7 as version 3 of player.moved")

	// A kind born at version 2: its upcasters start there, so a version-1
	// (or unversioned) event has no way up.
	born2, err := Define[movedV3](NewRegistry(), "player.moved", 0x1, 0x002, Version(3), Upcast(2, v2to3), Unversioned(2))
	require.NoError(t, err)
	_, err = born2.Decode(stored(t, born2.Kind(), 1, event.CodecMsgPack, movedV1{X: 1}))
	require.ErrorIs(t, err, ErrNoUpcaster)
	assert.Contains(t, err.Error(), "upcasters start at version 2")
	got, err := born2.Decode(stored(t, born2.Kind(), 0, event.CodecMsgPack, movedV2{X: 1, Y: 1}))
	require.NoError(t, err, "unversioned events read as version 2")
	assert.Equal(t, movedV3{To: "x1", Dist: 2}, got)

	noSteps, err := Define[movedV3](NewRegistry(), "player.moved", 0x1, 0x002, Version(3), Unversioned(3))
	require.NoError(t, err)
	_, err = noSteps.Decode(stored(t, noSteps.Kind(), 2, event.CodecMsgPack, movedV2{}))
	require.ErrorIs(t, err, ErrNoUpcaster)
	assert.Contains(t, err.Error(), "has no upcasters")

	boom := errors.New("boom")
	failing, err := Define[movedV3](NewRegistry(), "player.moved", 0x1, 0x002, Version(2),
		Upcast(1, func(movedV1) (movedV3, error) { return movedV3{}, boom }))
	require.NoError(t, err)
	_, err = failing.Decode(stored(t, failing.Kind(), 1, event.CodecMsgPack, movedV1{}))
	require.ErrorIs(t, err, ErrUpcast)
	require.ErrorIs(t, err, boom)
}

// TestUpcastFromAMap: an old shape need not survive as a Go type.
func TestUpcastFromAMap(t *testing.T) {
	k, err := Define[movedV2](NewRegistry(), "player.moved", 0x1, 0x002, Version(2),
		Upcast(1, func(m map[string]any) (movedV2, error) {
			x, ok := m["x"].(int8)
			if !ok {
				return movedV2{}, errors.New("no x")
			}
			return movedV2{X: int(x)}, nil
		}))
	require.NoError(t, err)
	got, err := k.Decode(stored(t, k.Kind(), 1, event.CodecMsgPack, movedV1{X: 6}))
	require.NoError(t, err)
	assert.Equal(t, movedV2{X: 6}, got)
}

// TestDefineChecksTheChain: every way the upcasters can fail to lead to
// the kind's type is refused when the kind is defined.
func TestDefineChecksTheChain(t *testing.T) {
	for name, tc := range map[string]struct {
		opts []Option
		want string
	}{
		"gap":             {[]Option{Version(4), Upcast(1, v1to2), Upcast(3, func(movedV2) (movedV3, error) { return movedV3{}, nil })}, "no upcaster from version 2 to 3"},
		"ends low":        {[]Option{Version(3), Upcast(1, v1to2)}, "no upcaster from version 2 to 3"},
		"twice":           {[]Option{Version(3), Upcast(1, v1to2), Upcast(1, v1to2), Upcast(2, v2to3)}, "two upcasters from version 1"},
		"from zero":       {[]Option{Version(2), Upcast(0, v1to2)}, "upcaster from version 0"},
		"past version":    {[]Option{Version(2), Upcast(1, v1to2), Upcast(2, v2to3)}, "upcaster from version 2"},
		"types disagree":  {[]Option{Version(3), Upcast(1, v1to2), Upcast(2, func(movedV1) (movedV3, error) { return movedV3{}, nil })}, "gives kinds.movedV2, but upcaster 2→3 takes kinds.movedV1"},
		"wrong last type": {[]Option{Version(2), Upcast(1, v1to2)}, "the last upcaster gives kinds.movedV2, but the kind's type is kinds.movedV3"},
		"version zero":    {[]Option{Version(0)}, "versions start at 1"},
		"unversioned 0":   {[]Option{Version(2), Upcast(1, func(movedV1) (movedV3, error) { return movedV3{}, nil }), Unversioned(0)}, "outside 1…2"},
		"unversioned new": {[]Option{Unversioned(2)}, "outside 1…1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Define[movedV3](NewRegistry(), "player.moved", 0x1, 0x002, tc.opts...)
			require.ErrorIs(t, err, ErrDefinition)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestDefineChecksNameAndKind: names follow CheckName, kinds event.Custom.
func TestDefineChecksNameAndKind(t *testing.T) {
	r := NewRegistry()
	for _, name := range []string{"", "1moved", "player moved", "player.moved\n", string(make([]byte, MaxName+1))} {
		_, err := Define[movedV3](r, name, 0x1, 0x002)
		require.ErrorIs(t, err, ErrDefinition, "name %q", name)
	}
	_, err := Define[movedV3](r, "system.thing", 0x0, 0x002)
	require.ErrorIs(t, err, ErrDefinition)
	require.ErrorIs(t, err, event.ErrReservedKind)
	_, err = Define[movedV3](r, "effect.thing", 0xD, 0x002)
	require.ErrorIs(t, err, event.ErrReservedKind)
	_, err = Define[movedV3](r, "too.wide", 0x1, 0x1000)
	require.ErrorIs(t, err, event.ErrReservedKind)
	require.Empty(t, r.All(), "nothing invalid was registered")
}

// TestRegistryRefusesCollisions: two types on one kind, two kinds with one
// name, and the same definition twice are refused when defined; the first
// definition stays.
func TestRegistryRefusesCollisions(t *testing.T) {
	r := NewRegistry()
	moved := defineMoved(t, r)

	_, err := Define[movedV1](r, "player.walked", 0x1, 0x002)
	require.ErrorIs(t, err, ErrCollision)
	assert.Contains(t, err.Error(), `kind 0x1002 is already "player.moved" (type kinds.movedV3)`)

	_, err = Define[movedV1](r, "player.moved", 0x1, 0x003)
	require.ErrorIs(t, err, ErrCollision)
	assert.Contains(t, err.Error(), `name "player.moved" is already kind 0x1002`)

	_, err = Define[movedV3](r, "player.moved", 0x1, 0x002, Version(3), Upcast(1, v1to2), Upcast(2, v2to3))
	require.ErrorIs(t, err, ErrCollision)

	assert.Panics(t, func() { MustDefine[movedV1](r, "player.moved", 0x1, 0x004) })

	// One type may serve two kinds.
	_, err = Define[movedV3](r, "player.teleported", 0x1, 0x005)
	require.NoError(t, err)

	info, ok := r.Lookup(0x1002)
	require.True(t, ok)
	assert.Equal(t, moved.Info(), info)
	assert.Equal(t, Info{Kind: 0x1002, Name: "player.moved", Version: 3, Type: "kinds.movedV3"}, info)
	byName, ok := r.ByName("player.teleported")
	require.True(t, ok)
	assert.Equal(t, event.EventKind(0x1005), byName.Kind)
	assert.Len(t, r.All(), 2)
	_, ok = r.Lookup(0x1003)
	assert.False(t, ok)
}

// TestRegistryDecode: Decode finds the kind's type by the event's kind.
func TestRegistryDecode(t *testing.T) {
	r := NewRegistry()
	k := defineMoved(t, r)
	got, err := Decode[movedV3](r, stored(t, k.Kind(), 2, event.CodecMsgPack, movedV2{X: 1, Y: 2}))
	require.NoError(t, err)
	assert.Equal(t, movedV3{To: "x1", Dist: 3}, got)

	_, err = Decode[movedV2](r, stored(t, k.Kind(), 2, event.CodecMsgPack, movedV2{}))
	require.ErrorIs(t, err, ErrTypeMismatch)
	_, err = Decode[movedV3](r, stored(t, 0x1009, 1, event.CodecMsgPack, movedV3{}))
	require.ErrorIs(t, err, ErrUnregistered)
}

// TestPayloadCarriesTheKind: a kind's payload names its kind, name and
// version, and encodes as its value with the version.
func TestPayloadCarriesTheKind(t *testing.T) {
	k := defineMoved(t, NewRegistry())
	p := k.Payload(movedV3{To: "a"})
	assert.Equal(t, event.Typed{Kind: 0x1002, Name: "player.moved", Version: 3, Value: movedV3{To: "a"}}, p)
	e, err := event.EncodeVersioned(event.CodecMsgPack, p)
	require.NoError(t, err)
	plain, _, err := event.Encode(event.CodecMsgPack, movedV3{To: "a"})
	require.NoError(t, err)
	assert.Equal(t, event.Encoded{Codec: event.CodecMsgPack, Bytes: plain, Version: 3}, e)
	assert.Equal(t, "player.moved (0x1002, version 3)", k.String())
}
