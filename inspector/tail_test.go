package inspector_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/inspector"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamDeadline bounds how long a test waits for a stream to say
// something; a pass takes milliseconds.
const streamDeadline = 30 * time.Second

// sseMessage is one message of the live tail's stream.
type sseMessage struct {
	ID   string
	Data map[string]any
}

// stream is an open live-tail stream, read one message at a time.
type stream struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

// openStream opens url's stream and reads its preamble, so the stream is
// set up (subscribed, or polling) when it returns.
func openStream(t *testing.T, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, streamDeadline)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(s.close)
	line, err := s.r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "retry: 2000\n", line)
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the stream's next message (comments skipped), or the
// error that ended the stream.
func (s *stream) next() (sseMessage, error) {
	var m sseMessage
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return m, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && m.ID != "":
			return m, nil
		case strings.HasPrefix(line, "id: "):
			m.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m.Data); err != nil {
				return m, err
			}
		}
	}
}

// TestTailStreamsNewEvents: on a store open for writing, the stream sends
// the events after ?after= and then each event appended later, with its
// global sequence as the message id.
func TestTailStreamsNewEvents(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	last := f.store.Stats().LastGlobal
	s := openStream(t, fmt.Sprintf("%s/tail.sse?after=%d", srv.URL, last-2))
	for _, want := range []uint64{last - 1, last} {
		m, err := s.next()
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(want), m.ID)
	}
	r, err := f.store.Append(bg, event.MustCoordinate("late:1", "later"), kindMoved, map[string]any{"late": true})
	require.NoError(t, err)
	m, err := s.next()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(r.Global), m.ID)
	assert.Equal(t, r.ID.String(), m.Data["id"])
	assert.Equal(t, "late:1", m.Data["entity"])
	assert.Equal(t, "later", m.Data["scope"])
	assert.Equal(t, "0x1001", m.Data["kind"])
	assert.Equal(t, `{"late":true}`, m.Data["summary"])
}

// TestTailFollowsReadOnlyStore: on a store opened read-only, the stream
// polls it and sends what another writer appends; the pages, too, show
// events written after the inspector started.
func TestTailFollowsReadOnlyStore(t *testing.T) {
	f := newFixture(t)
	ro, err := batpak.OpenReadOnly(f.dir, quiet)
	require.NoError(t, err)
	defer ro.Close()
	_, srv := serve(t, ro, inspector.WithPollInterval(10*time.Millisecond))
	s := openStream(t, srv.URL+"/tail.sse")
	r, err := f.store.Append(bg, event.MustCoordinate("late:2", "later"), kindMoved, "written after")
	require.NoError(t, err)
	m, err := s.next()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(r.Global), m.ID)
	assert.Equal(t, "late:2", m.Data["entity"])

	r2, err := f.store.Append(bg, event.MustCoordinate("late:3", "later"), kindMoved, nil)
	require.NoError(t, err)
	body := page(t, srv.URL+"/event?id="+r2.ID.String())
	assert.Contains(t, body, "late:3")
	assert.Contains(t, page(t, srv.URL+"/"), "read-only")
}

// TestTailResumesFromLastEventID: a client reconnecting with
// Last-Event-ID gets the events after it, whatever ?after= says.
func TestTailResumesFromLastEventID(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/tail.sse?after=0", nil)
	require.NoError(t, err)
	last := f.store.Stats().LastGlobal
	req.Header.Set("Last-Event-ID", fmt.Sprint(last-1))
	ctx, cancel := context.WithTimeout(bg, streamDeadline)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	require.NoError(t, err)
	s := &stream{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	defer s.close()
	m, err := s.next()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(last), m.ID)
}

// TestTailEndsWithStoreAndInspector: a stream ends, and its goroutine
// returns, when the store closes and when the inspector does (goleak in
// TestMain checks nothing is left).
func TestTailEndsWithStoreAndInspector(t *testing.T) {
	t.Run("store closed", func(t *testing.T) {
		f := newFixture(t)
		_, srv := serve(t, f.store)
		s := openStream(t, srv.URL+"/tail.sse")
		require.NoError(t, f.store.Close())
		_, err := s.next()
		require.ErrorIs(t, err, io.EOF)
	})
	t.Run("read-only store closed", func(t *testing.T) {
		f := newFixture(t)
		ro, err := batpak.OpenReadOnly(f.dir, quiet)
		require.NoError(t, err)
		_, srv := serve(t, ro, inspector.WithPollInterval(5*time.Millisecond))
		s := openStream(t, srv.URL+"/tail.sse")
		require.NoError(t, ro.Close())
		_, err = s.next()
		require.ErrorIs(t, err, io.EOF)
	})
	t.Run("inspector closed", func(t *testing.T) {
		f := newFixture(t)
		in, srv := serve(t, f.store)
		s := openStream(t, srv.URL+"/tail.sse")
		require.NoError(t, in.Close())
		_, err := s.next()
		require.ErrorIs(t, err, io.EOF)
	})
}

// TestTailLimit: one live tail more than WithMaxLiveTails allows is
// refused with 503, and a tail that ended frees its place.
func TestTailLimit(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store, inspector.WithMaxLiveTails(2))
	a := openStream(t, srv.URL+"/tail.sse")
	openStream(t, srv.URL+"/tail.sse")
	status, _, _ := get(t, srv.URL+"/tail.sse")
	require.Equal(t, http.StatusServiceUnavailable, status)

	a.close()
	// The server notices a's client went when its stream next writes or
	// its request context ends: wait for the place to come free.
	deadline := time.Now().Add(streamDeadline)
	for {
		ctx, cancel := context.WithTimeout(bg, streamDeadline)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/tail.sse", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		status := resp.StatusCode
		resp.Body.Close()
		cancel()
		if status == http.StatusOK {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.True(t, time.Now().Before(deadline), "the closed tail's place never came free")
		time.Sleep(5 * time.Millisecond) // polling a condition, not synchronising
	}
}
