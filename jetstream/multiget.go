package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/nats-io/nats.go"
)

// Direct gets by stream sequence, many in flight at once. One direct get
// is a round trip; the server answers a connection's requests in order and
// without waiting for the client, so sending a read's gets together costs
// about one round trip plus the server's work per message (a fifth to a
// third of a round trip each on loopback). Each request names its own
// reply subject (an inbox of the read and the stream sequence), so answers
// are matched to requests whatever their order.

// multiGetWindow bounds the gets in flight: enough to keep the server
// busy, few enough that a read never floods a connection's buffers.
const multiGetWindow = 256

// multiGet is one read's inbox: a subject under the store's read inbox
// (readMux), whose answers arrive on c.
type multiGet struct {
	s     *Store
	id    uint64
	inbox string
	c     chan *nats.Msg
	err   error
}

func (s *Store) newMultiGet() *multiGet { return s.openInbox(2 * multiGetWindow) }

// openInbox opens a read's inbox for up to capacity answers not taken yet.
func (s *Store) openInbox(capacity int) *multiGet {
	x := &s.reads
	f := &multiGet{s: s, c: make(chan *nats.Msg, capacity)}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sub == nil && x.err == nil {
		x.prefix = s.nc.NewRespInbox()
		x.reads = map[uint64]chan *nats.Msg{}
		x.sub, x.err = s.nc.Subscribe(x.prefix+".>", x.route)
	}
	if x.err != nil {
		f.err = x.err
		return f
	}
	x.n++
	f.id = x.n
	f.inbox = x.prefix + "." + strconv.FormatUint(f.id, 10)
	x.reads[f.id] = f.c
	return f
}

func (f *multiGet) close() {
	x := &f.s.reads
	x.mu.Lock()
	delete(x.reads, f.id)
	x.mu.Unlock()
}

// readMux is the store's one subscription for the answers of its
// direct gets that return several messages (multi-gets and scan pages): a
// subscription per read would cost a subscribe and an unsubscribe, and
// the client a channel as long as its pending limit (half a million
// entries), per read.
type readMux struct {
	mu     sync.Mutex
	prefix string                    // <inbox>; a read's answers come to <inbox>.<read>.<seq>
	sub    *nats.Subscription        // guarded by mu
	err    error                     // guarded by mu
	n      uint64                    // reads opened, guarded by mu
	reads  map[uint64]chan *nats.Msg // open reads, guarded by mu
}

// route hands an answer to its read. A read whose buffer is full, or that
// has ended, loses it: it asks again after its time-out.
func (x *readMux) route(m *nats.Msg) {
	rest := strings.TrimPrefix(m.Subject, x.prefix+".")
	id, err := strconv.ParseUint(rest[:max(0, strings.IndexByte(rest, '.'))], 10, 64)
	if err != nil {
		return
	}
	x.mu.Lock()
	c := x.reads[id]
	x.mu.Unlock()
	select {
	case c <- m:
	default:
	}
}

// closeReads ends the read subscription (Close).
func (s *Store) closeReads() {
	x := &s.reads
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sub != nil {
		_ = x.sub.Unsubscribe()
	}
	x.err = batpak.ErrClosed
}

// get reads the messages at the stream sequences seqs, calling fn with
// each (in the order the answers arrive) until fn returns false or an
// error; fn may name more sequences to read, which are sent at once. It
// returns false when fn did, or when a sequence holds no message (on a
// replicated stream, after asking the leader too).
func (f *multiGet) get(ctx context.Context, seqs []uint64, fn func(seq uint64, m *storedMsg) (more []uint64, ok bool, err error)) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	s := f.s
	pending := map[uint64]bool{} // sent, not answered
	todo := seqs
	send := func(seq uint64) error {
		pending[seq] = true
		req := strconv.AppendUint([]byte(`{"seq":`), seq, 10)
		req = append(req, '}')
		return s.nc.PublishRequest(s.api+"DIRECT.GET."+s.opts.Stream, f.inbox+"."+strconv.FormatUint(seq, 10), req)
	}
	attempt := 0
	for len(todo) > 0 || len(pending) > 0 {
		for len(todo) > 0 && len(pending) < multiGetWindow {
			if err := send(todo[0]); err != nil {
				return false, err
			}
			todo = todo[1:]
		}
		m, err := f.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if cerr := s.check(); cerr != nil {
				return false, cerr
			}
			// Nothing came in time: ask again for everything unanswered.
			if attempt++; attempt >= s.opts.Attempts {
				return false, fmt.Errorf("%w: direct get: %w", ErrUnavailable, err)
			}
			if err := backoff(ctx, s.done, attempt); err != nil {
				return false, err
			}
			for seq := range pending {
				if err := send(seq); err != nil {
					return false, err
				}
			}
			continue
		}
		tok := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
		seq, err := strconv.ParseUint(tok, 10, 64)
		if err != nil || !pending[seq] {
			continue // a late answer to a request asked again
		}
		delete(pending, seq)
		sm, err := directAnswer(m)
		switch {
		case errors.Is(err, batpak.ErrNotFound) && s.opts.Replicas > 1:
			// A replica that has not stored it yet: ask the leader.
			if sm, _, err = s.getMsg(ctx, msgGetRequest{Seq: seq}); errors.Is(err, batpak.ErrNotFound) {
				return false, nil
			}
		case errors.Is(err, batpak.ErrNotFound):
			return false, nil
		case errors.Is(err, nats.ErrNoResponders): // no replica could answer now
			if attempt++; attempt >= s.opts.Attempts {
				return false, fmt.Errorf("%w: direct get: %w", ErrUnavailable, err)
			}
			if err := backoff(ctx, s.done, attempt); err != nil {
				return false, err
			}
			if err := send(seq); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		more, ok, err := fn(seq, sm)
		if err != nil || !ok {
			return ok, err
		}
		todo = append(todo, more...)
	}
	return true, nil
}

// next waits for the next answer, at most the store's Timeout.
func (f *multiGet) next(ctx context.Context) (*nats.Msg, error) {
	t := time.NewTimer(f.s.opts.Timeout)
	defer t.Stop()
	select {
	case m := <-f.c:
		return m, nil
	case <-t.C:
		return nil, nats.ErrTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.s.done:
		return nil, batpak.ErrClosed
	}
}

// wait waits for the next answer until ctx ends.
func (f *multiGet) wait(ctx context.Context) (*nats.Msg, error) {
	select {
	case m := <-f.c:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.s.done:
		return nil, batpak.ErrClosed
	}
}

// directAnswer turns a direct get's answer into the message it carries.
func directAnswer(m *nats.Msg) (*storedMsg, error) {
	if st := m.Header.Get("Status"); st != "" {
		switch st {
		case "404":
			return nil, batpak.ErrNotFound
		case "503":
			return nil, nats.ErrNoResponders
		}
		return nil, fmt.Errorf("jetstream: direct get: status %s %s", st, m.Header.Get("Description"))
	}
	seq, ok := headUint(m.Header, hdrNatsSq)
	if !ok {
		return nil, fmt.Errorf("%w: direct get answer without a sequence", batpak.ErrCorrupt)
	}
	return &storedMsg{Subject: m.Header.Get(hdrNatsSj), Seq: seq, Data: m.Data, hdr: m.Header}, nil
}
