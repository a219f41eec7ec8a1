package subscriber

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

const curDir = "/db/cursors"

func withFS(th *testHub, fs vfs.FS) *testHub {
	th.opts.FS, th.opts.Dir = fs, curDir
	return th
}

func newMemFS(t testing.TB) *vfs.MemFS {
	fs := vfs.NewMem()
	if err := errors.Join(fs.MkdirAll("/db"), fs.SyncDir("/"), fs.SyncDir("/db")); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestPositionFileRoundTripsAndEveryDamageIsDetected(t *testing.T) {
	b := encodePosition(123456789)
	if pos, err := decodePosition(b[:]); err != nil || pos != 123456789 {
		t.Fatalf("decode = %d, %v", pos, err)
	}
	for i := range len(b) * 8 {
		d := b
		d[i/8] ^= 1 << (i % 8)
		if _, err := decodePosition(d[:]); err == nil {
			t.Fatalf("bit %d flipped went undetected", i)
		}
	}
	if _, err := decodePosition(b[:19]); err == nil {
		t.Fatal("a short file went undetected")
	}
}

func TestValidCursorName(t *testing.T) {
	for _, ok := range []string{"billing", "a", "proj-1.v2_x", "console", "com10", "nul_"} {
		if err := ValidCursorName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".hidden", "..", "a/b", `a\b`, "über", "a b", string(make([]byte, MaxCursorName+1)),
		"con", "NUL", "aux.log", "com1", "LPT9", "a."} { // not portable: Windows reserves them, or drops the dot
		if err := ValidCursorName(bad); !errors.Is(err, ErrInvalidCursorName) {
			t.Errorf("%q: %v, want ErrInvalidCursorName", bad, err)
		}
	}
}

func TestDurableCursorAcksSurviveReopenAndCrash(t *testing.T) {
	fs := newMemFS(t)
	th := withFS(newTestHub(t, 16), fs)
	th.run(t)
	th.publish(10, "p:1", "room:1", kindA)
	ctx := hangGuard(t)

	d, err := th.OpenCursor("billing", event.AllEvents())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := th.OpenCursor("billing", event.AllEvents()); !errors.Is(err, ErrCursorInUse) {
		t.Fatalf("second open: %v, want ErrCursorInUse", err)
	}
	evs, _ := d.NextBatch(ctx, 4)
	if err := d.Ack(ctx, evs[3].Global+1); !errors.Is(err, ErrAckAhead) {
		t.Fatalf("Ack past the position: %v, want ErrAckAhead", err)
	}
	if err := d.Ack(ctx, evs[3].Global); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx, 2); err != nil || d.Acked() != 4 {
		t.Fatalf("a lower Ack: %v, acked %d; want a no-op at 4", err, d.Acked())
	}
	d.NextBatch(ctx, 3) // delivered, never acknowledged
	crashed := fs.CrashClone(vfs.CrashOptions{})
	d.Close()

	for name, fsys := range map[string]vfs.FS{"after close": fs, "after a crash": crashed} {
		th2 := withFS(newTestHub(t, 16), fsys)
		th2.log = th.log
		th2.opts.Log = th.log.log()
		d2, err := th2.OpenCursor("billing", event.AllEvents())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ev, err := d2.Next(ctx)
		if err != nil || ev.Global != 5 || d2.Acked() != 4 {
			t.Fatalf("%s: resumed at %v (acked %d), %v; want global 5", name, ev, d2.Acked(), err)
		}
		d2.Close()
	}
}

func TestDurableCursorAckIsAtomicAtEveryCrashPoint(t *testing.T) {
	// Crash after each file-system operation of an Ack: the position read
	// back is always the old one or the new one, never an error.
	for k := 0; ; k++ {
		fs := newMemFS(t)
		th := withFS(newTestHub(t, 16), fs)
		th.publish(5, "p:1", "room:1", kindA)
		d, err := th.OpenCursor("c", event.AllEvents())
		if err != nil {
			t.Fatal(err)
		}
		d.NextBatch(bg, 5)
		if err := d.Ack(bg, 2); err != nil {
			t.Fatal(err)
		}
		fs.SetCrashAfter(fs.Ops()+k, vfs.CrashOptions{KeepUnsyncedFraction: 0.5, Seed: uint64(k)}, nil)
		ackErr := d.Ack(bg, 5)
		after := fs.Crashed()
		d.Close()
		if after == nil {
			if ackErr != nil {
				t.Fatalf("Ack without a crash: %v", ackErr)
			}
			if k < 4 {
				t.Fatalf("an Ack took only %d file-system operations", k)
			}
			return // k passed the last operation of the Ack
		}
		pos, found, err := loadPosition(after, filepath.Join(curDir, "c"))
		if err != nil || !found || (pos != 2 && pos != 5) {
			t.Fatalf("crash after op %d: position %d (found %v), %v; want 2 or 5", k, pos, found, err)
		}
		if ackErr == nil && pos != 5 {
			t.Fatalf("crash after op %d: Ack returned nil but the position is %d", k, pos)
		}
	}
}

func TestCorruptCursorFileIsAClearError(t *testing.T) {
	fs := newMemFS(t)
	th := withFS(newTestHub(t, 16), fs)
	if err := fs.MkdirAll(curDir); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Create(filepath.Join(curDir, "bad"))
	if err != nil {
		t.Fatal(err)
	}
	b := encodePosition(7)
	b[9] ^= 0xFF
	f.WriteAt(b[:], 0)
	f.Close()
	_, err = th.OpenCursor("bad", event.AllEvents())
	if !errors.Is(err, ErrCursorCorrupt) {
		t.Fatalf("OpenCursor over a corrupt file: %v, want ErrCursorCorrupt", err)
	}
	// The name is free again, and other names are unaffected.
	if _, err := th.OpenCursor("bad", event.AllEvents()); !errors.Is(err, ErrCursorCorrupt) {
		t.Fatalf("reopen: %v", err)
	}
	d, err := th.OpenCursor("good", event.AllEvents())
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestAckAfterStoreCloseFails(t *testing.T) {
	fs := newMemFS(t)
	th := withFS(newTestHub(t, 16), fs)
	th.opts.Guard = func(fn func() error) error {
		if th.closed.Load() {
			return errStore
		}
		return fn()
	}
	stop := th.run(t)
	th.publish(1, "p:1", "room:1", kindA)
	d, _ := th.OpenCursor("c", event.AllEvents())
	defer d.Close()
	d.Next(bg)
	stop()
	if err := d.Ack(bg, 1); !errors.Is(err, errStore) && !errors.Is(err, ErrClosed) {
		t.Fatalf("Ack after close: %v", err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := d.Ack(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ack with an ended ctx: %v", err)
	}
}
