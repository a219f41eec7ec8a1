package event

import "fmt"

// Typed is a payload as a typed kind makes it (package kinds, Kind.Payload):
// a value with the kind it belongs to, the kind's name and the version of
// the value's shape. A store appends it as it would Value — encoded with
// its codec, or passed through if Value is a []byte or an Encoded — and
// records Version with the event (StoredEvent.PayloadVersion). Before the
// event is written the store learns Name for Kind (kinds.Names), and it
// refuses a Typed appended under another kind than its own.
type Typed struct {
	Kind    EventKind
	Name    string
	Version uint32
	Value   any
}

// EncodeVersioned is Encode that also gives the payload's version: a
// Typed's Version (its Value encoded as Encode would), an Encoded's, or 0
// for anything else. Stores encode every payload with it.
func EncodeVersioned(c Codec, v any) (Encoded, error) {
	var version uint32
	switch t := v.(type) {
	case Typed:
		if _, nested := t.Value.(Typed); nested {
			return Encoded{}, fmt.Errorf("batpak: a typed payload holds another typed payload")
		}
		version, v = t.Version, t.Value
	case Encoded:
		version = t.Version
	}
	b, used, err := Encode(c, v)
	return Encoded{Codec: used, Bytes: b, Version: version}, err
}
