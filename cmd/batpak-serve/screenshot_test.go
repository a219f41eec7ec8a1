package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The screenshots in the README are taken by this test:
//
//	BATPAK_SCREENSHOT=$PWD/docs go test -run Screenshot ./cmd/batpak-serve
//
// run from the repository's root, writes docs/inspector.png (the
// overview) and docs/inspector-graph.png (a workflow). Without the
// variable it takes them all the same and checks they are pictures of the
// size asked for.

const shotW, shotH = 1280, 820

// TestScreenshot takes pictures of the inspector of a small shop's store.
func TestScreenshot(t *testing.T) {
	out := os.Getenv("BATPAK_SCREENSHOT")
	if out == "" {
		out = t.TempDir()
	}
	out, err := filepath.Abs(out) // before the Chdir below
	require.NoError(t, err)
	// The store is opened by a relative name, which the pages show, so the
	// pictures show no path of the machine that took them.
	t.Chdir(t.TempDir())
	s, err := batpak.Open("shop-events", quiet, batpak.WithClock(demoClock()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	order := writeShop(t, s)
	base := serveProgram(t, s)
	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(shotW, shotH)))

	shots := []struct{ file, path, ready string }{
		{"inspector.png", "", `document.querySelector("table.events tbody tr")`},
		{"inspector-graph.png", "graph?c=" + order.Correlation.String() + "&e=" + order.ID.String(),
			`document.querySelector("#graph").dataset.state === "drawn"`},
	}
	for _, shot := range shots {
		open(t, ctx, base+shot.path)
		waitJS(t, ctx, shot.ready)
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, shotW, img.Bounds().Dx())
		require.Equal(t, shotH, img.Bounds().Dy())
		require.NoError(t, os.WriteFile(filepath.Join(out, shot.file), b, 0o644))
	}
}

// demoClock starts at a fixed time and moves 1.7 s a reading, so the
// pictures do not change from one run to the next but for ids and hashes.
func demoClock() func() time.Time {
	start := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * 1700 * time.Millisecond) }
}

// writeShop appends a small shop's day: players moving between rooms,
// items picked up, and an order's workflow. It returns the order's
// payment, the event the graph marks.
func writeShop(t *testing.T, s *batpak.Store) batpak.Receipt {
	t.Helper()
	must := func(r batpak.Receipt, err error) batpak.Receipt {
		t.Helper()
		require.NoError(t, err)
		return r
	}
	c := event.MustCoordinate
	moved, picked := event.MustCustom(1, 1), event.MustCustom(1, 2)
	placed, paid, reserved, shipped, mailed := event.MustCustom(2, 1), event.MustCustom(2, 2), event.MustCustom(2, 3), event.MustCustom(2, 4), event.MustCustom(2, 5)
	// The store keeps the kinds' names (as a typed append teaches them):
	// the pages show them.
	for k, name := range map[event.EventKind]string{
		moved: "player.moved", picked: "item.picked", placed: "order.placed", paid: "payment.taken",
		reserved: "stock.reserved", shipped: "parcel.shipped", mailed: "mail.sent",
	} {
		require.NoError(t, s.KindNames().Learn(bg, k, name))
	}
	rooms := []string{"room:hall", "room:crypt", "room:armory", "room:tower"}
	players := []string{"player:alice", "player:bob", "player:carol", "player:dmitri"}
	for i := range 24 {
		p := players[i%len(players)]
		room := rooms[(i*3+i/4)%len(rooms)]
		if i%5 == 4 {
			must(s.Append(bg, c(p, room), picked, map[string]any{"item": []string{"lantern", "rope", "key", "map"}[i%4], "weight": 1 + i%3}))
			continue
		}
		must(s.Append(bg, c(p, room), moved, map[string]any{"from": rooms[(i+1)%len(rooms)], "to": room, "tick": 1000 + i}))
	}
	root := must(s.Append(bg, c("order:1042", "shop"), placed, map[string]any{"customer": "alice", "items": 3, "total": "42.50 EUR"}))
	corr := root.Correlation
	pay := must(s.AppendReaction(bg, c("payment:1042", "shop"), paid, map[string]any{"method": "card", "amount": "42.50 EUR"}, corr, root.ID))
	res := must(s.AppendReaction(bg, c("stock:lantern", "warehouse"), reserved, map[string]any{"order": 1042, "count": 1}, corr, root.ID))
	must(s.AppendReaction(bg, c("stock:rope", "warehouse"), reserved, map[string]any{"order": 1042, "count": 2}, corr, root.ID))
	ship := must(s.AppendReaction(bg, c("shipping:1042", "shop"), shipped, map[string]any{"carrier": "post", "parcel": "PX-88213"}, corr, pay.ID))
	must(s.AppendReaction(bg, c("mail:alice", "shop"), mailed, map[string]any{"template": "shipped", "parcel": "PX-88213"}, corr, ship.ID))
	must(s.AppendReaction(bg, c("mail:alice", "shop"), mailed, map[string]any{"template": "receipt"}, corr, pay.ID))
	_ = res
	for i := range 3 {
		must(s.Append(bg, c(players[i], rooms[i]), moved, map[string]any{"to": rooms[i], "tick": fmt.Sprint(1100 + i)}))
	}
	return pay
}
