package event

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"

	"github.com/google/uuid"
)

// ID is a 128-bit UUIDv7 event id: time-sortable, big-endian, so the byte
// order of two ids made by one store is the order they were made in.
// The zero ID means "none".
type ID [16]byte

// NewID returns a fresh UUIDv7. It is safe for concurrent use. The store
// assigns event ids itself with a faster monotonic Generator.
func NewID() ID { return ID(uuid.Must(uuid.NewV7())) }

// ParseID parses the canonical 36-character form (and the other forms
// google/uuid accepts).
func ParseID(s string) (ID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return ID{}, err
	}
	return ID(u), nil
}

// String renders the canonical xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx form.
func (id ID) String() string { return uuid.UUID(id).String() }

// IsZero reports whether id is the zero ("none") id.
func (id ID) IsZero() bool { return id == ID{} }

// IsUUIDv7 reports whether id is a UUIDv7: version 7, RFC 9562 variant.
func (id ID) IsUUIDv7() bool { return id[6]>>4 == 7 && id[8]>>6 == 2 }

// UnixMilli is the millisecond timestamp embedded in a UUIDv7.
func (id ID) UnixMilli() int64 {
	var b [8]byte
	copy(b[2:], id[:6])
	return int64(binary.BigEndian.Uint64(b[:]))
}

// Compare orders ids by their bytes (for UUIDv7: by time, then counter).
func (id ID) Compare(o ID) int {
	a1, b1 := binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(o[:8])
	if a1 != b1 {
		if a1 < b1 {
			return -1
		}
		return 1
	}
	a2, b2 := binary.BigEndian.Uint64(id[8:]), binary.BigEndian.Uint64(o[8:])
	switch {
	case a2 < b2:
		return -1
	case a2 > b2:
		return 1
	}
	return 0
}

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	u, err := uuid.ParseBytes(b)
	if err != nil {
		return err
	}
	*id = ID(u)
	return nil
}

// Generator makes strictly increasing UUIDv7 ids (RFC 9562 §6.2, method 1):
// 48 bits of milliseconds, then a 42-bit counter spread over rand_a and the
// top of rand_b, then 32 random bits. The counter restarts from a random
// value below 2^41 at each new millisecond and, if it ever overflows, the
// timestamp borrows from the next millisecond, so ids never go backwards
// even when the wall clock does. A Generator is not safe for concurrent use:
// the writer actor owns one.
type Generator struct {
	lastMS  uint64
	counter uint64
	rng     *rand.ChaCha8
}

const counterBits = 42

// NewGenerator returns a generator seeded from crypto/rand whose ids are all
// greater than floor (pass the newest id in the store after a reopen).
func NewGenerator(floor ID) *Generator {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails on supported platforms
	return NewSeededGenerator(floor, seed)
}

// NewSeededGenerator is NewGenerator with a fixed seed: the same seed, floor
// and clock readings give the same ids (for tests whose output is bytes).
func NewSeededGenerator(floor ID, seed [32]byte) *Generator {
	g := &Generator{rng: rand.NewChaCha8(seed)}
	if !floor.IsZero() {
		g.lastMS = uint64(floor.UnixMilli())
		hi, lo := binary.BigEndian.Uint64(floor[:8]), binary.BigEndian.Uint64(floor[8:])
		// rand_a is the low 12 bits of hi; the counter's low 30 bits are lo's bits 61..32.
		g.counter = (hi&0xFFF)<<30 | (lo>>32)&(1<<30-1)
	}
	return g
}

// Observe moves the generator above id, if id is a UUIDv7 (version 7,
// RFC 9562 variant) greater than every id it returned: its later ids then
// sort after id. Other ids (a number chosen by a program as an id) are
// ignored: the generator is not bent to them, and ids it makes later may
// sort below them. Imports call it for every id they bring in.
func (g *Generator) Observe(id ID) {
	if !id.IsUUIDv7() {
		return
	}
	hi, lo := binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:])
	ms, counter := hi>>16, (hi&0xFFF)<<30|(lo>>32)&(1<<30-1)
	if ms > g.lastMS || (ms == g.lastMS && counter > g.counter) {
		g.lastMS, g.counter = ms, counter
	}
}

// Next returns an id greater than every id this generator returned before,
// for a wall clock reading of nowMS milliseconds since the Unix epoch.
func (g *Generator) Next(nowMS int64) ID {
	ms := uint64(nowMS)
	if ms > g.lastMS {
		g.lastMS = ms
		g.counter = g.rng.Uint64() & (1<<(counterBits-1) - 1)
	} else {
		g.counter++
		if g.counter >= 1<<counterBits {
			g.lastMS++
			g.counter = 0
		}
	}
	hi := g.lastMS<<16 | 0x7<<12 | (g.counter>>30)&0xFFF
	lo := uint64(0x2)<<62 | (g.counter&(1<<30-1))<<32 | g.rng.Uint64()&0xFFFFFFFF
	var id ID
	binary.BigEndian.PutUint64(id[:8], hi)
	binary.BigEndian.PutUint64(id[8:], lo)
	return id
}
