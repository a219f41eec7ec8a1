package jetstream

import (
	"context"
	"sync"

	"github.com/batpak-go/batpak"
)

// Pipelined appends. Submit and SubmitBatch check and encode on the
// caller's goroutine, then hand the append to a goroutine of its own and
// return a ticket: many appends are in flight on the connection at once.
// An entity's appends are published one after the other, each once the
// one submitted before it has its answer, because each carries the stream
// sequence of the entity's newest event, which the server assigns; appends
// to other entities overlap. A batch waits for every entity it writes.

// maxInFlight bounds the submitted appends not yet answered; Submit waits
// for room past it (or for its context).
const maxInFlight = 1024

// pipeline is a store's submitted appends.
type pipeline struct {
	slots chan struct{} // one per append in flight

	mu    sync.Mutex
	tails map[string]*ticket // guarded by mu; each entity's last submitted append
}

func newPipeline() *pipeline {
	return &pipeline{slots: make(chan struct{}, maxInFlight), tails: map[string]*ticket{}}
}

// ticket is a submitted append's claim on its receipts.
type ticket struct {
	done chan struct{} // closed once rs and err are set
	rs   []batpak.Receipt
	err  error
}

// Wait returns the receipt of a single append (the first of a batch).
func (t *ticket) Wait(ctx context.Context) (batpak.Receipt, error) {
	rs, err := t.WaitAll(ctx)
	if err != nil {
		return batpak.Receipt{}, err
	}
	return rs[0], nil
}

// WaitAll returns every receipt, once the append has its answer.
func (t *ticket) WaitAll(ctx context.Context) ([]batpak.Receipt, error) {
	select {
	case <-t.done:
		return t.rs, t.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Submit checks and encodes an append and returns at once with a ticket;
// the append is stored when Wait returns. Appends to one entity are
// stored in the order submitted; appends to different entities may be
// stored in any order. ctx bounds only the wait for room in the pipeline:
// once submitted, an append runs to its answer (bounded by Timeout and
// Attempts), and Close waits for it.
func (s *Store) Submit(ctx context.Context, coord batpak.Coordinate, kind batpak.EventKind, payload any, opts batpak.AppendOptions) (batpak.Ticket, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	d, err := s.newDraft(ctx, coord, kind, payload, opts)
	if err != nil {
		return nil, err
	}
	return s.submit(ctx, []string{coord.Entity()}, func(ctx context.Context) ([]batpak.Receipt, error) {
		r, err := s.appendDraft(ctx, d, opts)
		if err != nil {
			return nil, err
		}
		s.sign(&r)
		return []batpak.Receipt{r}, nil
	})
}

// SubmitBatch is Submit for an atomic batch (see AppendBatch); d is
// ignored, as AppendOptions.Durability is.
func (s *Store) SubmitBatch(ctx context.Context, items []batpak.BatchItem, _ batpak.Durability) (batpak.Ticket, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ds, err := s.batchDrafts(ctx, items)
	if err != nil {
		return nil, err
	}
	entities := make([]string, 0, len(ds))
	for _, d := range ds {
		entities = append(entities, d.rec.Entity)
	}
	items = append([]batpak.BatchItem(nil), items...) // the caller may reuse its slice
	return s.submit(ctx, entities, func(ctx context.Context) ([]batpak.Receipt, error) {
		rs, err := s.appendDrafts(ctx, items, ds)
		if err == nil {
			for i := range rs {
				s.sign(&rs[i])
			}
		}
		return rs, err
	})
}

// submit runs write on a goroutine of its own once the appends submitted
// before it to any of entities have their answers.
func (s *Store) submit(ctx context.Context, entities []string, write func(context.Context) ([]batpak.Receipt, error)) (batpak.Ticket, error) {
	p := s.pipe
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, batpak.ErrClosed
	}
	if err := s.beginWrite(); err != nil {
		<-p.slots
		return nil, err
	}
	t := &ticket{done: make(chan struct{})}
	var before []*ticket
	p.mu.Lock()
	for _, e := range entities {
		if prev := p.tails[e]; prev != nil && prev != t {
			before = append(before, prev)
		}
		p.tails[e] = t
	}
	p.mu.Unlock()
	go func() {
		defer s.endWrite()
		for _, prev := range before {
			<-prev.done
		}
		t.rs, t.err = write(context.Background())
		close(t.done)
		p.mu.Lock()
		for _, e := range entities {
			if p.tails[e] == t {
				delete(p.tails, e)
			}
		}
		p.mu.Unlock()
		<-p.slots
	}()
	return t, nil
}
