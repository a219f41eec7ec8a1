package batpakrust

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/batpak-go/batpak/event"
)

// The index checkpoint batpak-rust 0.3.0 writes on close (index.ckpt):
//
//	"FBATCK"   magic
//	u16 LE     version (2)
//	u32 LE     CRC-32 (IEEE) of the rest
//	MessagePack map {global_sequence, watermark_segment_id,
//	    watermark_offset, interner_strings, entries: [{event_id,
//	    correlation_id, causation_id, entity_id, scope_id, kind, wall_ms,
//	    clock, prev_hash, event_hash, segment_id, offset, length,
//	    global_sequence}]}
//
// Entity and scope ids index interner_strings. Import never needs it (the
// segments hold everything); it is read to cross-check them.
const (
	CheckpointMagic   = "FBATCK"
	CheckpointVersion = 2
	checkpointHead    = 12
	maxCheckpoint     = 1 << 30
)

// Checkpoint is a decoded index.ckpt.
type Checkpoint struct {
	// NextGlobal is the global sequence the next event would get: the
	// number of events for a store that never lost one.
	NextGlobal       uint64
	WatermarkSegment uint64
	WatermarkOffset  uint64
	Entries          []CheckpointEntry
}

// CheckpointEntry is one event's row of the checkpoint.
type CheckpointEntry struct {
	ID          event.ID
	Correlation event.ID
	Causation   event.ID
	Entity      string
	Scope       string
	Kind        event.EventKind
	WallMS      uint64
	Clock       uint64
	PrevHash    [32]byte
	EventHash   [32]byte
	Segment     uint64
	Offset      uint64
	Length      uint64
	Global      uint64
}

// DecodeCheckpoint decodes the bytes of an index.ckpt file.
func DecodeCheckpoint(b []byte) (Checkpoint, error) {
	var c Checkpoint
	if len(b) < checkpointHead {
		return c, fmt.Errorf("%w: checkpoint of %d bytes", ErrTorn, len(b))
	}
	if string(b[:6]) != CheckpointMagic {
		return c, fmt.Errorf("%w: checkpoint magic %q", ErrMalformed, b[:6])
	}
	if v := binary.LittleEndian.Uint16(b[6:]); v != CheckpointVersion {
		return c, fmt.Errorf("%w: checkpoint version %d (batpak-rust 0.3.0 writes %d)", ErrMalformed, v, CheckpointVersion)
	}
	body := b[checkpointHead:]
	if want, got := binary.LittleEndian.Uint32(b[8:]), crc32.ChecksumIEEE(body); want != got {
		return c, fmt.Errorf("%w: checkpoint CRC %08x, computed %08x", ErrMalformed, want, got)
	}
	type row struct {
		CheckpointEntry
		entity, scope uint64
	}
	var names []string
	var rows []row
	d := &mp{b: body}
	d.Fields(func(k string) {
		switch k {
		case "global_sequence":
			c.NextGlobal = d.Uint()
		case "watermark_segment_id":
			c.WatermarkSegment = d.Uint()
		case "watermark_offset":
			c.WatermarkOffset = d.Uint()
		case "interner_strings":
			n := d.ArrayLen()
			if d.err == nil && !d.need(n) {
				return
			}
			for i := uint64(0); i < n && d.err == nil; i++ {
				names = append(names, d.Str())
			}
		case "entries":
			n := d.ArrayLen()
			if d.err == nil && !d.need(n) {
				return
			}
			for i := uint64(0); i < n && d.err == nil; i++ {
				var r row
				d.Fields(func(k string) {
					switch k {
					case "event_id":
						r.ID = d.U128()
					case "correlation_id":
						r.Correlation = d.U128()
					case "causation_id":
						if !d.isNil() {
							r.Causation = d.U128()
						}
					case "entity_id":
						r.entity = d.Uint()
					case "scope_id":
						r.scope = d.Uint()
					case "kind":
						r.Kind = event.EventKind(d.UintMax(0xffff, "kind"))
					case "wall_ms":
						r.WallMS = d.Uint()
					case "clock":
						r.Clock = d.Uint()
					case "prev_hash":
						r.PrevHash = d.Hash()
					case "event_hash":
						r.EventHash = d.Hash()
					case "segment_id":
						r.Segment = d.Uint()
					case "offset":
						r.Offset = d.Uint()
					case "length":
						r.Length = d.Uint()
					case "global_sequence":
						r.Global = d.Uint()
					default:
						d.Skip()
					}
				})
				rows = append(rows, r)
			}
		default:
			d.Skip()
		}
	})
	if d.err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", d.err)
	}
	c.Entries = make([]CheckpointEntry, len(rows))
	for i, r := range rows {
		if r.entity >= uint64(len(names)) || r.scope >= uint64(len(names)) {
			return Checkpoint{}, fmt.Errorf("%w: checkpoint entry %d names string %d/%d of %d", ErrMalformed, i, r.entity, r.scope, len(names))
		}
		r.Entity, r.Scope = names[r.entity], names[r.scope]
		c.Entries[i] = r.CheckpointEntry
	}
	return c, nil
}
