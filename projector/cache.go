package projector

import (
	"encoding"
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Key identifies a cached state: the projection's name and schema version,
// and the subject it was folded over (an entity, or a region's key).
type Key struct {
	Name    string
	Version uint32
	Subject string
}

func (k Key) String() string { return fmt.Sprintf("%s/v%d/%q", k.Name, k.Version, k.Subject) }

// Entry is a cached state and the position it reflects.
type Entry struct {
	// State is the encoded state (see MarshalState). A cache may hand the
	// same slice to several readers: nobody may modify it.
	State []byte
	// Watermark is the global sequence the state is complete through: it
	// includes every relevant event with a global sequence up to Watermark
	// and none above.
	Watermark uint64
	// CachedAt is when the state was computed; MaybeStale compares it with
	// the projection's clock.
	CachedAt time.Time
}

// Cache stores projected states. Two implementations ship with batpak,
// MemoryCache and FileCache; a nil Cache (or NoCache) caches nothing.
//
// A cache is advisory, the log is the truth: a Get that fails counts as a
// miss and the state is replayed, and a failed Put is dropped. A Get of a
// damaged entry should return an error wrapping ErrCorruptEntry.
// Implementations must be safe for concurrent use.
type Cache interface {
	Get(k Key) (Entry, bool, error)
	Put(k Key, e Entry) error
}

// NoCache caches nothing: every projection replays the log. It is the default.
type NoCache struct{}

// Get always misses.
func (NoCache) Get(Key) (Entry, bool, error) { return Entry{}, false, nil }

// Put does nothing.
func (NoCache) Put(Key, Entry) error { return nil }

func caching(c Cache) bool {
	if c == nil {
		return false
	}
	_, none := c.(NoCache)
	return !none
}

// MarshalState encodes a state for a cache: with its MarshalBinary method if
// *T implements encoding.BinaryMarshaler, else with MessagePack (exported
// fields only; unexported ones would be lost).
func MarshalState[T any](s *T) ([]byte, error) {
	if m, ok := any(s).(encoding.BinaryMarshaler); ok {
		return m.MarshalBinary()
	}
	return msgpack.Marshal(s)
}

// UnmarshalState decodes what MarshalState encoded into a zero state s.
func UnmarshalState[T any](b []byte, s *T) error {
	if u, ok := any(s).(encoding.BinaryUnmarshaler); ok {
		return u.UnmarshalBinary(b)
	}
	return msgpack.Unmarshal(b, s)
}
