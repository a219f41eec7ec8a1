package writer

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDrainGolden pins the bytes a small fixed drain produces — singles,
// an idempotent replay, an expected sequence, a batch with causes — with a
// fixed clock and seeded ids: any change to the frames the writer writes
// shows up here as a diff (the on-disk format is FORMAT.md's; this file
// proves the writer keeps to it byte for byte). Rewrite it with
// go test ./writer -run TestDrainGolden -update, and review the diff.
func TestDrainGolden(t *testing.T) {
	r := newCoreRig(t, 1<<20)
	corr, err := event.ParseID("01890a5d-ac96-774b-bcce-b302099a8057")
	require.NoError(t, err)
	reqs := []*Request{
		onWrite("order:1", event.AppendOptions{}, `{"placed":true}`),
		onWrite("order:1", event.AppendOptions{IdempotencyKey: "pay-1", Correlation: corr, ExpectSequence: true, ExpectedSequence: 1}, `{"paid":10}`),
		onWrite("order:1", key("pay-1"), `{"paid":10}`), // a replay: no frame
		NewBatch([]Item{
			item("stock:7", `{"take":1}`, event.AppendOptions{}, event.Cause{}),
			item("ship:3", `{"to":"x"}`, event.AppendOptions{}, event.CauseItem(0)),
			item("order:1", `{"done":true}`, event.AppendOptions{}, event.CauseLatestOf("ship:3")),
		}, event.Durable),
	}
	r.run(reqs...)

	var out bytes.Buffer
	fmt.Fprintf(&out, "# The frames of a fixed drain (see TestDrainGolden): segment 1 from offset %d.\n", segment.HeaderSize)
	b := r.segs[1][segment.HeaderSize:]
	off := segment.HeaderSize
	names := map[byte]string{segment.TypeEvent: "event", segment.TypeBatchBegin: "begin", segment.TypeBatchCommit: "commit"}
	for len(b) > 0 {
		body, size, err := segment.ReadFrame(b)
		require.NoError(t, err)
		fmt.Fprintf(&out, "\n@%d %s, %d bytes\n%s", off, names[body[0]], size, hex.Dump(b[:size]))
		b, off = b[size:], off+size
	}
	fmt.Fprintf(&out, "\n# Receipts\n")
	for i, req := range reqs {
		res := answer(t, req)
		require.NoError(t, res.Err, "request %d", i)
		for _, rc := range res.Receipts {
			fmt.Fprintf(&out, "request %d: global %d, %s sequence %d, id %s, causation %s, hash %x, replayed %v\n",
				i, rc.Global, rc.Coordinate.Entity(), rc.Sequence, rc.ID, rc.Causation, rc.Hash[:8], rc.Replayed)
		}
	}

	path := filepath.Join("testdata", "drain.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	require.Equal(t, string(want), out.String(), "the drain's bytes changed; if on purpose, rerun with -update and review the diff")
}
