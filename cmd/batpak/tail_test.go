package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
)

func TestTailPrintsTheNewestN(t *testing.T) {
	f := writeFixture(t)
	all, _ := cli(t, exitOK, "dump", f.dir)
	players, _ := cli(t, exitOK, "dump", "--entity", "player:2", f.dir)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-n", "3"}, lines(all)[fixtureEvents-3:]},
		{nil, lines(all)[fixtureEvents-10:]}, // ten by default
		{[]string{"-n", "0"}, nil},
		{[]string{"-n", "1000"}, lines(all)},
		// A sparse filter widens the window until it holds N matches.
		{[]string{"-n", "5", "--entity", "player:2"}, lines(players)[len(lines(players))-5:]},
		{[]string{"-n", "2", "--kind", "0x1003"}, lines(all)[fixturePlayers : fixturePlayers+1]},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, _ := cli(t, exitOK, append([]string{"tail", f.dir}, tc.args...)...)
			if got := lines(out); !slices.Equal(got, tc.want) {
				t.Errorf("tail %v:\n%s\nwant:\n%s", tc.args, out, strings.Join(tc.want, "\n"))
			}
		})
	}
	cli(t, exitUsage, "tail", "-n", "-1", f.dir)
	cli(t, exitUsage, "tail", "--interval", "0s", f.dir)
}

// tail --follow beside a writer in the same process (as it would be in
// another): it prints what the writer appends, across a new segment, and
// stops with status 0 when its context ends.
func TestTailFollowPicksUpAppendsOfAConcurrentWriter(t *testing.T) {
	f := writeFixture(t)
	w := openWriter(t, f.dir)
	defer closeStore(t, w)
	must := receipts(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"tail", "--follow", "-n", "1", "--interval", "5ms", "--json", f.dir}, &out, &errOut)
	}()
	waitFor(t, &out, `"entity":"json:1"`) // the newest event of the fixture

	must(w.Append(ctx, event.MustCoordinate("late:1", "misc"), kindEven, map[string]any{"note": "first late event"}))
	waitFor(t, &out, "first late event")

	// Enough to fill the active segment and start another.
	pad := strings.Repeat("q", 2000)
	for i := range 40 {
		must(w.Append(ctx, event.MustCoordinate("late:2", "misc"), kindOdd, map[string]any{"i": i, "pad": pad}))
	}
	waitFor(t, &out, `"entity":"late:2","scope":"misc","sequence":39`)

	cancel()
	if code := <-exited; code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
	got := lines(out.String())
	if len(got) != 1+1+40 {
		t.Errorf("printed %d events, want 42:\n%s", len(got), out.String())
	}
	if st := w.Stats(); st.Segments < 3 {
		t.Errorf("the writer has %d segments; the test meant to make it start a new one", st.Segments)
	}
	for i, l := range got[2:] {
		if !strings.Contains(l, fmt.Sprintf(`"sequence":%d,`, i)) {
			t.Errorf("line %d out of order: %s", i+2, l)
		}
	}
}

// tail -f --scope 'zone:1/*', as one watches a running game world: only
// the zone's events, as the writer adds them.
func TestTailFollowsAScopePrefix(t *testing.T) {
	dir := t.TempDir()
	w := openWriter(t, dir)
	defer closeStore(t, w)
	must := receipts(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"tail", "-f", "--scope", "zone:1/*", "--interval", "5ms", "--json", dir}, &out, &errOut)
	}()
	for i, scope := range []string{"zone:1/0,0", "zone:10/0,0", "zone:2/0,0", "zone:1/3,-2", "zone:1"} {
		must(w.Append(ctx, event.MustCoordinate(fmt.Sprintf("player:%d", i), scope), kindEven, map[string]any{"i": i}))
	}
	must(w.Append(ctx, event.MustCoordinate("player:last", "zone:1/9,9"), kindEven, map[string]any{"i": 9}))
	waitFor(t, &out, `"entity":"player:last"`)
	cancel()
	require.Equal(t, exitOK, <-exited, "stderr:\n%s", errOut.String())
	got := lines(out.String())
	require.Len(t, got, 3, "%s", out.String())
	assert.Contains(t, got[0], `"scope":"zone:1/0,0"`)
	assert.Contains(t, got[1], `"scope":"zone:1/3,-2"`)
}
