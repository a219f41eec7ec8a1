package batpak

import (
	"context"
	"iter"
)

// ByCorrelation yields the visible events of one workflow in global order:
// the event whose id is id, if it is its own correlation (the workflow's
// root), and every event appended with Correlation id (see AppendReaction).
// The index keeps each workflow's events, so this reads only them, never
// the whole log. Like Query it reads on the caller's goroutine from a
// snapshot taken when iteration starts, stops at the first error (which it
// yields), and leaves Hash.Prev zero. An id no event carries yields nothing.
func (s *Store) ByCorrelation(ctx context.Context, id ID) iter.Seq2[*StoredEvent, error] {
	return func(yield func(*StoredEvent, error) bool) {
		if err := s.readable(ctx); err != nil {
			yield(nil, err)
			return
		}
		q := query{s: s, ctx: ctx, yield: yield, correlation: id}
		q.run(entrySource{list: s.idx.Correlated(id), listed: true})
	}
}
