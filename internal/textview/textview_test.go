package textview

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONableMakesEveryDecodedValuePrintable(t *testing.T) {
	v := map[any]any{
		int8(1): []any{map[any]any{"a": 1.5}},
		"nan":   []any{math.NaN(), float32(math.Inf(1))},
		"bin":   []byte{0xca, 0xfe},
	}
	b, err := json.Marshal(JSONable(v, nil))
	require.NoError(t, err)
	assert.JSONEq(t, `{"1":[{"a":1.5}],"nan":["NaN","+Inf"],"bin":"yv4="}`, string(b), "bytes as encoding/json prints them")

	hexed := JSONable(map[string]any{"bin": []byte{0xca, 0xfe}}, func(b []byte) any { return "0x" + hex.EncodeToString(b) })
	assert.Equal(t, map[string]any{"bin": "0xcafe"}, hexed)
}

func TestPrintableAndClip(t *testing.T) {
	assert.Equal(t, "a b c", Printable("a\x00b\xffc"))
	assert.Equal(t, "héllo", Clip("héllo", 5))
	assert.Equal(t, "hél…", Clip("héllo", 4))
}
