package jetstream

import (
	"strings"
	"testing"

	"github.com/batpak-go/batpak/event"
)

func TestTokenRoundTrip(t *testing.T) {
	for _, s := range []string{
		"plain", "player:alice", "a.b", "*", ">", "with space", "tab\there", "~tilde", "~7E",
		"ünïcode", "room:hall/2", "x-y_z", strings.Repeat(".", 10),
	} {
		tok := token(s)
		if strings.ContainsAny(tok, ".*> \t\r\n") {
			t.Fatalf("token(%q) = %q holds a character subjects cannot", s, tok)
		}
		back, err := untoken(tok)
		if err != nil || back != s {
			t.Fatalf("untoken(token(%q)) = %q, %v", s, back, err)
		}
	}
	if token("player_1-a") != "player_1-a" {
		t.Fatalf("a clean token was escaped: %q", token("player_1-a"))
	}
}

func FuzzTokenRoundTrip(f *testing.F) {
	f.Add("player:alice")
	f.Add("~~.")
	f.Fuzz(func(t *testing.T, s string) {
		tok := token(s)
		if strings.ContainsAny(tok, ".*> \t\r\n") {
			t.Fatalf("token(%q) = %q", s, tok)
		}
		back, err := untoken(tok)
		if err != nil || back != s {
			t.Fatalf("round trip of %q: %q, %v", s, back, err)
		}
	})
}

func TestSubjectParse(t *testing.T) {
	sj := newSubjects("evt")
	c := event.MustCoordinate("player:alice.b", "room dungeon")
	k := event.MustCustom(0x1, 0x00A)
	subj, err := sj.event(c, k)
	if err != nil {
		t.Fatal(err)
	}
	if subj != "evt.room~20dungeon.player~3Aalice~2Eb.100a" {
		t.Fatalf("subject %q", subj)
	}
	gc, gk, err := sj.parse(subj, false)
	if err != nil || gc != c || gk != k {
		t.Fatalf("parse: %v %v %v", gc, gk, err)
	}
	gc, gk, err = sj.parse(sj.rp+strings.TrimPrefix(subj, "evt"), true)
	if err != nil || gc != c || gk != k {
		t.Fatalf("parse republished: %v %v %v", gc, gk, err)
	}
	long := event.MustCoordinate(strings.Repeat(":", 1024), strings.Repeat(":", 1024))
	if _, err := sj.event(long, k); err == nil {
		t.Fatalf("a subject of %d bytes was accepted", 3*2048)
	}
	if f := sj.filter(event.ForEntity("player:*")); f != "evt.>" {
		t.Fatalf("prefix filter %q", f)
	}
	if f := sj.filter(event.ForScope("s").WithKind(k)); f != "evt.s.*.100a" {
		t.Fatalf("scope+kind filter %q", f)
	}
	// A scope prefix or set is a wildcard on the server, matched by the client.
	for _, r := range []event.Region{event.ForScope("zone:1/*").WithKind(k), event.ForScopes("a", "b").WithKind(k)} {
		if f := sj.filter(r); f != "evt.*.*.100a" {
			t.Fatalf("filter of %+v: %q", r, f)
		}
	}
}
