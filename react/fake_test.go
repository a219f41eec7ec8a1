package react

import (
	"context"
	"errors"
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
)

var (
	errFakeClosed = errors.New("fake: closed")
	errFakeFailed = errors.New("fake: failed")
)

// memStore is an in-memory backend: event i has global sequence i+1. Its
// cursors wait on a channel each append closes; its durable cursors keep
// their acknowledged positions by name.
type memStore struct {
	mu      sync.Mutex
	events  []*event.StoredEvent // guarded by mu
	changec chan struct{}        // guarded by mu; closed and replaced by each append
	end     error                // guarded by mu; what cursors return once set
	acked   map[string]uint64    // guarded by mu
	batches [][]event.BatchItem  // guarded by mu; what AppendBatch was given
	batchc  chan struct{}        // a value per AppendBatch
}

func newMemStore() *memStore {
	return &memStore{changec: make(chan struct{}), acked: map[string]uint64{}, batchc: make(chan struct{}, 64)}
}

func (m *memStore) backend() Backend {
	return Backend{
		Log: memLog{m},
		Durable: func(name string, r event.Region) (DurableFeed, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			return &memDurable{memFeed: memFeed{m: m, region: r, pos: m.acked[name]}, name: name}, nil
		},
		AppendBatch: func(_ context.Context, items []event.BatchItem) ([]event.Receipt, error) {
			m.mu.Lock()
			m.batches = append(m.batches, items)
			m.mu.Unlock()
			rs := make([]event.Receipt, len(items))
			for i, it := range items {
				rs[i] = event.Receipt{Global: m.append(it.Coord, it.Kind, it.Options)}
			}
			m.batchc <- struct{}{}
			return rs, nil
		},
	}
}

func (m *memStore) append(c event.Coordinate, k event.EventKind, o event.AppendOptions) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := uint64(len(m.events)) + 1
	id := event.NewID()
	corr := o.Correlation
	if corr.IsZero() {
		corr = id
	}
	m.events = append(m.events, &event.StoredEvent{
		Header:     event.Header{ID: id, Global: g, Kind: k, Correlation: corr, Causation: o.Causation},
		Coordinate: c,
	})
	close(m.changec)
	m.changec = make(chan struct{})
	return g
}

func (m *memStore) appendN(n int, k event.EventKind) {
	for range n {
		m.append(event.MustCoordinate("p:1", "room:1"), k, event.AppendOptions{})
	}
}

// stop makes every cursor return err from now on.
func (m *memStore) stop(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.end = err
	close(m.changec)
	m.changec = make(chan struct{})
}

type memLog struct{ m *memStore }

func (l memLog) Head() uint64 {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return uint64(len(l.m.events))
}

func (l memLog) Scan(context.Context, event.Region, uint64, uint64, func(*event.StoredEvent) error) error {
	return errors.New("memLog: Scan is not used by react loops")
}

func (l memLog) Follow(r event.Region, from uint64) (projector.Feed, error) {
	return &memFeed{m: l.m, region: r, pos: from}, nil
}

func (l memLog) WaitVisible(context.Context, uint64) error {
	return errors.New("memLog: WaitVisible is not used by react loops")
}

func (l memLog) Final(err error) bool {
	return errors.Is(err, errFakeClosed) || errors.Is(err, errFakeFailed)
}

type memFeed struct {
	m      *memStore
	region event.Region
	mu     sync.Mutex
	pos    uint64
	closed bool
}

func (f *memFeed) NextBatch(ctx context.Context, max int) ([]*event.StoredEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if f.closed {
			return nil, errors.New("memFeed: closed")
		}
		f.m.mu.Lock()
		end, wait := f.m.end, f.m.changec
		var out []*event.StoredEvent
		for _, ev := range f.m.events[f.pos:] {
			if len(out) == max {
				break
			}
			if f.region.Matches(ev.Coordinate, ev.Kind, ev.Sequence) {
				out = append(out, ev)
			}
		}
		f.m.mu.Unlock()
		if end != nil {
			return nil, end
		}
		if len(out) > 0 {
			f.pos = out[len(out)-1].Global
			return out, nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *memFeed) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

type memDurable struct {
	memFeed
	name string
}

func (d *memDurable) Ack(_ context.Context, pos uint64) error {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	if pos > d.m.acked[d.name] {
		d.m.acked[d.name] = pos
	}
	return nil
}

func (d *memDurable) Acked() uint64 {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	return d.m.acked[d.name]
}
