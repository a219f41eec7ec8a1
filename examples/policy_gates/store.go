package main

import (
	"context"
	"errors"
	"iter"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// eventStore is what this example needs from a store.
type eventStore interface {
	AppendWithOptions(ctx context.Context, coord event.Coordinate, kind event.EventKind,
		payload any, opts event.AppendOptions) (event.Receipt, error)
	Stream(ctx context.Context, entity string) iter.Seq2[*event.StoredEvent, error]
}

// openStore opens the batpak store in dir.
func openStore(dir string) (eventStore, func() error, error) {
	s, err := batpak.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// isConflict reports whether err is the store refusing an append because
// the entity moved past the expected sequence.
func isConflict(err error) bool { return errors.Is(err, batpak.ErrSequenceMismatch) }
