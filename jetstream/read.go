package jetstream

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/nats-io/nats.go"
)

// Get returns the event with the given id: one lookup in the id index
// (index.go; its chunks are cached once read, idcache.go) and one direct
// get of the event it names, whose id must be the one asked for. An id
// missing from the index (its chunk is written without waiting, so it can
// lag a few milliseconds or, if its writer died right after the append, be
// missing), or whose pair names another event, is looked for by a scan of
// the events stored within Options.IDWindow of the id's timestamp.
func (s *Store) Get(ctx context.Context, id batpak.ID) (*batpak.StoredEvent, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	tried := uint64(0) // a sequence the index named that holds another event
	for fresh := false; ; fresh = true {
		seq, ok, cached, err := s.lookupID(ctx, id, fresh)
		if err != nil {
			return nil, err
		}
		if ok && seq != tried {
			// The index is a hint: the event it names must be the one asked for.
			ev, err := s.eventAt(ctx, seq)
			if err != nil && !errors.Is(err, batpak.ErrNotFound) {
				return nil, err
			}
			if err == nil && ev.ID == id {
				return ev, nil
			}
			tried = seq
		}
		if !cached {
			break // a fresh read of the slot did not find it either
		}
	}
	return s.findByTime(ctx, id)
}

// findByTime scans the events stored around id's timestamp for it.
func (s *Store) findByTime(ctx context.Context, id batpak.ID) (*batpak.StoredEvent, error) {
	at := time.UnixMilli(id.UnixMilli())
	start, end := at.Add(-s.opts.IDWindow), at.Add(s.opts.IDWindow)
	want := id.String()
	var found *batpak.StoredEvent
	err := s.scan(ctx, s.subj.all(), 0, 0, &start, func(m rawMsg) error {
		if m.hdr.Get(hdrID) == want {
			d, err := decode(m.seq, m.data)
			if err != nil {
				return err
			}
			found = d.ev
			s.indexID(id, m.seq) // repair the index
			return errStop
		}
		if t, ok := parseTime(m.hdr); ok && t.After(end) {
			return errStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, batpak.ErrNotFound
	}
	return found, nil
}

// Latest returns an entity's newest event, read from the stream leader
// (on a single server, with the cheaper direct get it answers itself).
func (s *Store) Latest(ctx context.Context, entity string) (*batpak.StoredEvent, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	req := msgGetRequest{LastFor: s.subj.entity(entity)}
	var (
		m   *storedMsg
		err error
	)
	if s.opts.Replicas > 1 {
		m, _, err = s.getMsg(ctx, req)
	} else {
		m, err = s.directGet(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	d, err := decode(m.Seq, m.Data)
	if err != nil {
		return nil, err
	}
	return d.ev, nil
}

// Query yields the events in region r in global order. Pages of events are
// read as iteration proceeds, so events appended meanwhile may be included.
// For a single entity, the events are found through the links each event
// carries to earlier ones (links.go, entityread.go) and read before the
// first is yielded (a range of more than 4,096 events is read as other
// regions are), and each event's chain hash is checked against its
// predecessor's (an error wrapping batpak.ErrChainBroken if it fails) and
// Hash.Prev is filled.
func (s *Store) Query(ctx context.Context, r batpak.Region) iter.Seq2[*batpak.StoredEvent, error] {
	return s.QueryAfter(ctx, r, 0)
}

// QueryAfter is Query limited to events with a global sequence above after.
func (s *Store) QueryAfter(ctx context.Context, r batpak.Region, after uint64) iter.Seq2[*batpak.StoredEvent, error] {
	return func(yield func(*batpak.StoredEvent, error) bool) {
		stopped := false
		err := s.each(ctx, r, after, 0, func(ev *batpak.StoredEvent) error {
			if !yield(ev, nil) {
				stopped = true
				return errStop
			}
			return nil
		})
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// Stream yields an entity's events in sequence order.
func (s *Store) Stream(ctx context.Context, entity string) iter.Seq2[*batpak.StoredEvent, error] {
	return s.Query(ctx, batpak.Region{Entity: entity})
}

// ByScope yields a scope's events in global order.
func (s *Store) ByScope(ctx context.Context, scope string) iter.Seq2[*batpak.StoredEvent, error] {
	return s.Query(ctx, event.ForScope(scope))
}

// ByFact yields the events of one kind in global order.
func (s *Store) ByFact(ctx context.Context, kind batpak.EventKind) iter.Seq2[*batpak.StoredEvent, error] {
	return s.Query(ctx, event.AllEvents().WithKind(kind))
}

// each calls fn with region r's events with a global sequence in
// (after, through] (through 0: no bound), checking chains for an exact
// entity.
func (s *Store) each(ctx context.Context, r batpak.Region, after, through uint64, fn func(*batpak.StoredEvent) error) error {
	return s.eachMsg(ctx, r, after, through, func(ev *batpak.StoredEvent, _ nats.Header) error { return fn(ev) })
}

// eachMsg is each handing fn the stored message's headers too.
func (s *Store) eachMsg(ctx context.Context, r batpak.Region, after, through uint64, fn func(*batpak.StoredEvent, nats.Header) error) error {
	if err := s.check(); err != nil {
		return err
	}
	if after == math.MaxUint64 {
		return nil // nothing lies above it (and after+1 would wrap to "from the start")
	}
	entity, exact := r.ExactEntity()
	if exact {
		lr, err := s.readLinked(ctx, entity, r, after, through)
		if err != nil {
			return err
		}
		if lr.ok {
			for _, e := range lr.evs {
				ev := e.dec.ev
				if ev.Global <= after || (through > 0 && ev.Global > through) || !r.Matches(ev.Coordinate, ev.Kind, ev.Sequence) {
					continue
				}
				if err := fn(ev, e.hdr); err != nil {
					if errors.Is(err, errStop) {
						return nil
					}
					return err
				}
			}
			return nil
		}
		after, through = lr.after, lr.through // the links narrowed the scan, or could not be followed
	}
	var (
		chained  bool // prev holds the hash of the event before the next one
		prevSeq  uint64
		prevHash [32]byte
	)
	return s.scan(ctx, s.subj.filter(r), after+1, through, nil, func(m rawMsg) error {
		d, err := decode(m.seq, m.data)
		if err != nil {
			return err
		}
		ev := d.ev
		if exact {
			seq := ev.Sequence
			switch {
			case seq == 0:
				chained, prevHash = true, [32]byte{}
			case !chained || seq != prevSeq+1:
				chained = false // a gap in what we read (a kind filter): cannot check
			}
			if chained {
				if !segment.VerifyHash(d.body, prevHash) {
					return &chainError{entity: ev.Coordinate.Entity(), seq: seq, global: ev.Global}
				}
				ev.Hash.Prev = prevHash
			}
			chained, prevSeq, prevHash = true, seq, ev.Hash.Self
		}
		if !r.Matches(ev.Coordinate, ev.Kind, ev.Sequence) {
			return nil
		}
		return fn(ev, m.hdr)
	})
}

// chainError reports an event whose chain hash does not follow from its
// predecessor's.
type chainError struct {
	entity      string
	seq, global uint64
}

func (e *chainError) Error() string {
	return fmt.Sprintf("%v: entity %q sequence %d (global %d)", reader.ErrChainBroken, e.entity, e.seq, e.global)
}

func (e *chainError) Unwrap() error { return reader.ErrChainBroken }

// ProjectionLog is the store as package projector reads and follows it.
// Head asks the stream leader for its last sequence; Scan reads as Query
// does; the rest is in project.go.
func (s *Store) ProjectionLog() projector.Source { return projectionLog{s} }

type projectionLog struct{ s *Store }

func (l projectionLog) Head() uint64 {
	h, err := l.s.head(context.Background())
	if err != nil {
		return 0 // Head cannot fail in the interface; a later Scan reports the error
	}
	return h
}

func (l projectionLog) Scan(ctx context.Context, r event.Region, after, through uint64, fn func(*event.StoredEvent) error) error {
	if through <= after {
		return nil
	}
	return l.s.each(ctx, r, after, through, fn)
}
