package reader

import "github.com/batpak-go/batpak/index"

// pipelineMin is the amount of log below which a rebuild is not worth a
// second goroutine (a variable for tests).
var pipelineMin int64 = 8 << 20

// handOver passes staged entries on — published at once, or to the
// publishing goroutine of a pipelined scan — and returns an empty buffer.
func (rec *Recovered) handOver(p []index.Pending) []index.Pending {
	if rec.sink != nil {
		return rec.sink(p)
	}
	rec.Index.Publish(p)
	return p[:0]
}

// scanPipelined runs scan (which reads and checks frames) on a goroutine
// of its own while this one publishes what it stages into the index, so a
// rebuild takes about the longer of the two rather than their sum
// (measured on W4: decoding and checking frames is ~45% of a rebuild,
// publishing ~55%). Below pipelineMin bytes of segments it runs scan
// directly. The goroutine has ended when it returns.
func (rec *Recovered) scanPipelined(scan func() error, ids []uint64) error {
	var total int64
	for _, id := range ids {
		total += rec.Segments.size(id)
	}
	if total < pipelineMin {
		return scan()
	}
	full := make(chan []index.Pending, 8)
	free := make(chan []index.Pending, 10)
	rec.sink = func(p []index.Pending) []index.Pending {
		if len(p) > 0 {
			full <- p
		}
		select {
		case b := <-free:
			return b[:0]
		default:
			return make([]index.Pending, 0, publishChunk)
		}
	}
	errc := make(chan error, 1)
	go func() {
		err := scan()
		close(full)
		errc <- err
	}()
	for p := range full {
		rec.Index.Publish(p)
		select {
		case free <- p:
		default:
		}
	}
	rec.sink = nil
	return <-errc
}
