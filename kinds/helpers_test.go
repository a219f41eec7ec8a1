package kinds

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

// The three shapes of one event kind, as a program's history leaves them.
type (
	movedV1 struct {
		X int `msgpack:"x" json:"x"`
	}
	movedV2 struct {
		X, Y int
	}
	movedV3 struct {
		To   string
		Dist int
	}
)

func v1to2(m movedV1) (movedV2, error) { return movedV2{X: m.X}, nil }
func v2to3(m movedV2) (movedV3, error) {
	return movedV3{To: "x" + strconv.Itoa(m.X), Dist: m.X + m.Y}, nil
}

// stored makes the event a store would return for v appended with
// payload version version under kind k.
func stored(t *testing.T, k event.EventKind, version uint32, codec event.Codec, v any) *event.StoredEvent {
	t.Helper()
	b, used, err := event.Encode(codec, v)
	require.NoError(t, err)
	return &event.StoredEvent{Header: event.Header{Kind: k, Global: 7}, Codec: used, PayloadVersion: version, Payload: b}
}
