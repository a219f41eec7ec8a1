package batpak

import (
	"context"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/actor"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/instrument"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/writer"
)

// Append appends an event and returns its receipt once it is acknowledged:
// in Durable mode after the fsync that covers it. payload is encoded with
// the store's codec on the caller's goroutine; a []byte is stored as is.
func (s *Store) Append(ctx context.Context, coord Coordinate, kind EventKind, payload any) (Receipt, error) {
	return s.AppendWithOptions(ctx, coord, kind, payload, AppendOptions{})
}

// AppendReaction appends an event caused by another: correlation names the
// workflow (usually the cause's Correlation), causation the causing event.
func (s *Store) AppendReaction(ctx context.Context, coord Coordinate, kind EventKind, payload any, correlation, causation ID) (Receipt, error) {
	return s.AppendWithOptions(ctx, coord, kind, payload, AppendOptions{Correlation: correlation, Causation: causation})
}

// AppendWithOptions appends with an expected sequence, an idempotency key,
// explicit correlation and causation, flags or a durability override.
func (s *Store) AppendWithOptions(ctx context.Context, coord Coordinate, kind EventKind, payload any, opts AppendOptions) (Receipt, error) {
	start := instrument.Now()
	it, err := s.item(ctx, coord, kind, payload, opts)
	if err != nil {
		return Receipt{}, err
	}
	var rc Receipt
	d := s.durability(opts.Durability)
	err = s.roundTrip(ctx, writer.NewAppend(it, d), func(rs []Receipt) { rc = rs[0] })
	s.timeWrite(d, start)
	return rc, err
}

// item validates and encodes one event on the caller's goroutine: every
// public append path comes through here, so event.CheckAppend's rules hold
// for all of them, and a typed payload's kind name is kept before its
// event can be written.
func (s *Store) item(ctx context.Context, coord Coordinate, kind EventKind, payload any, opts AppendOptions) (writer.Item, error) {
	if err := event.CheckAppend(coord, kind, opts); err != nil {
		return writer.Item{}, err
	}
	if err := kinds.Learn(ctx, s.names, kind, payload); err != nil {
		return writer.Item{}, err
	}
	e, err := event.EncodeVersioned(s.cfg.codec, payload)
	if err != nil {
		return writer.Item{}, fmt.Errorf("batpak: encoding payload: %w", err)
	}
	if err := s.Limits().CheckPayload(len(e.Bytes)); err != nil {
		return writer.Item{}, err
	}
	it := writer.Item{Coord: coord, Kind: kind, Codec: e.Codec, Payload: e.Bytes, Version: e.Version, Opts: opts}
	if s.keys != nil {
		if err := s.seal(&it); err != nil {
			return writer.Item{}, err
		}
	}
	return it, nil
}

// Limits returns the store's codec and payload bound (WithCodec,
// WithMaxPayload), for code that checks a payload before appending it, as
// package gatekeeper does.
func (s *Store) Limits() Limits {
	return Limits{Codec: s.cfg.codec, MaxPayload: s.cfg.maxPayload}
}

// timeWrite counts the latency of a blocking write, from its call (start,
// a reading of instrument.Now), by the durability it was acknowledged with.
func (s *Store) timeWrite(d Durability, start int64) {
	if d == event.OnWrite {
		s.metrics.AppendOnWrite.Since(start)
	} else {
		s.metrics.AppendDurable.Since(start)
	}
}

func (s *Store) durability(d Durability) Durability {
	if d == event.DefaultDurability {
		return s.cfg.durability
	}
	return d
}

// send hands r to the writer, unless the store is closed or failed.
func (s *Store) send(ctx context.Context, r *writer.Request) error {
	s.intake.RLock()
	defer s.intake.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.failure(); err != nil {
		return err
	}
	return s.mapErr(s.w.Mailbox().Send(ctx, r))
}

// await waits for r's answer.
func (s *Store) await(ctx context.Context, r *writer.Request) (*writer.Request, error) {
	res, err := actor.Await(ctx, r.Reply(), s.done)
	return res, s.mapErr(err)
}

func (s *Store) mapErr(err error) error {
	if !errors.Is(err, actor.ErrStopped) {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, s.failure())
}

// Sync returns once every event acknowledged so far, in either mode, is on
// stable storage.
func (s *Store) Sync(ctx context.Context) error {
	return s.roundTrip(ctx, writer.NewSync(), nil)
}

// roundTrip hands r to the writer and waits for its answer; got, if not
// nil, copies out the receipts of a success, signed (WithReceiptSigner) on
// this goroutine, before the pooled request is released.
func (s *Store) roundTrip(ctx context.Context, r *writer.Request, got func([]Receipt)) error {
	if err := s.send(ctx, r); err != nil {
		r.Release()
		return err
	}
	res, err := s.await(ctx, r)
	if err != nil {
		return err // r may still be answered: never reuse it
	}
	if err = res.Err; err == nil && got != nil {
		s.signAll(res.Receipts)
		got(res.Receipts)
	}
	r.Release()
	return err
}

// Ticket is a pipelined append's claim on its receipts (Submit,
// SubmitBatch). Wait returns the receipt of a single append (the first of
// a batch), WaitAll every receipt; either may be called again, and from
// several goroutines, and returns the same answer once it is known.
type Ticket interface {
	Wait(ctx context.Context) (Receipt, error)
	WaitAll(ctx context.Context) ([]Receipt, error)
}

// Submit hands an append to the writer and returns at once with a ticket;
// the append is acknowledged when Wait returns. Appends submitted from one
// goroutine are applied in submission order.
func (s *Store) Submit(ctx context.Context, coord Coordinate, kind EventKind, payload any, opts AppendOptions) (Ticket, error) {
	it, err := s.item(ctx, coord, kind, payload, opts)
	if err != nil {
		return nil, err
	}
	return s.submit(ctx, writer.NewAppend(it, s.durability(opts.Durability)))
}

func (s *Store) submit(ctx context.Context, r *writer.Request) (Ticket, error) {
	if err := s.send(ctx, r); err != nil {
		r.Release()
		return nil, err
	}
	return writer.NewTicket(r, s.awaitSigned, func(err error) bool {
		return errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrClosed)
	}), nil
}

// awaitSigned is await for a ticket: the receipts it returns are signed
// (WithReceiptSigner) before the ticket copies them.
func (s *Store) awaitSigned(ctx context.Context, r *writer.Request) (*writer.Request, error) {
	res, err := s.await(ctx, r)
	if err == nil && res.Err == nil {
		s.signAll(res.Receipts)
	}
	return res, err
}
