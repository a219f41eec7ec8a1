package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/nats-io/nats.go/jetstream"
)

// kindsKey is the index bucket's key holding the store's kind names: the
// table encoded as the embedded store's KINDS.json (kinds.MarshalTable).
// Its revision makes each change a compare-and-set, so clients learning
// names at once never lose one another's.
const kindsKey = "kinds"

// kindNames is the store's kinds.Names (KindNames).
type kindNames struct {
	s   *Store
	cur atomic.Pointer[kinds.Table] // as last read or written: Learn's fast path
}

// KindNames is the store's table of kind names, kept under the key
// "kinds" of its index bucket, shared by every client of the stream. A
// typed append teaches it its kind's name before the event is published.
func (s *Store) KindNames() kinds.Names { return &s.names }

// Learn keeps name for kind (see kinds.Names).
func (n *kindNames) Learn(ctx context.Context, kind event.EventKind, name string) error {
	if t := n.cur.Load(); t != nil && (*t)[kind] == name && name != "" {
		return nil
	}
	for range maxRounds {
		if err := n.s.check(); err != nil {
			return err
		}
		t, rev, err := n.load(ctx)
		if err != nil {
			return err
		}
		next, same, err := t.With(kind, name)
		if err != nil || same {
			return err
		}
		b := kinds.MarshalTable(next)
		var lost bool // another client changed the table first: read it again
		err = n.s.retry(ctx, "keep kind name", func(ctx context.Context) error {
			kv, err := n.s.indexBucket(ctx)
			if err != nil {
				return err
			}
			if rev == 0 {
				_, err = kv.Create(ctx, kindsKey, b)
			} else {
				_, err = kv.Update(ctx, kindsKey, b, rev)
			}
			// A lost answer to an attempt that was stored shows up here
			// too; the next round reads the table and finds the name.
			lost = errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
			if lost {
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
		if !lost {
			n.cur.Store(&next)
			return nil
		}
	}
	return fmt.Errorf("%w: kind names: too many concurrent changes", errConflictLoop)
}

// Table reads the names from the bucket.
func (n *kindNames) Table(ctx context.Context) (kinds.Table, error) {
	if err := n.s.check(); err != nil {
		return nil, err
	}
	t, _, err := n.load(ctx)
	return t, err
}

// load reads the table and its revision (0: none kept yet).
func (n *kindNames) load(ctx context.Context) (kinds.Table, uint64, error) {
	var (
		t   kinds.Table
		rev uint64
	)
	err := n.s.retry(ctx, "read kind names", func(ctx context.Context) error {
		kv, err := n.s.indexBucket(ctx)
		if err != nil {
			return err
		}
		e, err := kv.Get(ctx, kindsKey)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			t, rev = kinds.Table{}, 0
			return nil
		}
		if err != nil {
			return err
		}
		rev = e.Revision()
		t, err = kinds.UnmarshalTable(e.Value())
		if err != nil {
			return fmt.Errorf("%w (key %q of bucket %s)", err, kindsKey, n.s.idx)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	n.cur.Store(&t)
	return t, rev, nil
}

var _ kinds.Names = (*kindNames)(nil)

// learnKind is what an append does with its payload first (kinds.Learn).
func (s *Store) learnKind(ctx context.Context, kind batpak.EventKind, payload any) error {
	return kinds.Learn(ctx, &s.names, kind, payload)
}
