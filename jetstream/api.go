package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The JetStream API as the store uses it: every call gets a per-attempt
// time-out and is retried while the cluster cannot answer (no responders
// during an election, a request lost with its leader). Only calls that are
// safe to repeat are retried here; a publish is made safe by its sequence
// check and message id (see publish).

// JetStream error codes the store acts on.
const (
	codeWrongLastSeq      = 10071 // per-subject sequence check failed
	codeWrongLastSeqConst = 10164 // the same, against an in-flight write (replicated streams)
	codeNoMessage         = 10037
	codeBatchDuplicate    = 10201 // an atomic batch carried a message id already stored
	codeBatchIncomplete   = 10176
	codeBatchInflight     = 10210
	codeMsgIDInProcess    = 10158 // a retry met its own earlier attempt still being replicated
)

// APIError is an error the JetStream API returned.
type APIError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("jetstream: %s (code %d, error %d)", e.Description, e.Code, e.ErrCode)
}

func apiCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.ErrCode
	}
	return 0
}

func wrongLastSeq(err error) bool {
	c := apiCode(err)
	return c == codeWrongLastSeq || c == codeWrongLastSeqConst
}

// retryable reports whether an attempt failed without reaching a decision:
// nobody answered in time, or nobody listens yet (an election is running).
func retryable(err error) bool {
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		// 503s: JetStream not ready, no quorum, leader changing; and the
		// answers that say "an earlier attempt is still on its way".
		return ae.Code == 503 || ae.ErrCode == codeBatchInflight || ae.ErrCode == codeMsgIDInProcess
	}
	var je jetstream.JetStreamError
	if errors.As(err, &je) && je.APIError() != nil {
		return je.APIError().Code == 503
	}
	return false
}

// retry runs fn with a per-attempt time-out until it succeeds, fails for
// good, ctx ends or the attempts are spent. The last error is returned.
func (s *Store) retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	var err error
	for attempt := 0; attempt < s.opts.Attempts; attempt++ {
		if attempt > 0 {
			if werr := backoff(ctx, s.done, attempt); werr != nil {
				return fmt.Errorf("jetstream: %s: %w (last attempt: %v)", what, werr, err)
			}
		}
		actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		err = fn(actx)
		cancel()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("jetstream: %s: %w", what, ctx.Err())
		}
		if retryable(err) {
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
		}
		return fmt.Errorf("jetstream: %s: %w", what, err)
	}
	return nil
}

// ErrUnavailable is returned when every attempt of a call went unanswered
// or was refused as "not now" (no leader, no quorum): the cluster could not
// serve it. Nothing was written, except by a publish, which returns
// batpak.ErrOutcomeUnknown instead when it may have been.
var ErrUnavailable = errors.New("jetstream: unavailable")

// backoff waits a little longer after each failed attempt, so retries do
// not flood a cluster that is electing a leader.
func backoff(ctx context.Context, done <-chan struct{}, attempt int) error {
	d := time.Duration(attempt) * 20 * time.Millisecond
	if d > 250*time.Millisecond {
		d = 250 * time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return batpak.ErrClosed
	}
}

// pubAck is the answer to a publish.
type pubAck struct {
	Stream    string    `json:"stream"`
	Seq       uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate,omitempty"`
	BatchID   string    `json:"batch,omitempty"`
	Count     int       `json:"count,omitempty"`
	Error     *APIError `json:"error,omitempty"`
}

// requestJSON sends one request, attempt by attempt, and decodes the JSON
// answer into v; errOf returns (and clears) the API error v carries.
func (s *Store) requestJSON(ctx context.Context, subj string, req any, v any, errOf func() *APIError) error {
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	return s.retry(ctx, subj, func(ctx context.Context) error {
		m, err := s.nc.RequestWithContext(ctx, subj, data)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(m.Data, v); err != nil {
			return fmt.Errorf("decoding the answer to %s: %w", subj, err)
		}
		if e := errOf(); e != nil {
			return e
		}
		return nil
	})
}

// storedMsg is a message as the leader's get API returns it.
type storedMsg struct {
	Subject string    `json:"subject"`
	Seq     uint64    `json:"seq"`
	Header  []byte    `json:"hdrs,omitempty"`
	Data    []byte    `json:"data,omitempty"`
	Time    time.Time `json:"time"`
	// hdr is the message's headers, as a direct get answers them.
	hdr nats.Header
}

type msgGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`
}

// getMsg reads one message through the stream leader (not a direct get,
// which any replica may answer): the reads that decide a write, and Get,
// must not see a lagging follower. It returns batpak.ErrNotFound for none.
func (s *Store) getMsg(ctx context.Context, req msgGetRequest) (*storedMsg, nats.Header, error) {
	var resp struct {
		Message *storedMsg `json:"message"`
		Error   *APIError  `json:"error"`
	}
	err := s.requestJSON(ctx, s.api+"STREAM.MSG.GET."+s.opts.Stream, req, &resp, func() *APIError {
		e := resp.Error
		resp.Error = nil // a retried attempt starts clean
		return e
	})
	if err != nil {
		if apiCode(err) == codeNoMessage {
			return nil, nil, batpak.ErrNotFound
		}
		return nil, nil, err
	}
	if resp.Message == nil {
		return nil, nil, batpak.ErrNotFound
	}
	var hdr nats.Header
	if len(resp.Message.Header) > 0 {
		if hdr, err = nats.DecodeHeadersMsg(resp.Message.Header); err != nil {
			return nil, nil, fmt.Errorf("jetstream: message %d: %w", resp.Message.Seq, err)
		}
	}
	return resp.Message, hdr, nil
}

// headUint parses a numeric header.
func headUint(h nats.Header, key string) (uint64, bool) {
	v := h.Get(key)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// directGet reads one message with a direct get, which any current
// replica may answer and which the server handles without its API queue
// and JSON (several times cheaper than getMsg). Only reads whose answer
// cannot be stale use it as final: a message at a given stream sequence
// never changes (the stream denies deletes), and a replica that lacks it
// answers "not found", after which the caller asks the leader. A read of
// an entity's newest event may be stale on a follower; the write path uses
// it only as a guess that the server's sequence check verifies.
func (s *Store) directGet(ctx context.Context, req msgGetRequest) (*storedMsg, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var out *storedMsg
	err = s.retry(ctx, "direct get", func(ctx context.Context) error {
		m, err := s.nc.RequestWithContext(ctx, s.api+"DIRECT.GET."+s.opts.Stream, data)
		if err != nil {
			return err
		}
		out, err = directAnswer(m)
		return err
	})
	return out, err
}

// decodeAck decodes a publish acknowledgement. The common answer,
// {"stream":"S","seq":N} with at most "duplicate":true after it, is parsed
// by hand (it is on every append's path); anything else goes to
// encoding/json.
func decodeAck(data []byte, ack *pubAck) error {
	const head, seqKey = `{"stream":"`, `","seq":`
	rest, ok := bytes.CutPrefix(data, []byte(head))
	if !ok {
		return json.Unmarshal(data, ack)
	}
	name, rest, ok := bytes.Cut(rest, []byte(seqKey))
	if !ok || bytes.ContainsAny(name, `"\`) {
		return json.Unmarshal(data, ack)
	}
	n := 0
	var seq uint64
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' && n < 20 {
		seq = seq*10 + uint64(rest[n]-'0')
		n++
	}
	tail := string(rest[n:])
	if n == 0 || n >= 20 || (tail != "}" && tail != `,"duplicate":true}`) {
		return json.Unmarshal(data, ack)
	}
	ack.Stream, ack.Seq, ack.Duplicate = string(name), seq, tail != "}"
	return nil
}
