package kinds

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "player.moved", "Shop/Order-placed_v2:eu", string(make([]byte, 0)) + "x"} {
		require.NoError(t, CheckName(ok), ok)
	}
	long := make([]byte, MaxName+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, bad := range []string{"", "0x1002", "4098", ".moved", "player moved", "naïve", "a\x00", string(long)} {
		require.Error(t, CheckName(bad), bad)
	}
	require.NoError(t, CheckName(string(long[:MaxName])))
}

// TestTableWith applies Learn's rule: add a name, accept it again, refuse
// a second name for a kind and a second kind for a name.
func TestTableWith(t *testing.T) {
	t0 := Table{}
	t1, same, err := t0.With(0x1002, "player.moved")
	require.NoError(t, err)
	assert.False(t, same)
	assert.Empty(t, t0, "With does not change its table")
	assert.Equal(t, Table{0x1002: "player.moved"}, t1)

	t2, same, err := t1.With(0x1002, "player.moved")
	require.NoError(t, err)
	assert.True(t, same)
	assert.Equal(t, t1, t2)

	_, _, err = t1.With(0x1002, "player.walked")
	require.ErrorIs(t, err, ErrNameMismatch)
	assert.Contains(t, err.Error(), `kind 0x1002 is "player.moved" here, not "player.walked"`)
	_, _, err = t1.With(0x1003, "player.moved")
	require.ErrorIs(t, err, ErrNameMismatch)
	_, _, err = t1.With(0x0005, "system.checkpoint")
	require.ErrorIs(t, err, event.ErrReservedKind)
	_, _, err = t1.With(0x1004, "bad name")
	require.Error(t, err)

	assert.Equal(t, "player.moved", t1.Label(0x1002))
	assert.Equal(t, "0x1003", t1.Label(0x1003))
	k, ok := t1.Kind("player.moved")
	assert.True(t, ok)
	assert.Equal(t, event.EventKind(0x1002), k)
}

func TestTableEncoding(t *testing.T) {
	tab := Table{0x1002: "player.moved", 0x2001: "shop.order"}
	b := MarshalTable(tab)
	assert.Equal(t, "{\n  \"format\": 1,\n  \"kinds\": {\n    \"0x1002\": \"player.moved\",\n    \"0x2001\": \"shop.order\"\n  }\n}\n", string(b))
	back, err := UnmarshalTable(b)
	require.NoError(t, err)
	assert.Equal(t, tab, back)

	for name, bad := range map[string]string{
		"not json":       `{"format": 1, "kinds": `,
		"format":         `{"format": 2, "kinds": {}}`,
		"no format":      `{"kinds": {}}`,
		"key":            `{"format": 1, "kinds": {"4098": "a"}}`,
		"short key":      `{"format": 1, "kinds": {"0x102": "a"}}`,
		"reserved kind":  `{"format": 1, "kinds": {"0x0005": "a"}}`,
		"bad name":       `{"format": 1, "kinds": {"0x1002": "a b"}}`,
		"one name twice": `{"format": 1, "kinds": {"0x1002": "a", "0x1003": "a"}}`,
		"one kind twice": `{"format": 1, "kinds": {"0x100a": "a", "0x100A": "b"}}`,
	} {
		_, err := UnmarshalTable([]byte(bad))
		require.ErrorIs(t, err, ErrNamesCorrupt, name)
	}
}

// memNames is a Names in memory, for Register.
type memNames struct{ t Table }

func (m *memNames) Learn(_ context.Context, k event.EventKind, name string) error {
	next, _, err := m.t.With(k, name)
	if err == nil {
		m.t = next
	}
	return err
}

func (m *memNames) Table(context.Context) (Table, error) { return m.t, nil }

func TestRegisterAndLearn(t *testing.T) {
	r := NewRegistry()
	moved := defineMoved(t, r)
	MustDefine[movedV1](r, "player.spoke", 0x1, 0x003)
	names := &memNames{t: Table{}}
	require.NoError(t, Register(context.Background(), names, r))
	assert.Equal(t, Table{0x1002: "player.moved", 0x1003: "player.spoke"}, names.t)

	// Learn: plain payloads pass; a typed one must be appended as its kind.
	other := &memNames{t: Table{}}
	require.NoError(t, Learn(context.Background(), other, 0x1005, movedV3{}))
	require.NoError(t, Learn(context.Background(), other, 0x1005, []byte("raw")))
	assert.Empty(t, other.t)
	err := Learn(context.Background(), other, 0x1005, moved.Payload(movedV3{}))
	require.ErrorIs(t, err, ErrWrongKind)
	assert.Empty(t, other.t)
	require.NoError(t, Learn(context.Background(), other, 0x1002, moved.Payload(movedV3{})))
	assert.Equal(t, Table{0x1002: "player.moved"}, other.t)
}
