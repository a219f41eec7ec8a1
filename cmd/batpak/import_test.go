package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/internal/rustenc"
)

// rustDir writes a batpak-rust store: n events over four entities, a batch
// every tenth, segments rotated every rotate events (0: never), and with
// broken set a batch a crash cut off and a damaged frame.
func rustDir(t *testing.T, n, rotate int, broken bool) string {
	dir := t.TempDir()
	b := rustenc.New(7)
	for i := range n {
		p := []byte{0x81, 0xa1, 'i', byte(i % 100)} // MessagePack {"i": i%100}
		e := fmt.Sprintf("player:%d", i%4)
		if i%10 == 9 {
			b.Batch(rustenc.Item{Entity: e, Scope: "room:1", Kind: 0xF001, Payload: p},
				rustenc.Item{Entity: "player:9", Scope: "room:2", Kind: 0xF001, Payload: p})
		} else {
			b.Append(e, "room:1", 0xF001, p)
		}
		if rotate > 0 && i%rotate == rotate-1 {
			b.Rotate()
		}
	}
	if broken {
		b.Begin(2)
		b.Append("player:1", "room:1", 0xF001, []byte{0x01})
		b.Crash()
		w := b.Append("player:2", "room:1", 0xF001, []byte{0x02})
		b.Append("player:2", "room:1", 0xF001, []byte{0x03})
		b.FlipByte(w.Segment, w.Offset+int64(w.Size)-1)
	}
	require.NoError(t, b.WriteDir(dir, true))
	return dir
}

