package projector_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

var errFakeClosed = errors.New("fake: closed")

// memLog is an in-memory projector.Source: event i has global sequence
// i+1. Its lossy subscriptions drop a notification when their buffer is
// full, as the store's do.
type memLog struct {
	mu      sync.Mutex
	events  []event.StoredEvent // guarded by mu
	seqs    map[string]uint64   // guarded by mu; next sequence per entity
	scanned int                 // guarded by mu; events handed to Scan callbacks
	changec chan struct{}       // guarded by mu; closed and replaced by each append
	subs    []*memSub           // guarded by mu
	donec   chan struct{}
	once    sync.Once
}

func newMemLog() *memLog {
	return &memLog{seqs: make(map[string]uint64), changec: make(chan struct{}), donec: make(chan struct{})}
}

func (l *memLog) append(entity string, kind event.EventKind, payload []byte) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := uint64(len(l.events)) + 1
	seq := l.seqs[entity]
	l.seqs[entity] = seq + 1
	ev := event.StoredEvent{
		Header:     event.Header{Global: g, Kind: kind, Sequence: seq},
		Coordinate: event.MustCoordinate(entity, "scope"),
		Payload:    payload,
	}
	l.events = append(l.events, ev)
	close(l.changec)
	l.changec = make(chan struct{})
	for _, s := range l.subs {
		if s.region.MatchesNotification(ev.Notification()) {
			select {
			case s.c <- ev.Notification():
			default:
				s.dropped++
			}
		}
	}
	return g
}

// close stops the fake store: waits and feeds end.
func (l *memLog) close() { l.once.Do(func() { close(l.donec) }) }

func (l *memLog) Final(err error) bool { return errors.Is(err, errFakeClosed) }

func (l *memLog) Head() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.events))
}

func (l *memLog) Scan(ctx context.Context, r event.Region, after, through uint64, fn func(*event.StoredEvent) error) error {
	l.mu.Lock()
	evs := l.events[:min(through, uint64(len(l.events)))]
	l.mu.Unlock()
	for i := after; i < uint64(len(evs)); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev := evs[i] // a copy: fn must not keep it
		if !r.Matches(ev.Coordinate, ev.Kind, ev.Sequence) {
			continue
		}
		l.mu.Lock()
		l.scanned++
		l.mu.Unlock()
		if err := fn(&ev); err != nil {
			return err
		}
	}
	return nil
}

func (l *memLog) scans() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.scanned
}

// wait returns the channel the next append closes, and the head now.
func (l *memLog) wait() (<-chan struct{}, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changec, uint64(len(l.events))
}

func (l *memLog) block(ctx context.Context, c <-chan struct{}) error {
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.donec:
		return errFakeClosed
	}
}

func (l *memLog) WaitVisible(ctx context.Context, pos uint64) error {
	for {
		c, head := l.wait()
		if head >= pos {
			return nil
		}
		if err := l.block(ctx, c); err != nil {
			return err
		}
	}
}

func (l *memLog) Follow(r event.Region, from uint64) (projector.Feed, error) {
	select {
	case <-l.donec:
		return nil, errFakeClosed
	default:
	}
	return &memFeed{log: l, region: r, pos: from}, nil
}

// memFeed is a cursor over a memLog.
type memFeed struct {
	log    *memLog
	region event.Region
	pos    uint64
}

func (f *memFeed) NextBatch(ctx context.Context, max int) ([]*event.StoredEvent, error) {
	for {
		c, head := f.log.wait()
		var out []*event.StoredEvent
		err := f.log.Scan(ctx, f.region, f.pos, head, func(ev *event.StoredEvent) error {
			cp := *ev
			out = append(out, &cp)
			if len(out) == max {
				return errFull
			}
			return nil
		})
		if err != nil && err != errFull {
			return nil, err
		}
		if len(out) > 0 {
			f.pos = out[len(out)-1].Global
			return out, nil
		}
		f.pos = head
		if err := f.log.block(ctx, c); err != nil {
			return nil, err
		}
	}
}

var errFull = errors.New("full")

func (f *memFeed) Close() error { return nil }

// memSub is a lossy subscription of a memLog.
type memSub struct {
	log     *memLog
	region  event.Region
	c       chan event.Notification
	dropped int // guarded by log.mu
	closec  chan struct{}
	once    sync.Once
}

func (l *memLog) subscribe(r event.Region, capacity int) *memSub {
	s := &memSub{log: l, region: r, c: make(chan event.Notification, capacity), closec: make(chan struct{})}
	l.mu.Lock()
	l.subs = append(l.subs, s)
	l.mu.Unlock()
	return s
}

func (s *memSub) Recv(ctx context.Context) (event.Notification, error) {
	select {
	case n := <-s.c:
		return n, nil
	case <-ctx.Done():
		return event.Notification{}, ctx.Err()
	case <-s.closec:
		return event.Notification{}, errFakeClosed
	case <-s.log.donec:
		return event.Notification{}, errFakeClosed
	}
}

func (s *memSub) Close() error {
	s.once.Do(func() { close(s.closec) })
	return nil
}

func (s *memSub) drops() int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.dropped
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
