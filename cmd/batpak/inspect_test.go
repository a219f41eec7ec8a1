package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

func TestInspectCountsEventsEntitiesScopesAndKinds(t *testing.T) {
	f := writeFixture(t)
	out, _ := cli(t, exitOK, "inspect", f.dir)
	for _, want := range [][]string{
		{"events", "206"},
		{"entities", "9"},
		{"scopes", "4"},
		{"kinds", "5"},
		{"0x1001", "100"},
		{"0x1002", "100"},
		{"0x1003", "1"},
		{"0x1004", "1"},
		{"0x2001", "4"},
		{"checkpoint", "used"},
		{"codecs", "json", "1,", "msgpack", "204,", "raw", "1"},
	} {
		if !hasLine(out, want...) {
			t.Errorf("no line starting %q in:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "0000000000000002.seg") {
		t.Errorf("the fixture spans several segments, inspect shows:\n%s", out)
	}
	if !strings.Contains(out, "recovery") || !strings.Contains(out, "206 events") {
		t.Errorf("no recovery report in:\n%s", out)
	}
}

// hasLine reports whether some line's fields start with want.
func hasLine(out string, want ...string) bool {
	for _, l := range lines(out) {
		fs := strings.Fields(l)
		if len(fs) >= len(want) && strings.Join(fs[:len(want)], " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

func TestInspectJSON(t *testing.T) {
	f := writeFixture(t)
	out, _ := cli(t, exitOK, "inspect", f.dir, "--json") // flags after the directory work too
	var sum summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if sum.Events != fixtureEvents || sum.Entities != 9 || sum.Scopes != 4 || len(sum.Segments) < 2 ||
		sum.Checkpoint != "used" || !sum.Recovery.CheckpointUsed || sum.SegmentBytes == 0 {
		t.Errorf("summary %+v", sum)
	}
	want := []kindCount{{Kind: "0x1001", Count: 100}, {Kind: "0x1002", Count: 100}, {Kind: "0x1003", Count: 1},
		{Kind: "0x1004", Count: 1}, {Kind: "0x2001", Count: 4}}
	if !reflect.DeepEqual(sum.Kinds, want) {
		t.Errorf("kinds %v, want %v", sum.Kinds, want)
	}
}

func TestInspectWhileAWriterHasTheStoreOpen(t *testing.T) {
	f := writeFixture(t)
	s := openWriter(t, f.dir) // holds the lock
	defer closeStore(t, s)
	out, _ := cli(t, exitOK, "inspect", f.dir)
	if !hasLine(out, "events", "206") {
		t.Errorf("inspect beside a writer:\n%s", out)
	}
}

func TestInspectionCommandsRefuseWhatIsNotAStore(t *testing.T) {
	empty := t.TempDir()
	for _, cmd := range []string{"inspect", "verify", "dump", "tail"} {
		t.Run(cmd, func(t *testing.T) {
			_, errOut := cli(t, exitFailure, cmd, empty)
			if !strings.Contains(errOut, "not a batpak store") {
				t.Errorf("stderr: %s", errOut)
			}
			_, errOut = cli(t, exitFailure, cmd, empty+"/missing")
			if !strings.Contains(errOut, "no such file") {
				t.Errorf("stderr: %s", errOut)
			}
			cli(t, exitUsage, cmd)
			cli(t, exitUsage, cmd, empty, empty)
		})
	}
}

func TestHelpNamesTheDirectoryAndTheExitCodes(t *testing.T) {
	for _, cmd := range []string{"inspect", "verify", "dump", "tail", "graph"} {
		out, _ := cli(t, exitOK, cmd, "--help")
		for _, want := range []string{"Usage: batpak " + cmd + " [flags] DIR", "Exit status: 0", "2 usage error"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s --help lacks %q:\n%s", cmd, want, out)
			}
		}
	}
	out, _ := cli(t, exitOK, "--help")
	for _, cmd := range []string{"inspect", "verify", "dump", "tail", "graph", "bench", "Exit status"} {
		if !strings.Contains(out, cmd) {
			t.Errorf("batpak --help lacks %q:\n%s", cmd, out)
		}
	}
}

// The inspectors show what the writing process has made durable: on-write
// appends it has not synced yet stay out of inspect, dump and tail until
// it syncs (a power loss could still erase them). verify checks every byte
// present, those frames included.
func TestInspectorsBesideAWriterShowOnlyDurableEvents(t *testing.T) {
	f := writeFixture(t)
	w := openWriter(t, f.dir, batpak.WithSyncEvery(0, 0)) // nothing syncs but Sync
	defer closeStore(t, w)
	must := receipts(t)
	ctx := context.Background()
	for i := range 3 {
		must(w.Append(ctx, event.MustCoordinate("late:1", "misc"), kindEven, map[string]any{"i": i}))
	}
	check := func(want int) {
		t.Helper()
		out, _ := cli(t, exitOK, "inspect", f.dir)
		assert.True(t, hasLine(out, "events", strconv.Itoa(want)), "inspect:\n%s", out)
		out, _ = cli(t, exitOK, "dump", f.dir)
		assert.Len(t, lines(out), want, "dump")
		out, _ = cli(t, exitOK, "tail", "-n", "5", "--json", f.dir)
		assert.Equal(t, want > fixtureEvents, strings.Contains(out, `"entity":"late:1"`), "tail:\n%s", out)
		out, _ = cli(t, exitOK, "verify", f.dir)
		assert.Contains(t, out, "OK")
	}
	check(fixtureEvents)
	require.NoError(t, w.Sync(ctx))
	check(fixtureEvents + 3)
}
