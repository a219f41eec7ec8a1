package event

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// TestEncodeMapsWithoutReflection: the maps encoded without reflection
// come out as the library's reflection writes them: byte for byte where
// there is one order (up to one entry), and as the same value otherwise.
func TestEncodeMapsWithoutReflection(t *testing.T) {
	for _, v := range []any{
		map[string]int(nil), map[string]int{}, map[string]int{"x": 0},
		map[string]int{"neg": -1}, map[string]int{"min": math.MinInt64}, map[string]int{"max": math.MaxInt64},
		map[string]int{"x": 300, "y": -70000, "z": 1 << 40},
		map[string]float64(nil), map[string]float64{"pi": math.Pi},
		map[string]float64{"a": -0.5, "b": math.Inf(1), "": 1e300},
	} {
		got, codec, err := Encode(CodecMsgPack, v)
		require.NoError(t, err)
		require.Equal(t, CodecMsgPack, codec)
		want, err := msgpack.Marshal(v)
		require.NoError(t, err)
		if n, ok := mapLen(v); ok && n <= 1 {
			require.Equal(t, want, got, "%#v", v)
		}
		back, err := decodeLike(v, got)
		require.NoError(t, err)
		wantBack, err := decodeLike(v, want)
		require.NoError(t, err)
		require.Equal(t, wantBack, back, "%#v", v)
	}
}

func mapLen(v any) (int, bool) {
	switch m := v.(type) {
	case map[string]int:
		return len(m), true
	case map[string]float64:
		return len(m), true
	}
	return 0, false
}

// decodeLike decodes b into a new value of v's type.
func decodeLike(v any, b []byte) (any, error) {
	switch v.(type) {
	case map[string]int:
		var m map[string]int
		err := DecodePayload(CodecMsgPack, b, &m)
		return m, err
	default:
		var m map[string]float64
		err := DecodePayload(CodecMsgPack, b, &m)
		return m, err
	}
}
