package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
)

func TestDumpFilters(t *testing.T) {
	f := writeFixture(t)
	at := func(tm time.Time) string { return tm.Format(time.RFC3339) }
	for _, tc := range []struct {
		name  string
		flags []string
		want  int
	}{
		{"all", nil, fixtureEvents},
		{"exact entity", []string{"--entity", "player:0"}, 67},
		{"entity prefix", []string{"--entity", "player:*"}, fixturePlayers},
		{"scope", []string{"--scope", "room:1"}, 100},
		{"kind", []string{"--kind", "0x1002"}, 100},
		{"kind as category:type", []string{"--kind", "0x1:0x002"}, 100},
		{"kinds", []string{"--kind", "0x1001,0x1003"}, 101},
		{"since", []string{"--since", at(t1)}, fixtureEvents - 100},
		{"until", []string{"--until", at(t1)}, 100},
		{"since and until", []string{"--since", at(t1), "--until", at(t2)}, 101},
		{"correlation", []string{"--correlation", f.root.Correlation.String()}, 4},
		{"correlation and entity", []string{"--correlation", f.root.Correlation.String(), "--entity", "s*"}, 1},
		{"correlation of a member", []string{"--correlation", f.paid.ID.String()}, 0},
		{"entity and scope", []string{"--entity", "player:1", "--scope", "room:1"}, 34},
		{"scope prefix", []string{"--scope", "room:*"}, fixturePlayers},
		{"scope set", []string{"--scope", "room:1", "--scope", "misc"}, 102},
		{"scope set with a prefix", []string{"--scope", "sh*", "--scope", "room:0"}, 104},
		{"scope prefix of nothing", []string{"--scope", "zone:*"}, 0},
		{"nothing matches", []string{"--entity", "player:1", "--kind", "0x2001"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := cli(t, exitOK, append([]string{"dump", f.dir}, tc.flags...)...)
			if got := len(lines(out)); got != tc.want {
				t.Errorf("%d events, want %d:\n%s", got, tc.want, out)
			}
			jsonOut, _ := cli(t, exitOK, append([]string{"dump", "--json", f.dir}, tc.flags...)...)
			if got := len(lines(jsonOut)); got != tc.want {
				t.Errorf("--json: %d events, want %d", got, tc.want)
			}
		})
	}
}

func TestDumpJSONDecodesPayloads(t *testing.T) {
	f := writeFixture(t)
	out, _ := cli(t, exitOK, "dump", "--json", f.dir)
	byEntity := map[string][]jsonEvent{}
	lastGlobal := uint64(0)
	for _, l := range lines(out) {
		var ev jsonEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if ev.Global <= lastGlobal || ev.ID == "" || ev.Time == "" || ev.Hash == "" || ev.PayloadError != "" {
			t.Errorf("line %s", l)
		}
		lastGlobal = ev.Global
		byEntity[ev.Entity] = append(byEntity[ev.Entity], ev)
	}
	p := byEntity["player:2"][1] // i = 5
	if m, ok := p.Payload.(map[string]any); !ok || m["i"] != 5.0 || p.Codec != "msgpack" || p.Kind != "0x1002" || p.Sequence != 1 {
		t.Errorf("player:2's second event: %+v", p)
	}
	if raw := byEntity["blob:1"][0]; raw.Codec != "raw" || raw.Payload != "3q2+7w==" || raw.PayloadEncoding != "base64" {
		t.Errorf("raw event: %+v", raw)
	}
	if !strings.Contains(out, `"codec":"json","payload":{"big":9007199254740993}`) {
		t.Errorf("the JSON payload's integer past 2^53 is not kept exactly:\n%s", out)
	}
	paid := byEntity["payment:1"][0]
	if paid.Correlation != f.root.ID.String() || paid.Causation != f.root.ID.String() {
		t.Errorf("reaction: %+v", paid)
	}

	hexOut, _ := cli(t, exitOK, "dump", "--json", "--bytes", "hex", "--entity", "blob:1", f.dir)
	if !strings.Contains(hexOut, `"payload":"deadbeef","payload_encoding":"hex"`) {
		t.Errorf("--bytes hex: %s", hexOut)
	}
	text, _ := cli(t, exitOK, "dump", "--bytes", "hex", "--entity", "blob:1", f.dir)
	if !strings.Contains(text, "raw:hex:deadbeef") {
		t.Errorf("text raw payload: %s", text)
	}
}

func TestDumpUsageErrors(t *testing.T) {
	f := writeFixture(t)
	for _, tc := range []struct{ flags []string }{
		{[]string{"--kind", "walk"}},
		{[]string{"--kind", "0x10000"}},
		{[]string{"--since", "yesterday"}},
		{[]string{"--since", "2025-01-02T00:00:00Z", "--until", "2025-01-01T00:00:00Z"}},
		{[]string{"--correlation", "not-an-id"}},
		{[]string{"--bytes", "octal"}},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			_, errOut := cli(t, exitUsage, append([]string{"dump", f.dir}, tc.flags...)...)
			if !strings.Contains(errOut, "Usage: batpak dump") {
				t.Errorf("stderr:\n%s", errOut)
			}
		})
	}
}

func TestDumpDecodesMessagePackMapsWithNonStringKeys(t *testing.T) {
	dir := t.TempDir()
	s := openWriter(t, dir)
	receipts(t)(s.Append(t.Context(), event.MustCoordinate("m:1", "misc"), kindEven, map[int]string{7: "seven"}))
	closeStore(t, s)
	out, _ := cli(t, exitOK, "dump", "--json", dir)
	if !strings.Contains(out, `"payload":{"7":"seven"}`) || strings.Contains(out, "payload_error") {
		t.Errorf("dump: %s", out)
	}
}
