package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Codec names how a payload's bytes were encoded. It is recorded with every
// event, so Decode works whatever codec the store is configured with later.
type Codec uint8

const (
	CodecRaw     Codec = 0 // bytes stored as given
	CodecMsgPack Codec = 1 // MessagePack
	CodecJSON    Codec = 2 // JSON
)

func (c Codec) String() string {
	switch c {
	case CodecRaw:
		return "raw"
	case CodecMsgPack:
		return "msgpack"
	case CodecJSON:
		return "json"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// ErrRawPayload is returned by Decode for a raw payload decoded into anything
// other than *[]byte.
var ErrRawPayload = errors.New("batpak: raw payload can only be decoded into *[]byte")

// Encode encodes v with codec c. A []byte is passed through untouched
// whatever the codec, and reported as CodecRaw; an Encoded is passed
// through with its own codec; a Typed is its Value (EncodeVersioned also
// gives the version).
func Encode(c Codec, v any) ([]byte, Codec, error) {
	switch v := v.(type) {
	case []byte:
		return v, CodecRaw, nil
	case Typed:
		e, err := EncodeVersioned(c, v)
		return e.Bytes, e.Codec, err
	case Encoded:
		if v.Codec > CodecJSON {
			return nil, v.Codec, fmt.Errorf("batpak: unknown codec %d", v.Codec)
		}
		return v.Bytes, v.Codec, nil
	}
	switch c {
	case CodecMsgPack:
		b, err := marshalMsgPack(v)
		return b, c, err
	case CodecJSON:
		b, err := json.Marshal(v)
		return b, c, err
	case CodecRaw:
		return nil, c, fmt.Errorf("batpak: the raw codec takes []byte, not %T", v)
	}
	return nil, c, fmt.Errorf("batpak: unknown codec %d", c)
}

// msgpackEncoder is a reusable encoder writing into its own buffer.
type msgpackEncoder struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

var msgpackPool = sync.Pool{New: func() any {
	e := &msgpackEncoder{}
	e.enc = msgpack.NewEncoder(&e.buf)
	return e
}}

// marshalMsgPack encodes with a pooled encoder: the only allocation left is
// the returned bytes, which the caller keeps.
func marshalMsgPack(v any) ([]byte, error) {
	e := msgpackPool.Get().(*msgpackEncoder)
	defer msgpackPool.Put(e)
	e.buf.Reset()
	if err := encodeMsgPack(e.enc, v); err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

// encodeMsgPack encodes v as the library would, but maps of strings to
// ints or floats without reflection: the library walks those with a
// reflect.MapIter, which allocates every key and value it hands out
// (three allocations for a two-entry map, a third of an append's). The
// bytes are the library's: the same calls, in Go's map order as there.
func encodeMsgPack(enc *msgpack.Encoder, v any) error {
	switch m := v.(type) {
	case map[string]int:
		return encodeMap(enc, m, func(x int) error { return enc.EncodeInt(int64(x)) })
	case map[string]float64:
		return encodeMap(enc, m, enc.EncodeFloat64)
	}
	return enc.Encode(v)
}

func encodeMap[V any](enc *msgpack.Encoder, m map[string]V, value func(V) error) error {
	if m == nil {
		return enc.EncodeNil()
	}
	if err := enc.EncodeMapLen(len(m)); err != nil {
		return err
	}
	for k, x := range m {
		if err := enc.EncodeString(k); err != nil {
			return err
		}
		if err := value(x); err != nil {
			return err
		}
	}
	return nil
}

// DecodePayload decodes b, encoded with c, into v.
func DecodePayload(c Codec, b []byte, v any) error {
	switch c {
	case CodecMsgPack:
		return msgpack.Unmarshal(b, v)
	case CodecJSON:
		return json.Unmarshal(b, v)
	case CodecRaw:
		if p, ok := v.(*[]byte); ok {
			*p = append((*p)[:0], b...)
			return nil
		}
		return ErrRawPayload
	}
	return fmt.Errorf("batpak: unknown codec %d", c)
}

// SamePayload reports whether two encoded payloads are the same payload:
// the same codec and the same bytes, or, for MessagePack, bytes that decode
// to equal values. MessagePack writes a map's entries in Go's random
// iteration order, so one value can encode to several byte strings; an
// idempotent retry of a payload holding a map must still match it. (JSON
// sorts map keys, and raw bytes are what they are: for those, the bytes
// decide.) Stores call it only when a key is seen again.
func SamePayload(c1 Codec, b1 []byte, c2 Codec, b2 []byte) bool {
	if c1 != c2 {
		return false
	}
	if bytes.Equal(b1, b2) {
		return true
	}
	if c1 != CodecMsgPack || len(b1) != len(b2) { // a reordering keeps the length
		return false
	}
	var v1, v2 any
	if msgpack.Unmarshal(b1, &v1) != nil || msgpack.Unmarshal(b2, &v2) != nil {
		return false
	}
	return reflect.DeepEqual(v1, v2)
}

// The reasons an encrypted event's payload cannot be read (see
// StoredEvent.PayloadErr). Everything else about the event — its header,
// coordinate, causal links and chain hash — reads as usual.
var (
	// ErrShredded: the payload's key was destroyed (the store's Shred), so
	// no one can read it any more.
	ErrShredded = errors.New("batpak: payload shredded: its key was destroyed")
	// ErrSealed: the payload is encrypted and the store was opened without
	// its key.
	ErrSealed = errors.New("batpak: payload sealed: the store was opened without its key")
)

// StoredEvent is an event as read back from the store.
type StoredEvent struct {
	Header
	Coordinate     Coordinate
	IdempotencyKey string // empty if the append carried none
	Codec          Codec
	// PayloadVersion is the version of the payload's shape as its kind
	// was registered when it was appended (package kinds): 0 for an event
	// appended without one (untyped appends). Typed reads upcast older
	// versions to the kind's current type.
	PayloadVersion uint32
	Payload        []byte // owned by the caller
	// PayloadErr is nil when Payload holds the event's payload. For an
	// encrypted event whose payload cannot be read it says why (ErrShredded,
	// ErrSealed), Payload is empty and Decode returns it: a projection or a
	// reader skips such an event by checking errors.Is(err, ErrShredded).
	PayloadErr error
}

// Decode decodes the payload into v (a pointer) with the codec it was
// stored with, or returns PayloadErr if the payload cannot be read.
func (e *StoredEvent) Decode(v any) error {
	if e.PayloadErr != nil {
		return e.PayloadErr
	}
	return DecodePayload(e.Codec, e.Payload, v)
}

// Notification is the small record of a committed event that subscribers
// and cursors are woken with; read the payload with the store's Get.
type Notification struct {
	ID          ID
	Correlation ID
	Causation   ID
	Coordinate  Coordinate
	Kind        EventKind
	Global      uint64
	Sequence    uint64
}

// Notification returns the notification for e.
func (e *StoredEvent) Notification() Notification {
	return Notification{
		ID: e.ID, Correlation: e.Correlation, Causation: e.Causation,
		Coordinate: e.Coordinate, Kind: e.Kind, Global: e.Global, Sequence: e.Sequence,
	}
}
