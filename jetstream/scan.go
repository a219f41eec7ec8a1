package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/nats-io/nats.go"
)

// Reads of many events start with JetStream's batched direct get: one
// request returns up to a page of the messages matching a subject filter
// from a stream sequence on, streamed to an inbox and ended by an
// end-of-batch status. Any replica that is current may answer (see
// docs/SCALE-OUT.md). A read that goes on past the first page continues
// with an ordered consumer (consume.go).

// page is how many messages one direct get returns at most (the time-based
// scan of Get's fallback, and the id index's lookups).
const page = 512

type directRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	Batch     int        `json:"batch,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	// MultiLastFor asks for the last message of every subject matching
	// any of these filters.
	MultiLastFor []string `json:"multi_last,omitempty"`
}

// rawMsg is one message of a scan. Its slices belong to the scan's caller.
type rawMsg struct {
	seq  uint64
	subj string
	hdr  nats.Header
	data []byte
}

// errStop ends a scan early without an error.
var errStop = errors.New("stop")

// scan calls fn with each message matching filter with a stream sequence
// of at least from (or, if from is 0 and start is set, stored at or after
// start), in order, until through (0: the end of the stream), an error or
// fn returning errStop. A page is read whole before fn sees it, so a slow
// fn never times out a request.
//
// The end of what is stored never cuts an atomic batch short: when the
// last message read leaves its batch open — the rest of the batch lies
// outside filter, or a consumer fetch ran while the server was storing the
// batch — the rest of the batch (up to through) is read too (batchread.go).
func (s *Store) scan(ctx context.Context, filter string, from, through uint64, start *time.Time, fn func(m rawMsg) error) error {
	var (
		last    uint64 // the last message read
		open    string // the batch it leaves open
		stopped bool   // fn ended the scan
	)
	err := s.scanStored(ctx, filter, from, through, start, func(m rawMsg) error {
		err := fn(m)
		stopped = errors.Is(err, errStop)
		last, open = m.seq, ""
		if id, more := batchOf(m.hdr); more {
			open = id
		}
		return err
	})
	if err != nil || stopped || open == "" {
		return err
	}
	end, err := s.batchEnd(ctx, open, last)
	if through > 0 {
		end = min(end, through)
	}
	if err != nil || end <= last {
		return err
	}
	return s.scanStored(ctx, filter, last+1, end, nil, fn)
}

// scanStored is scan without its care for batches: it ends where what is
// stored ends.
func (s *Store) scanStored(ctx context.Context, filter string, from, through uint64, start *time.Time, fn func(m rawMsg) error) error {
	if from == 0 && start == nil {
		from = 1
	}
	for {
		if err := s.check(); err != nil {
			return err
		}
		req := directRequest{Seq: from, NextFor: filter, Batch: page}
		if from == 0 {
			req.StartTime = start
		} else {
			req.Batch = firstPage // the rest by consumer (consume.go)
		}
		var (
			msgs []rawMsg
			more bool
		)
		err := s.retry(ctx, "direct get", func(ctx context.Context) error {
			var err error
			msgs, more, err = s.scanPage(ctx, s.opts.Stream, req, through)
			return err
		})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := fn(m); err != nil {
				if errors.Is(err, errStop) {
					return nil
				}
				return err
			}
		}
		if !more || len(msgs) == 0 {
			return nil
		}
		from = msgs[len(msgs)-1].seq + 1
		if start == nil {
			err := s.scanConsumer(ctx, filter, from, through, fn)
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
}

// scanPage runs one direct get on stream and returns its messages (up to
// through) and whether more matching messages remain.
func (s *Store) scanPage(ctx context.Context, stream string, req directRequest, through uint64) ([]rawMsg, bool, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, false, err
	}
	// Room for every answer the request can bring: a page, or the most
	// messages a multi_last request returns (1,024), and the end marker.
	capacity := req.Batch + 2
	if len(req.MultiLastFor) > 0 {
		capacity = 1024 + 2
	}
	in := s.openInbox(capacity)
	if in.err != nil {
		return nil, false, in.err
	}
	defer in.close()
	if err := s.nc.PublishRequest(s.api+"DIRECT.GET."+stream, in.inbox+".p", data); err != nil {
		return nil, false, err
	}
	var out []rawMsg
	past := false // a message beyond through came: nothing more is wanted
	for {
		m, err := in.wait(ctx)
		if err != nil {
			return nil, false, err
		}
		if st := m.Header.Get("Status"); st != "" {
			switch st {
			case "404": // nothing (more) matches
				return out, false, nil
			case "204": // end of batch
				np, _ := headUint(m.Header, "Nats-Num-Pending")
				return out, np > 0 && !past, nil
			case "503":
				return nil, false, nats.ErrNoResponders
			}
			return nil, false, fmt.Errorf("jetstream: direct get: status %s %s", st, m.Header.Get("Description"))
		}
		seq, ok := headUint(m.Header, hdrNatsSq)
		if !ok {
			return nil, false, fmt.Errorf("%w: direct get answer without a sequence", batpak.ErrCorrupt)
		}
		if through > 0 && seq > through {
			past = true
			continue // drain to the end of the batch
		}
		out = append(out, rawMsg{seq: seq, subj: m.Header.Get(hdrNatsSj), hdr: m.Header, data: m.Data})
	}
}

// head is the stream's last sequence, as its leader reports it: the
// sequence of the last message, read with a message get, which the leader
// answers only between atomic batches (a batch being committed is stored
// whole first). The stream info's last sequence can lie inside a batch
// being stored, and a projection read up to it would hold part of one.
// The event stream denies deletes and purges, so its last message is its
// last sequence.
func (s *Store) head(ctx context.Context) (uint64, error) {
	m, _, err := s.getMsg(ctx, msgGetRequest{LastFor: ">"}) // ">": the stream's last, looked up directly
	switch {
	case errors.Is(err, batpak.ErrNotFound):
		return 0, nil // empty
	case err != nil:
		return 0, err
	}
	return m.Seq, nil
}

func parseTime(h nats.Header) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, h.Get("Nats-Time-Stamp"))
	return t, err == nil
}

// Head is the stream's last sequence (the newest event's global sequence),
// as the stream's leader reports it.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return s.head(ctx)
}
