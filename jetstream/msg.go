package jetstream

import (
	"fmt"
	"strconv"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/nats-io/nats.go"
)

// A message's data is the event in the core's record format (package
// segment: one CRC-checked frame) with the global sequence left 0: the
// stream sequence, known only once the server stores the message, is the
// global sequence, and the client computes the chain hash before that. So a
// message carries everything the embedded store's record does, reads
// decode it with the same code, and the chain hash is verified the same way.
//
// Headers (besides the JetStream ones) let notifications, which the stream
// republishes headers-only, and the write path read an event's place without
// decoding it:
const (
	hdrID     = "Bp-Id"    // event id
	hdrSeq    = "Bp-Seq"   // per-entity sequence
	hdrCorr   = "Bp-Corr"  // correlation, only when not the event's own id
	hdrCause  = "Bp-Cause" // causation, only when set
	hdrMsgID  = "Nats-Msg-Id"
	hdrExpSeq = "Nats-Expected-Last-Subject-Sequence"
	hdrExpSub = "Nats-Expected-Last-Subject-Sequence-Subject"
	hdrNatsSq = "Nats-Sequence"
	hdrNatsSj = "Nats-Subject"
)

// draft is an event being written: its record, frame and message.
type draft struct {
	rec   segment.EventRecord
	coord event.Coordinate
	subj  string
	msgID string
	self  [32]byte
	frame []byte
	// imported: the id and clock readings are another store's (Importer),
	// and the message always carries its id as Nats-Msg-Id.
	imported bool
}

// msgID is the de-duplication id of an append: its idempotency key if it
// has one, else its event id, so a retried attempt of the same call is
// recognised whatever the caller did. On a single server, an append without
// a key sends none (see AppendWithOptions): its sequence check does the
// same work there.
func msgID(key string, id event.ID) string {
	if key != "" {
		return "k:" + key
	}
	return "i:" + id.String()
}

// seal encodes d's record over prev (the entity's previous hash) and
// builds its message, checked against the entity's last stream sequence
// base when check is set, carrying the entity links links (links.go; ""
// for none).
func (d *draft) seal(prev [32]byte, base uint64, check bool, entSubj, links string) *nats.Msg {
	d.frame, d.self = segment.AppendEvent(d.frame[:0], &d.rec, true, prev)
	m := nats.NewMsg(d.subj)
	m.Data = d.frame
	h := m.Header
	if d.msgID != "" {
		h[hdrMsgID] = []string{d.msgID}
	}
	if check {
		h[hdrExpSeq] = []string{strconv.FormatUint(base, 10)}
		h[hdrExpSub] = []string{entSubj}
	}
	h[hdrID] = []string{d.rec.ID.String()}
	h[hdrSeq] = []string{strconv.FormatUint(d.rec.Sequence, 10)}
	if d.rec.Correlation != d.rec.ID {
		h[hdrCorr] = []string{d.rec.Correlation.String()}
	}
	if !d.rec.Causation.IsZero() {
		h[hdrCause] = []string{d.rec.Causation.String()}
	}
	if links != "" {
		h[hdrPrev] = []string{links}
	}
	return m
}

// receipt is what the caller gets for d stored at global sequence seq.
func (d *draft) receipt(seq uint64) batpak.Receipt {
	return batpak.Receipt{
		ID: d.rec.ID, Coordinate: d.coord, Kind: d.rec.Kind, Global: seq,
		Position: event.Position{WallMS: d.rec.WallMS, Counter: d.rec.Counter}, Sequence: d.rec.Sequence,
		Timestamp: d.rec.Timestamp, Correlation: d.rec.Correlation, Causation: d.rec.Causation, Hash: d.self,
	}
}

// decoded is a message read back: the event and its record body, which
// chain verification needs.
type decoded struct {
	ev   *event.StoredEvent
	body []byte
}

// decode turns a stored message into an event. The frame's CRC and the
// record's structure are checked; seq becomes the global sequence.
func decode(seq uint64, data []byte) (decoded, error) {
	body, _, err := segment.ReadFrame(data)
	if err != nil {
		return decoded{}, fmt.Errorf("%w: stream sequence %d: %v", batpak.ErrCorrupt, seq, err)
	}
	var v segment.EventView
	if err := segment.ParseEvent(body, &v); err != nil {
		return decoded{}, fmt.Errorf("%w: stream sequence %d: %v", batpak.ErrCorrupt, seq, err)
	}
	ev := new(event.StoredEvent)
	v.ToStored(ev)
	ev.Global = seq
	return decoded{ev: ev, body: body}, nil
}

// receiptOf is the receipt of a stored event.
func receiptOf(ev *event.StoredEvent) batpak.Receipt {
	return batpak.Receipt{
		ID: ev.ID, Coordinate: ev.Coordinate, Kind: ev.Kind, Global: ev.Global, Sequence: ev.Sequence, Position: ev.Position,
		Timestamp: ev.Timestamp, Correlation: ev.Correlation, Causation: ev.Causation, Hash: ev.Hash.Self,
	}
}

// notification builds a notification from a republished message's headers.
func (s *Store) notification(m *nats.Msg) (event.Notification, error) {
	coord, kind, err := s.subj.parse(m.Subject, true)
	if err != nil {
		return event.Notification{}, err
	}
	n := event.Notification{Coordinate: coord, Kind: kind}
	var ok1, ok2 bool
	n.Global, ok1 = headUint(m.Header, hdrNatsSq)
	n.Sequence, ok2 = headUint(m.Header, hdrSeq)
	if !ok1 || !ok2 {
		return n, fmt.Errorf("%w: notification without sequences", batpak.ErrCorrupt)
	}
	if n.ID, err = event.ParseID(m.Header.Get(hdrID)); err != nil {
		return n, fmt.Errorf("%w: notification id: %v", batpak.ErrCorrupt, err)
	}
	n.Correlation = n.ID
	if c := m.Header.Get(hdrCorr); c != "" {
		if n.Correlation, err = event.ParseID(c); err != nil {
			return n, fmt.Errorf("%w: notification correlation: %v", batpak.ErrCorrupt, err)
		}
	}
	if c := m.Header.Get(hdrCause); c != "" {
		if n.Causation, err = event.ParseID(c); err != nil {
			return n, fmt.Errorf("%w: notification causation: %v", batpak.ErrCorrupt, err)
		}
	}
	return n, nil
}
