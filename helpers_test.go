package batpak_test

import (
	"context"

	"github.com/batpak-go/batpak/internal/testkit"
)

// The helpers shared with the reliability suite (package internal/testkit),
// under the names the tests use.
var (
	kindMoved       = testkit.KindMoved
	kindSpoke       = testkit.KindSpoke
	kindMarker      = testkit.KindMarker
	quiet           = testkit.Quiet
	errOpenPanicked = testkit.ErrOpenPanicked
	openStore       = testkit.OpenStore
	tryOpen         = testkit.TryOpen
	closeStore      = testkit.CloseStore
	coord           = testkit.Coord
	mustAppend      = testkit.MustAppend
	collect         = testkit.Collect
	all             = testkit.All
	checkLog        = testkit.CheckLog
	receiptMatches  = testkit.ReceiptMatches
	segmentFiles    = testkit.SegmentFiles
	readFile        = testkit.ReadFile
	writeFile       = testkit.WriteFile
	frames          = testkit.Frames
	batchCounts     = testkit.BatchCounts
)

type (
	frame     = testkit.Frame
	payload   = testkit.Payload
	batchMark = testkit.BatchMark
)

// bg is the context of calls that are not about cancellation.
var bg = context.Background()

// memDir is the store directory used on in-memory file systems.
const memDir = testkit.MemDir
