package writer_test

import (
	"context"
	"fmt"
	"time"

	"github.com/batpak-go/batpak/actor"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/vfs"
	"github.com/batpak-go/batpak/writer"
)

// The writer and the fsync actor each run their loop on a goroutine of
// their own (the store runs them under its supervisor); a caller sends a
// request to the writer's mailbox and waits for the reply, which the
// fsync actor sends once the event is durable.
func Example() {
	fs := vfs.NewMem()
	_ = fs.MkdirAll("/db")
	idx := index.New()
	done := make(chan struct{}) // closes once both actors stopped for good
	w, fsync, err := writer.New(writer.Config{
		FS: fs, Dir: "/db", Index: idx, Clock: time.Now,
		SegmentSize: 1 << 20, Mailbox: 16, MaxDrain: 64, DrainLimit: 1024,
		OnSegment: func(uint64, vfs.File) {}, // the store registers it with the readers
	}, writer.Start{}, done)
	if err != nil {
		fmt.Println(err)
		return
	}
	serve := func(ctx context.Context, run func(context.Context) error) <-chan error {
		out := make(chan error, 1)
		go func() { out <- run(ctx) }()
		return out
	}
	fctx, stopFsync := context.WithCancel(context.Background())
	wctx, stopWriter := context.WithCancel(context.Background())
	fsyncDone, writerDone := serve(fctx, fsync.Serve), serve(wctx, w.Serve)

	ctx := context.Background()
	r := writer.NewAppend(writer.Item{
		Coord: event.MustCoordinate("order:1", "shop"), Kind: event.MustCustom(1, 1), Payload: []byte("placed"),
	}, event.Durable)
	err = w.Mailbox().Send(ctx, r)
	if err == nil {
		var res *writer.Request
		if res, err = actor.Await(ctx, r.Reply(), done); err == nil {
			if err = res.Err; err == nil {
				rc := res.Receipts[0] // copy out before Release
				fmt.Println("global", rc.Global, "sequence", rc.Sequence, "visible", idx.Len())
			}
			r.Release() // only once the reply has arrived
		}
	}
	if err != nil {
		fmt.Println(err)
	}

	// Stop in the supervisor's order: the writer drains and hands the
	// fsync actor a last barrier, then the fsync actor stops.
	stopWriter()
	fmt.Println("writer:", <-writerDone)
	stopFsync()
	fmt.Println("fsync:", <-fsyncDone)
	close(done)
	// Output:
	// global 1 sequence 0 visible 1
	// writer: <nil>
	// fsync: <nil>
}