func dirNames(t *testing.T, dir string) []string {
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestImportCommandImportsAndSummarises(t *testing.T) {
	src := rustDir(t, 40, 15, true)
	srcBefore := dirNames(t, src)
	dst := filepath.Join(t.TempDir(), "go")
	out, errOut := cli(t, exitOK, "import", src, dst)
	for _, want := range []string{
		"imported " + src, "events:   45 (45 written now, 0 already there)", "entities: 5",
		"batches:  4 (4 written now)", "skipped:  1 event (1 batch that never committed)", "damaged:  1 frame",
		"unimportable: 0 events", "skipped batch at segment 3", "damage at segment 4",
		"2 hash-chain breaks; 2 index mismatches against 3 SIDX footers and index.ckpt (45 entries)",
	} {
		assert.Contains(t, out, want)
	}
	assert.Empty(t, errOut, "stderr is not a terminal: no progress")
	assert.Equal(t, srcBefore, dirNames(t, src), "the batpak-rust store is only read")

	out, _ = cli(t, exitOK, "verify", dst)
	assert.Contains(t, out, "45 events")
	assert.Contains(t, out, "OK")

	// Again: nothing written twice.
	out, _ = cli(t, exitOK, "import", src, dst)
	assert.Contains(t, out, "events:   45 (0 written now, 45 already there)")
	out, _ = cli(t, exitOK, "inspect", dst)
	assert.Contains(t, out, "events                  45")
}

func TestImportCommandJSON(t *testing.T) {
	src := rustDir(t, 20, 0, true)
	dst := filepath.Join(t.TempDir(), "go")
	out, _ := cli(t, exitOK, "import", "--json", src, dst)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var got importJSON
	require.NoError(t, dec.Decode(&got))
	assert.Equal(t, src, got.Source)
	assert.Equal(t, dst, got.Destination)
	assert.False(t, got.VerifyOnly)
	assert.Equal(t, 23, got.Events)
	assert.Equal(t, 23, got.Imported)
	assert.Equal(t, 5, got.Entities)
	assert.Equal(t, 2, got.Batches)
	assert.Equal(t, 2, got.BatchesImported)
	assert.Equal(t, 1, got.Skipped)
	assert.Equal(t, 1, got.SkippedBatches)
	assert.Equal(t, 1, got.Damaged)
	require.Len(t, got.SkippedList, 1)
	require.Len(t, got.DamagedList, 1)
	assert.Contains(t, got.DamagedList[0].Cause, "CRC")
	assert.Positive(t, got.ChainBreaks, "the damaged frame's successor links to a hash that is gone")
	assert.Positive(t, got.FootersChecked)
}

func TestImportCommandVerifyOnlyWritesNothing(t *testing.T) {
	clean := rustDir(t, 20, 7, false)
	out, _ := cli(t, exitOK, "import", "--verify-only", clean)
	assert.Contains(t, out, "checked "+clean)
	assert.Contains(t, out, "events:   22\n")
	assert.Contains(t, out, "OK")

	broken := rustDir(t, 20, 7, true)
	before := dirNames(t, broken)
	out, errOut := cli(t, exitFailure, "import", "--verify-only", broken)
	assert.Contains(t, out, "damaged:  1 frame")
	assert.Contains(t, errOut, "problems found")
	assert.Equal(t, before, dirNames(t, broken))

	_, errOut = cli(t, exitUsage, "import", "--verify-only", broken, filepath.Join(t.TempDir(), "x"))
	assert.Contains(t, errOut, "writes nothing")
	_, errOut = cli(t, exitUsage, "import", broken)
	assert.Contains(t, errOut, "want SRC DST")
}

func TestImportCommandShowsProgress(t *testing.T) {
	src := rustDir(t, 30, 10, false)
	_, errOut := cli(t, exitOK, "import", "--progress", src, filepath.Join(t.TempDir(), "go"))
	assert.Contains(t, errOut, "import: 100%")
	_, errOut = cli(t, exitOK, "import", "--verify-only", "--progress", src)
	assert.Contains(t, errOut, "check: 100%")
}

// Not batpak-rust stores, and batpak-rust stores where a batpak-go one
// belongs: each refused with a message that says what to do.
func TestImportCommandRefusesWrongDirectories(t *testing.T) {
	rust := rustDir(t, 5, 0, false)
	_, errOut := cli(t, exitFailure, "import", t.TempDir(), filepath.Join(t.TempDir(), "go"))
	assert.Contains(t, errOut, "no batpak-rust segments")
	_, errOut = cli(t, exitFailure, "import", rust, rust)
	assert.Contains(t, errOut, "batpak import", "the destination is a batpak-rust store")
	assert.NotContains(t, dirNames(t, rust), "LOCK")
	for _, cmd := range []string{"verify", "inspect", "dump"} {
		_, errOut = cli(t, exitFailure, cmd, rust)
		assert.Contains(t, errOut, "batpak import", cmd)
	}
}

// cancelOnWrite cancels a context the first time something is written to
// it (the first progress line), then keeps what is written.
type cancelOnWrite struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel()
	return c.buf.Write(p)
}

// An import interrupted half way (Ctrl-C: its context ends) says how to
// finish it, and running the same command again does, writing each event
// once.
func TestImportCommandInterruptedIsFinishedByARerun(t *testing.T) {
	src := rustDir(t, 3000, 700, false) // about 1.3 MiB in five segments
	dst := filepath.Join(t.TempDir(), "go")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &cancelOnWrite{cancel: cancel}
	var out bytes.Buffer
	code := run(ctx, []string{"import", "--progress", src, dst}, &out, errw)
	require.Equal(t, exitFailure, code, "stdout:\n%s\nstderr:\n%s", out.String(), errw.buf.String())
	assert.Contains(t, errw.buf.String(), "run the same command again to finish")

	out2, _ := cli(t, exitOK, "import", "--json", src, dst)
	var got importJSON
	require.NoError(t, json.Unmarshal([]byte(out2), &got))
	assert.Equal(t, 3300, got.Events)
	assert.Positive(t, got.AlreadyThere, "the first run imported some")
	assert.Positive(t, got.Imported, "the second the rest")
	assert.Equal(t, got.Events, got.Imported+got.AlreadyThere)
	out3, _ := cli(t, exitOK, "verify", dst)
	assert.Contains(t, out3, "3300 events")
}
