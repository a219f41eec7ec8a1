package batpakrust

import (
	"fmt"

	"github.com/batpak-go/batpak/event"
)

// Kinds and flags of batpak-rust, numbered as it numbers them (package
// event defines the same values; these names say where they come from).
const (
	KindBatchBegin  = event.KindBatchBegin
	KindBatchCommit = event.KindBatchCommit
	KindTombstone   = event.KindTombstone
)

// Event is one frame of a batpak-rust segment, decoded: the event's
// header, payload and hash chain, its coordinate, and where it was found.
type Event struct {
	ID          event.ID
	Correlation event.ID
	Causation   event.ID // zero when the frame holds none
	TimestampUS int64    // µs since the Unix epoch
	// The DAG position: hybrid-clock wall ms and counter, depth and lane
	// (batpak-go has no counterpart for these two), and Sequence, the
	// per-entity clock (0 for an entity's first event).
	WallMS   uint64
	Counter  uint32
	Depth    uint32
	Lane     uint32
	Sequence uint64
	// PayloadSize is the header's payload_size: the payload's length for
	// an event, the item count for a batch BEGIN marker.
	PayloadSize uint32
	Kind        event.EventKind
	Flags       uint8
	ContentHash [32]byte
	// Payload is the payload's bytes: MessagePack, as batpak-rust encoded
	// the value the caller appended.
	Payload []byte
	// HasChain is false when the frame holds no hash_chain (batch markers).
	HasChain  bool
	PrevHash  [32]byte
	EventHash [32]byte
	Entity    string
	Scope     string

	// Where the frame is: segment id, byte offset and size (header included).
	Segment     uint64
	Offset      int64
	FrameLength int
	// Global is batpak-rust's global sequence (0 for the store's first
	// event), from the segment's SIDX footer when it has one, else counted
	// in log order as batpak-rust's own recovery counts it.
	Global uint64
	// InBatch is true for the items of an atomic batch.
	InBatch bool
}

// IsMarker reports whether e is a batch BEGIN or COMMIT marker frame.
func (e *Event) IsMarker() bool { return e.Kind == KindBatchBegin || e.Kind == KindBatchCommit }

// Limits on what a frame may hold; batpak-rust's own coordinates are far
// smaller, so longer ones mean damage.
const (
	maxName    = 64 << 10
	maxPayload = MaxFrameBody
)

// DecodeEvent decodes a frame body: the MessagePack map {event: {header,
// payload, hash_chain}, entity, scope} that rmp-serde writes. Unknown keys
// are skipped, so fields a later batpak-rust adds do not stop a read.
func DecodeEvent(body []byte) (Event, error) {
	var e Event
	var seen struct{ event, header, entity, scope bool }
	d := &mp{b: body}
	d.Fields(func(k string) {
		switch k {
		case "event":
			seen.event = true
			d.Fields(func(k string) {
				switch k {
				case "header":
					seen.header = true
					decodeHeader(d, &e)
				case "payload":
					decodePayload(d, &e)
				case "hash_chain":
					if d.isNil() {
						return
					}
					e.HasChain = true
					d.Fields(func(k string) {
						switch k {
						case "prev_hash":
							e.PrevHash = d.Hash()
						case "event_hash":
							e.EventHash = d.Hash()
						default:
							d.Skip()
						}
					})
				default:
					d.Skip()
				}
			})
		case "entity":
			seen.entity = true
			e.Entity = d.Str()
		case "scope":
			seen.scope = true
			e.Scope = d.Str()
		default:
			d.Skip()
		}
	})
	if d.err == nil && d.off != len(body) {
		d.fail("%d bytes after the frame's map", len(body)-d.off)
	}
	if d.err != nil {
		return Event{}, fmt.Errorf("frame payload: %w", d.err)
	}
	switch {
	case !seen.event || !seen.header || !seen.entity || !seen.scope:
		return Event{}, fmt.Errorf("%w: frame payload lacks event, header, entity or scope", ErrMalformed)
	case len(e.Entity) > maxName || len(e.Scope) > maxName:
		return Event{}, fmt.Errorf("%w: entity or scope longer than %d bytes", ErrMalformed, maxName)
	}
	return e, nil
}

func decodeHeader(d *mp, e *Event) {
	d.Fields(func(k string) {
		switch k {
		case "event_id":
			e.ID = d.U128()
		case "correlation_id":
			e.Correlation = d.U128()
		case "causation_id":
			if !d.isNil() {
				e.Causation = d.U128()
			}
		case "timestamp_us":
			e.TimestampUS = d.Int()
		case "position":
			d.Fields(func(k string) {
				switch k {
				case "wall_ms":
					e.WallMS = d.Uint()
				case "counter":
					e.Counter = uint32(d.UintMax(1<<32-1, "counter"))
				case "depth":
					e.Depth = uint32(d.UintMax(1<<32-1, "depth"))
				case "lane":
					e.Lane = uint32(d.UintMax(1<<32-1, "lane"))
				case "sequence":
					e.Sequence = d.Uint()
				default:
					d.Skip()
				}
			})
		case "payload_size":
			e.PayloadSize = uint32(d.UintMax(1<<32-1, "payload_size"))
		case "event_kind":
			e.Kind = event.EventKind(d.UintMax(0xffff, "event_kind"))
		case "flags":
			e.Flags = uint8(d.UintMax(0xff, "flags"))
		case "content_hash":
			e.ContentHash = d.Hash()
		default:
			d.Skip()
		}
	})
}

// decodePayload reads the payload: rmp-serde writes the Vec<u8> of
// MessagePack bytes as an array of integers (or bin). A payload that is
// neither — a value batpak-rust's compaction re-encoded from its decoded
// form — is kept as the MessagePack bytes of that value, which is what a
// reader decodes anyway.
func decodePayload(d *mp, e *Event) {
	c := d.peek()
	if d.err != nil {
		return
	}
	if c == 0xc4 || c == 0xc5 || c == 0xc6 || (c >= 0x90 && c <= 0x9f) || c == 0xdc || c == 0xdd {
		save := d.off
		if b := d.Bytes(maxPayload); d.err == nil {
			e.Payload = b
			return
		}
		if c == 0xc4 || c == 0xc5 || c == 0xc6 {
			return // a bin that does not fit: the error stands
		}
		d.err, d.off = nil, save // an array of something else: a value
	}
	e.Payload = append([]byte(nil), d.Raw()...)
}
