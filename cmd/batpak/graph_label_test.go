package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/batpak-go/batpak"
)

func TestPayloadSummary(t *testing.T) {
	type moved struct {
		To   string `msgpack:"to"`
		From string `msgpack:"from"`
		Hops int    `msgpack:"hops"`
		Note string `msgpack:"note"`
	}
	mp := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name  string
		codec batpak.Codec
		body  []byte
		want  string
	}{
		{"msgpack fields in their order, three at most", batpak.MsgPack, mp(moved{To: "cave", From: "gate", Hops: 2, Note: "x"}), "to: cave, from: gate, hops: 2, …"},
		{"json fields in their order", batpak.JSON, []byte(`{"z": 1, "a": {"b": 2}, "big": 9007199254740993, "more": true}`), "z: 1, a: {…}, big: 9007199254740993, …"},
		{"a list", batpak.JSON, []byte(`[1, 2, 3]`), "[3]"},
		{"a scalar", batpak.MsgPack, mp("hello"), "hello"},
		{"long values are clipped", batpak.JSON, []byte(`{"s": "` + strings.Repeat("y", 40) + `"}`), "s: " + strings.Repeat("y", 23) + "…"},
		{"control characters become spaces", batpak.JSON, []byte(`{"s": "a\nb\u0000c"}`), "s: a b c"},
		{"raw bytes by size", batpak.Raw, []byte{1, 2, 3, 4}, "4 bytes raw"},
		{"undecodable", batpak.JSON, []byte(`{"s": `), "6 bytes of json that do not decode"},
		{"empty", batpak.Raw, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := payloadSummary(&batpak.StoredEvent{Codec: tc.codec, Payload: tc.body})
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len([]rune(got)), summaryLen)
		})
	}
	// Quotes and backslashes in a payload cannot break out of a DOT string.
	s := payloadSummary(&batpak.StoredEvent{Codec: batpak.JSON, Payload: []byte(`{"q": "a\"];\\ b"}`)})
	assert.Equal(t, `"q: a\"];\\ b"`, dotQuote(s))
}

func TestGraphNodesShowKindAndPayload(t *testing.T) {
	f := writeFixture(t)
	out, _ := cli(t, exitOK, "graph", f.dir, "--correlation", f.root.Correlation.String())
	for _, want := range []string{
		`0x2001  order:1@shop\n#202  seq 0\nstep: placed\n`,
		`0x2001  payment:1@shop\n#203  seq 0\nstep: paid\n`,
	} {
		assert.Contains(t, out, want)
	}
}
