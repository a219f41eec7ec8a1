package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// The fixture store's shape, which the inspection tests count on.
const (
	fixturePlayers = 200 // player:{i%3} in room:{i%2}; kind 0x1001 for even i, 0x1002 for odd
	fixtureEvents  = fixturePlayers + 1 + 4 + 1
)

var (
	kindEven  = event.MustCustom(1, 1) // 0x1001
	kindOdd   = event.MustCustom(1, 2) // 0x1002
	kindRaw   = event.MustCustom(1, 3) // 0x1003
	kindJSON  = event.MustCustom(1, 4) // 0x1004
	kindOrder = event.MustCustom(2, 1) // 0x2001

	// The fixture's clock: players 0–99 at t0, the rest at t1, the
	// workflow at t2, the JSON event at t3.
	t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
	t3 = t0.Add(3 * time.Hour)
)

// fixture is a store written by the test, closed, in its own directory.
type fixture struct {
	dir string
	// The workflow: root ← reaction ← (shipped, mailed), each caused by
	// the one before except mailed, a branch caused by the reaction.
	root, paid, shipped, mailed batpak.Receipt
}

// testClock is a settable clock for WithClock.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) set(t time.Time)       { c.ns.Store(t.UnixNano()) }
func (c *testClock) now() time.Time        { return time.Unix(0, c.ns.Load()) }
func (c *testClock) option() batpak.Option { return batpak.WithClock(c.now) }

// writeFixture writes the fixture in two sessions (MessagePack, then
// JSON), in segments of 64 KiB so that the log spans several.
func writeFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{dir: t.TempDir()}
	must := receipts(t)
	var clock testClock
	clock.set(t0)
	s := openWriter(t, f.dir, clock.option())
	pad := strings.Repeat("p", 500)
	for i := range fixturePlayers {
		if i == fixturePlayers/2 {
			clock.set(t1)
		}
		kind := kindEven
		if i%2 == 1 {
			kind = kindOdd
		}
		coord := event.MustCoordinate(fmt.Sprintf("player:%d", i%3), fmt.Sprintf("room:%d", i%2))
		must(s.Append(ctx, coord, kind, map[string]any{"i": i, "pad": pad}))
	}
	must(s.Append(ctx, event.MustCoordinate("blob:1", "misc"), kindRaw, []byte{0xde, 0xad, 0xbe, 0xef}))
	clock.set(t2)
	f.root = must(s.Append(ctx, event.MustCoordinate("order:1", "shop"), kindOrder, map[string]any{"step": "placed"}))
	f.paid = must(s.AppendReaction(ctx, event.MustCoordinate("payment:1", "shop"), kindOrder,
		map[string]any{"step": "paid"}, f.root.Correlation, f.root.ID))
	f.shipped = must(s.AppendReaction(ctx, event.MustCoordinate("shipping:1", "shop"), kindOrder,
		map[string]any{"step": "shipped"}, f.root.Correlation, f.paid.ID))
	f.mailed = must(s.AppendReaction(ctx, event.MustCoordinate("mail:1", "shop"), kindOrder,
		map[string]any{"step": "mailed"}, f.root.Correlation, f.paid.ID))
	closeStore(t, s)

	clock.set(t3)
	s = openWriter(t, f.dir, clock.option(), batpak.WithCodec(batpak.JSON))
	must(s.Append(ctx, event.MustCoordinate("json:1", "misc"), kindJSON, map[string]any{"big": uint64(9007199254740993)}))
	closeStore(t, s)
	return f
}

// openWriter opens dir for writing in small segments, acknowledged on write.
func openWriter(t *testing.T, dir string, opts ...batpak.Option) *batpak.Store {
	t.Helper()
	opts = append([]batpak.Option{batpak.WithSegmentSize(64 << 10), batpak.WithDurability(batpak.OnWrite)}, opts...)
	s, err := batpak.Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func closeStore(t *testing.T, s *batpak.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// receipts returns a function that passes on an append's receipt, failing
// the test if the append failed: must := receipts(t); r := must(s.Append(…)).
func receipts(t *testing.T) func(batpak.Receipt, error) batpak.Receipt {
	return func(r batpak.Receipt, err error) batpak.Receipt {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// cli runs the command line in-process and checks the exit code.
func cli(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	if code != want {
		t.Fatalf("batpak %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out, errOut
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var ls []string
	for l := range strings.Lines(s) {
		if l = strings.TrimRight(l, "\n"); l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// syncBuffer is a bytes.Buffer safe for one writer and polling readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls b until it contains want, failing the test after a
// generous deadline.
func waitFor(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in:\n%s", want, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
