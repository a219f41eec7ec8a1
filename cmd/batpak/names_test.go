package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
)

type stepV1 struct{ N int }
type stepV2 struct{ N, M int }

// writeTypedStore writes a store whose kind 0x3001 is named "game.step":
// one event of payload version 1, one of version 2 (a reaction to it),
// and an untyped event of kind 0x1001, which has no name.
func writeTypedStore(t *testing.T) (dir string, root batpak.Receipt) {
	t.Helper()
	ctx := context.Background()
	v1 := kinds.MustDefine[stepV1](kinds.NewRegistry(), "game.step", 0x3, 0x001)
	v2 := kinds.MustDefine[stepV2](kinds.NewRegistry(), "game.step", 0x3, 0x001, kinds.Version(2),
		kinds.Upcast(1, func(s stepV1) (stepV2, error) { return stepV2{N: s.N}, nil }))
	dir = t.TempDir()
	s := openWriter(t, dir)
	c := event.MustCoordinate("game:1", "x")
	root, err := batpak.AppendTyped(ctx, s, v1, c, stepV1{N: 1})
	require.NoError(t, err)
	_, err = batpak.AppendTyped(ctx, s, v2, c, stepV2{N: 2, M: 3}, batpak.AppendOptions{Correlation: root.ID, Causation: root.ID})
	require.NoError(t, err)
	_, err = s.Append(ctx, c, kindEven, map[string]any{"plain": true})
	require.NoError(t, err)
	closeStore(t, s)
	return dir, root
}

// TestToolsPrintKindNames: dump, tail, inspect and graph print a kind's
// name where the store keeps one (JSON carries number and name), show
// payload versions, and --kind takes a name.
func TestToolsPrintKindNames(t *testing.T) {
	dir, root := writeTypedStore(t)

	out, _ := cli(t, exitOK, "dump", dir)
	ls := lines(out)
	require.Len(t, ls, 3)
	assert.Contains(t, ls[0], " kind=game.step id=")
	assert.Contains(t, ls[0], " v1 ")
	assert.Contains(t, ls[1], " kind=game.step id=")
	assert.Contains(t, ls[1], " v2 ")
	assert.Contains(t, ls[2], " kind=0x1001 id=")
	assert.NotContains(t, ls[2], " v0")

	out, _ = cli(t, exitOK, "dump", dir, "--json", "--kind", "game.step")
	ls = lines(out)
	require.Len(t, ls, 2, "--kind by name")
	var je jsonEvent
	require.NoError(t, json.Unmarshal([]byte(ls[1]), &je))
	assert.Equal(t, "0x3001", je.Kind)
	assert.Equal(t, "game.step", je.KindName)
	assert.Equal(t, uint32(2), je.PayloadVersion)

	out, _ = cli(t, exitOK, "dump", dir, "--json", "--kind", "0x1001")
	var plain jsonEvent
	require.NoError(t, json.Unmarshal([]byte(lines(out)[0]), &plain))
	assert.Empty(t, plain.KindName)
	assert.NotContains(t, out, "kind_name")
	assert.NotContains(t, out, "payload_version")

	_, errOut := cli(t, exitUsage, "dump", dir, "--kind", "game.jump")
	assert.Contains(t, errOut, `"game.jump" is not a kind name this store keeps`)

	out, _ = cli(t, exitOK, "tail", dir, "-n", "1", "--kind", "game.step")
	assert.Contains(t, out, " kind=game.step ")

	out, _ = cli(t, exitOK, "inspect", dir)
	assert.Regexp(t, `\n  game\.step \(0x3001\) +2 \(payload v1: 1, v2: 1\)\n`, out)
	assert.Regexp(t, `\n  0x1001 +1\n`, out)
	out, _ = cli(t, exitOK, "inspect", dir, "--json")
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	assert.Equal(t, []kindCount{
		{Kind: "0x1001", Count: 1},
		{Kind: "0x3001", Name: "game.step", Count: 2, Versions: map[string]int{"1": 1, "2": 1}},
	}, sum.Kinds)

	out, _ = cli(t, exitOK, "graph", dir, "--correlation", root.ID.String())
	assert.Contains(t, out, `label="game.step  game:1`)
}

// TestToolsWarnOfDamagedKindNames: a damaged names file is a warning; the
// tools go on with numbers.
func TestToolsWarnOfDamagedKindNames(t *testing.T) {
	dir, _ := writeTypedStore(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, kinds.FileName), []byte("{"), 0o600))
	out, errOut := cli(t, exitOK, "dump", dir)
	assert.Contains(t, errOut, "kinds are shown as numbers")
	assert.Equal(t, 2, strings.Count(out, "kind=0x3001"))
}
