package kinds

import "errors"

// Errors of package kinds. Match them with errors.Is; the messages name the
// kind, its name and the versions involved.
var (
	// ErrDefinition is returned by Define for a definition that cannot
	// work: a name that breaks CheckName, a reserved kind, version 0, an
	// upcaster outside the kind's versions, a gap in the chain of
	// upcasters or a step whose types do not meet the next one's.
	ErrDefinition = errors.New("kinds: invalid kind definition")
	// ErrCollision is returned by Define for a kind a registry already
	// binds (to this type or another) and for a name it already gives
	// another kind: caught when the kinds are defined, not when their
	// events meet.
	ErrCollision = errors.New("kinds: kind or name already defined")
	// ErrNameMismatch is returned by a store's Names.Learn — and so by a
	// typed append — when the store keeps another name for the kind, or the
	// name for another kind. A store never renames a kind: see the README,
	// "Typed kinds and schema evolution".
	ErrNameMismatch = errors.New("kinds: the store keeps another name for this kind")
	// ErrWrongKind is returned by a typed read of an event of another
	// kind, and by an append of a typed payload under another kind.
	ErrWrongKind = errors.New("kinds: event of another kind")
	// ErrVersionTooNew is returned by a typed read of an event written
	// with a payload version above the kind's: a newer program wrote it,
	// and this one cannot know its shape.
	ErrVersionTooNew = errors.New("kinds: payload version newer than the kind's")
	// ErrNoUpcaster is returned by a typed read of an event whose payload
	// version no chain of upcasters leads up from (the kind was defined
	// with steps starting above it, or with none).
	ErrNoUpcaster = errors.New("kinds: no upcaster from the event's payload version")
	// ErrUpcast wraps the error an upcaster returned.
	ErrUpcast = errors.New("kinds: upcaster failed")
	// ErrUnregistered is returned by Decode for an event whose kind the
	// registry does not bind, and ErrTypeMismatch for one bound to
	// another type than the one asked for.
	ErrUnregistered = errors.New("kinds: kind not registered")
	ErrTypeMismatch = errors.New("kinds: kind bound to another type")
	// ErrNamesCorrupt is returned by Names.Table and Names.Learn of a store
	// whose table of kind names fails its checks. Nothing is overwritten:
	// the message names the file (or bucket key) to repair or move away.
	ErrNamesCorrupt = errors.New("kinds: kind names corrupt")
)
