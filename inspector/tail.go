package inspector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// The live tail: a page listing the newest events, and a Server-Sent
// Events stream (tail.sse) that sends each later event as it becomes
// visible. A store open for writing wakes the stream through a lossy
// subscription — only a wake-up: the events themselves are read from the
// log after the last one sent, so a dropped notification loses nothing. A
// read-only store has no subscriptions: the stream refreshes it every
// poll interval. The stream ends when the client goes, when the inspector
// is closed, and when the store is.

const (
	// tailBatch bounds the events one round of the stream reads before
	// flushing them.
	tailBatch = 256
	// keepAlive is how often an idle stream of a writable store sends a
	// comment, so that a client gone without a word is noticed.
	keepAlive = 15 * time.Second
)

type tailData struct {
	Rows  []row
	After uint64 // the newest global sequence the page shows
}

// tail is the live tail's page: the newest events, then the page's script
// streams the later ones from tail.sse?after=After.
func (in *Inspector) tail(w http.ResponseWriter, r *http.Request) {
	warn := in.refresh(r.Context())
	last := in.store.Stats().LastGlobal
	rows, err := in.newest(r, recentEvents)
	if err != nil {
		in.fail(w, r, 0, err)
		return
	}
	if len(rows) > 0 {
		last = max(last, rows[0].Global)
	}
	in.render(w, r, http.StatusOK, "tail", page{Title: "Live tail", Nav: "tail", Warning: errText(warn),
		Data: tailData{Rows: rows, After: last}})
}

// tailStream is the live tail's event stream: every event with a global
// sequence above ?after= (or the Last-Event-ID a reconnecting client
// sends), as it becomes visible, each an SSE message whose id is its
// global sequence and whose data is its row as JSON.
func (in *Inspector) tailStream(w http.ResponseWriter, r *http.Request) {
	after, err := in.streamStart(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if n := in.tails.Add(1); int(n) > in.cfg.maxTails {
		in.tails.Add(-1)
		http.Error(w, fmt.Sprintf("inspector: %d live tails are open already", in.cfg.maxTails), http.StatusServiceUnavailable)
		return
	}
	defer in.tails.Add(-1)

	wait := keepAlive
	var wake <-chan event.Notification
	sub, err := in.store.Subscribe(event.AllEvents(), 64)
	switch {
	case err == nil:
		defer sub.Close()
		wake = sub.C()
	case errors.Is(err, batpak.ErrReadOnly):
		wait = in.cfg.poll
	default:
		http.Error(w, err.Error(), statusOf(err))
		return
	}

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives a server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // no proxy buffering
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	tick := time.NewTicker(wait)
	defer tick.Stop()
	ctx := r.Context()
	for {
		if wake == nil { // read-only: look for the writer's new events
			_ = in.refresh(ctx)
		}
		n, err := in.sendAfter(ctx, w, &after)
		if err != nil {
			return // the client went, or the store closed
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if n == tailBatch {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-in.done:
			return
		case _, ok := <-wake:
			if !ok {
				return // the store closed
			}
		case <-tick.C:
			if wake != nil {
				if _, err := fmt.Fprint(w, ": idle\n\n"); err != nil {
					return
				}
			}
		}
	}
}

// sendAfter writes up to tailBatch events after *after as SSE messages
// and moves *after past them.
func (in *Inspector) sendAfter(ctx context.Context, w http.ResponseWriter, after *uint64) (int, error) {
	n := 0
	for ev, err := range in.store.QueryAfter(ctx, event.AllEvents(), *after) {
		if err != nil {
			return n, err
		}
		b, err := json.Marshal(in.row(ev))
		if err != nil {
			return n, err
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", ev.Global, b); err != nil {
			return n, err
		}
		*after = ev.Global
		if n++; n == tailBatch {
			break
		}
	}
	return n, nil
}

// streamStart is where a stream starts: after the Last-Event-ID of a
// client reconnecting, else after ?after=, else after the newest event.
func (in *Inspector) streamStart(r *http.Request) (uint64, error) {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		s = r.URL.Query().Get("after")
	}
	if s == "" {
		return in.store.Stats().LastGlobal, nil
	}
	g, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("inspector: after=%q is not a global sequence", s)
	}
	return g, nil
}
