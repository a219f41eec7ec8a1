package main

import (
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/batpak-go/batpak/examples/internal/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChatRoom(t *testing.T) {
	want := `bob's phone: alice: hi all
bob's phone: dave: hey alice
bob's phone: alice: the raid starts at nine
bob's phone: dave: I'll bring potions
bob's phone: bob: count me in
bob's phone: alice: great, see you there
bob's tablet: 2 messages kept, 4 missed
carol joins the lobby and catches up:
  carol reads: alice: hi all
  carol reads: dave: hey alice
  carol reads: alice: the raid starts at nine
  carol reads: dave: I'll bring potions
  carol reads: bob: count me in
  carol reads: alice: great, see you there
  carol, live: carol: hi! just read everything
  carol, live: alice: welcome carol
after the restart carol resumes at: dave: carol, you can have my spare bow
`
	// Over JetStream the tablet's notifications arrive on a goroutine of
	// their own: when the line is printed it may not have all six yet.
	tablet := regexp.MustCompile(`(?m)^bob's tablet: [0-2] messages kept, [0-4] missed$`)
	for _, kind := range backend.Names {
		t.Run(kind, func(t *testing.T) {
			var out strings.Builder
			if err := run(kind, &out); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if kind == backend.JetStream {
				if !tablet.MatchString(got) {
					t.Fatalf("no tablet line in:\n%s", got)
				}
				got = tablet.ReplaceAllString(got, "bob's tablet: 2 messages kept, 4 missed")
			}
			if got != want {
				t.Fatalf("output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
