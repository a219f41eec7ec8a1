package reader

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
)

// scanBlock is how many entries a projection takes from the index at a
// time; the run reader groups them into runs.
const scanBlock = 1024

// Scan calls fn with each event of region r whose global sequence is in
// (after, through], in global order: one event reused from call to call
// (see RunReader.Each), so a projection allocates nothing per event.
// Events compaction dropped since the entries were taken are skipped.
// live is called before each block of entries (nil: never); its error,
// fn's and a read error end the scan and are returned as they are.
func (s *Segments) Scan(x *index.Index, r event.Region, after, through uint64, live func() error, fn func(*event.StoredEvent) error) error {
	rr := s.Runs(x)
	defer rr.Release()
	sc := x.Scan(r, after)
	var es [scanBlock]index.Entry
	for {
		n := sc.Next(es[:])
		last := n > 0 && es[n-1].Global >= through
		for n > 0 && es[n-1].Global > through {
			n--
		}
		if n == 0 {
			return nil
		}
		if live != nil {
			if err := live(); err != nil {
				return err
			}
		}
		if err := rr.Each(es[:n], fn); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

// Load reads the events of es into dst (len(dst) >= len(es)) for cursors
// and the fan-out actor, on the calling goroutine (see RunReader.Fill). An
// event compaction dropped since es were taken cannot be delivered: the
// error wraps ErrEventDropped, and fresh entries will not name it.
func (s *Segments) Load(x *index.Index, es []index.Entry, dst []*event.StoredEvent) error {
	rr := s.Runs(x)
	defer rr.Release()
	n, err := rr.Fill(es, dst)
	if err != nil {
		return err
	}
	for i, ev := range dst[:n] {
		if ev == nil {
			return fmt.Errorf("%w: event %d", ErrEventDropped, es[i].Global)
		}
	}
	return nil
}
