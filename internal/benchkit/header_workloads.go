package benchkit

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// W5h: W5's entity streams and scope queries, metadata only
// (Store.StreamHeaders and QueryHeaders: headers from the index, no
// segment read).

func init() {
	Targets[[2]string{"W5h", "ops_per_sec_stream"}] = Target{Value: 1_000_000}
	Targets[[2]string{"W5h", "ops_per_sec_scope"}] = Target{Value: 10_000}
}

// headerPasses is how many times W5h repeats W5's 1,000 streams and 100
// scope queries: one pass of headers takes only milliseconds, too short
// to time on a shared machine.
const headerPasses = 10

// runW5h writes W5's store (n events, 1,000 entities, 10 scopes), then,
// on the caller's goroutine, streams the headers of each entity in full
// and runs ByScope's 100 queries as QueryHeaders, each pass headerPasses
// times, and reports the streams and queries per second. Every header is
// counted and checked to be its region's, so nothing is skipped.
func runW5h(ctx context.Context, env *Env) ([]Figure, error) {
	n := env.N(100_000, 1000)
	passes := env.N(headerPasses, 1)
	const entities, scopes, scopeQueries = 1000, 10, 100
	var streams, scopeRate float64
	err := env.WithStore("W5h", onWrite(), func(s *batpak.Store) error {
		if _, err := fill(ctx, s, n); err != nil {
			return fmt.Errorf("W5h: writing %d events: %w", n, err)
		}
		// read counts the headers of seq, checking each is in the
		// entity or scope asked for.
		read := func(seq iter.Seq2[batpak.IndexHeader, error], entity, scope string) (int, error) {
			got := 0
			for h, err := range seq {
				if err != nil {
					return got, err
				}
				if (entity != "" && h.Coordinate.Entity() != entity) || (scope != "" && h.Coordinate.Scope() != scope) {
					return got, fmt.Errorf("header of %v in a read of %q%q", h.Coordinate, entity, scope)
				}
				got++
			}
			return got, nil
		}
		start := time.Now()
		total := 0
		for range passes {
			for e := range entities {
				entity := coords[e].Entity()
				got, err := read(s.StreamHeaders(ctx, entity), entity, "")
				if err != nil {
					return fmt.Errorf("W5h: stream headers: %w", err)
				}
				total += got
			}
		}
		if total != passes*n {
			return fmt.Errorf("W5h: streams read %d headers, want %d", total, passes*n)
		}
		streams = Rate(passes*entities, time.Since(start))

		start, total = time.Now(), 0
		for range passes {
			for q := range scopeQueries {
				scope := coords[q%scopes].Scope()
				got, err := read(s.QueryHeaders(ctx, event.ForScope(scope)), "", scope)
				if err != nil {
					return fmt.Errorf("W5h: scope headers: %w", err)
				}
				total += got
			}
		}
		if want := passes * scopeEvents(n, scopes, scopeQueries); total != want {
			return fmt.Errorf("W5h: scope queries read %d headers, want %d", total, want)
		}
		scopeRate = Rate(passes*scopeQueries, time.Since(start))
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return []Figure{
		{"W5h", "ops_per_sec_stream", streams, "streams/s"},
		{"W5h", "ops_per_sec_scope", scopeRate, "queries/s"},
	}, nil
}
