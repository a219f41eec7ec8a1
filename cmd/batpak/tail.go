package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/batpak-go/batpak"
)

// tailFlags declares the tail command: the newest events, and with
// --follow every later one as the writing process adds it, until
// interrupted (Ctrl-C ends it with status 0).
func tailFlags(fs *flag.FlagSet) action {
	o := tailOptions{n: 10, interval: 250 * time.Millisecond}
	fs.IntVar(&o.n, "n", o.n, "print the newest `N` events first")
	fs.BoolVar(&o.follow, "follow", false, "keep printing events as they are written, until interrupted")
	fs.BoolVar(&o.follow, "f", false, "short for --follow")
	fs.DurationVar(&o.interval, "interval", o.interval, "with --follow, look for new events every `DURATION`")
	o.filter.register(fs)
	o.printer.register(fs)
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		dir, err := oneDir(args)
		if err != nil {
			return err
		}
		return o.run(ctx, dir, stdout, stderr)
	}
}

type tailOptions struct {
	n        int
	follow   bool
	interval time.Duration
	filter   eventFilter
	printer  eventPrinter
}

func (o *tailOptions) run(ctx context.Context, dir string, stdout, stderr io.Writer) error {
	switch {
	case o.n < 0:
		return usagef("-n %d is negative", o.n)
	case o.interval <= 0:
		return usagef("--interval %v is not positive", o.interval)
	}
	o.printer.names = readKindNames(dir, stderr)
	if err := o.filter.parse(o.printer.names); err != nil {
		return err
	}
	if err := o.printer.parse(); err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	s, err := openStore(dir, stderr)
	if isDamage(err) {
		return o.tailDamaged(ctx, dir, err, out)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	evs, last, err := newest(ctx, s, &o.filter, o.n)
	if isDamage(err) {
		return o.tailDamaged(ctx, dir, err, out)
	}
	if err != nil {
		return verifyHint(err, dir)
	}
	for _, ev := range evs {
		if err := o.printer.print(out, ev); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil || !o.follow {
		return err
	}
	return verifyHint(o.followFrom(ctx, s, last, out), dir)
}

// newest returns the last n events that pass f, and the newest global
// sequence looked at. It reads a window of the newest n events and
// widens it fourfold until it holds n matches or the whole log, so
// without filters it reads about n events, and at most 4/3 of the log
// with a sparse filter.
func newest(ctx context.Context, s *batpak.Store, f *eventFilter, n int) ([]*batpak.StoredEvent, uint64, error) {
	hi := s.Stats().LastGlobal
	if n == 0 {
		return nil, hi, nil
	}
	for window := uint64(n); ; window *= 4 {
		after := hi - min(window, hi)
		var got []*batpak.StoredEvent
		for ev, err := range s.QueryAfter(ctx, f.region, after) {
			if err != nil {
				return nil, 0, err
			}
			if ev.Global > hi {
				break
			}
			if !f.match(ev) {
				continue
			}
			if got = append(got, ev); len(got) == 2*n {
				got = append(got[:0], got[n:]...)
			}
		}
		if len(got) >= n || after == 0 {
			return got[max(0, len(got)-n):], hi, nil
		}
	}
}

// followFrom prints, every interval, the events the writer added since
// the global sequence last, until ctx ends (which is not an error). A
// ticker is enough here: Refresh costs little when nothing is new.
func (o *tailOptions) followFrom(ctx context.Context, s *batpak.Store, last uint64, out *bufio.Writer) error {
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		n, err := s.Refresh(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		// Refresh reread the names too: those of the new events are kept.
		if names, err := s.KindNames().Table(ctx); err == nil {
			o.printer.names = names
		}
		hi := s.Stats().LastGlobal
		for ev, err := range s.QueryAfter(ctx, o.filter.region, last) {
			if ctx.Err() != nil {
				return out.Flush()
			}
			if err != nil {
				return err
			}
			if ev.Global > hi {
				break
			}
			if o.filter.match(ev) {
				if err := o.printer.print(out, ev); err != nil {
					return err
				}
			}
		}
		last = hi
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// tailDamaged prints the newest intact events of a damaged store that
// pass the filters, read as batpak salvage reads them, and returns the
// warning that lists what it skipped (exit status 1). It does not follow:
// only a store that opens can be followed.
func (o *tailOptions) tailDamaged(ctx context.Context, dir string, cause error, out *bufio.Writer) error {
	var ring []*batpak.StoredEvent
	warn := walkDamaged(ctx, dir, cause, 0, func(ev *batpak.StoredEvent) error {
		if o.n == 0 || !o.filter.matchAll(ev) {
			return nil
		}
		if ring = append(ring, ev); len(ring) == 2*o.n {
			ring = append(ring[:0], ring[o.n:]...)
		}
		return nil
	})
	for _, ev := range ring[max(0, len(ring)-o.n):] {
		if err := o.printer.print(out, ev); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	var dw *damageWarning
	if o.follow && errors.As(warn, &dw) {
		return fmt.Errorf("%w\n  not following: only a store that opens can be followed", warn)
	}
	return warn
}
