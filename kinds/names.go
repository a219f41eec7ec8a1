package kinds

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/batpak-go/batpak/event"
)

// MaxName bounds a kind's name, in bytes.
const MaxName = 128

// CheckName reports whether name may name a kind: 1 to MaxName bytes of
// ASCII letters, digits and '.', '_', '-', ':', '/', starting with a
// letter (so that a name is never read as a number: tools take either).
func CheckName(name string) error {
	if name == "" || len(name) > MaxName {
		return fmt.Errorf("kind name %q: want 1 to %d bytes", name, MaxName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return fmt.Errorf("kind name %q: must start with a letter", name)
		}
		if !letter && !(c >= '0' && c <= '9') && !strings.ContainsRune("._-:/", rune(c)) {
			return fmt.Errorf("kind name %q: byte %q is not a letter, digit, '.', '_', '-', ':' or '/'", name, c)
		}
	}
	return nil
}

// Names is a store's table of kind names, kept with its log: what lets
// tools print player.moved rather than 0x1002. Both backends give one
// (EventStore.KindNames): the embedded store keeps it in a file of its
// directory (File), the JetStream backend in its index bucket.
//
// A store learns a name when a typed payload of its kind is appended
// (before the event is written, so every event of a typed kind has its
// name kept) or when Register is called. It never renames: a different
// name for a kind it names, or a name it gives another kind, is
// ErrNameMismatch.
type Names interface {
	// Learn keeps name for kind, durably before it returns; a name already
	// kept for the kind is not an error.
	Learn(ctx context.Context, kind event.EventKind, name string) error
	// Table returns every name the store keeps.
	Table(ctx context.Context) (Table, error)
}

// Register has names learn every kind of r.
func Register(ctx context.Context, names Names, r *Registry) error {
	for _, in := range r.All() {
		if err := names.Learn(ctx, in.Kind, in.Name); err != nil {
			return err
		}
	}
	return nil
}

// Learn is what a store does with a payload before appending it under
// kind: a typed payload (event.Typed) must be of that kind (else
// ErrWrongKind), and names learns its name. Anything else passes at once.
func Learn(ctx context.Context, names Names, kind event.EventKind, payload any) error {
	t, ok := payload.(event.Typed)
	if !ok {
		return nil
	}
	return learnTyped(ctx, names, kind, &t)
}

func learnTyped(ctx context.Context, names Names, kind event.EventKind, t *event.Typed) error {
	if t.Kind != kind {
		return fmt.Errorf("%w: a payload of %q (kind %#04x) appended as kind %#04x", ErrWrongKind, t.Name, uint16(t.Kind), uint16(kind))
	}
	return names.Learn(ctx, kind, t.Name)
}

// Table maps kinds to their names.
type Table map[event.EventKind]string

// Label is k's name if t has one, else k as the tools print a number
// (0x1002).
func (t Table) Label(k event.EventKind) string {
	if n, ok := t[k]; ok {
		return n
	}
	return fmt.Sprintf("0x%04x", uint16(k))
}

// Kind returns the kind t gives name.
func (t Table) Kind(name string) (event.EventKind, bool) {
	for k, n := range t {
		if n == name {
			return k, true
		}
	}
	return 0, false
}

// With returns t with kind named name (t itself, with same set, if it
// already says so), or ErrNameMismatch if t names the kind otherwise or
// gives the name to another kind. t is not changed. Implementations of
// Names use it to apply Learn's rule.
func (t Table) With(kind event.EventKind, name string) (next Table, same bool, err error) {
	if err := checkLearn(kind, name); err != nil {
		return nil, false, err
	}
	if old, ok := t[kind]; ok {
		if old == name {
			return t, true, nil
		}
		return nil, false, fmt.Errorf("%w: kind %#04x is %q here, not %q", ErrNameMismatch, uint16(kind), old, name)
	}
	if other, ok := t.Kind(name); ok {
		return nil, false, fmt.Errorf("%w: %q is kind %#04x here, not %#04x", ErrNameMismatch, name, uint16(other), uint16(kind))
	}
	next = maps.Clone(t)
	if next == nil {
		next = Table{}
	}
	next[kind] = name
	return next, false, nil
}

// checkLearn checks what Learn is given: a user kind and a valid name.
func checkLearn(kind event.EventKind, name string) error {
	if err := event.CheckKind(kind); err != nil {
		return err
	}
	return CheckName(name)
}

// tableFormat is the version of the encoding below.
const tableFormat = 1

// tableJSON is a table as it is kept (docs/FORMAT.md, "Kind names"):
//
//	{"format": 1, "kinds": {"0x1002": "player.moved", …}}
type tableJSON struct {
	Format int               `json:"format"`
	Kinds  map[string]string `json:"kinds"`
}

// MarshalTable encodes t as stores keep it, kinds in order.
func MarshalTable(t Table) []byte {
	j := tableJSON{Format: tableFormat, Kinds: make(map[string]string, len(t))}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		j.Kinds[fmt.Sprintf("0x%04x", uint16(k))] = t[k]
	}
	b, _ := json.MarshalIndent(j, "", "  ") // sorted keys: one table, one encoding
	return append(b, '\n')
}

// UnmarshalTable decodes what MarshalTable encoded, checking every entry
// (a kind a user may append, a valid name, each name once); anything else
// is ErrNamesCorrupt.
func UnmarshalTable(b []byte) (Table, error) {
	var j tableJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNamesCorrupt, err)
	}
	if j.Format != tableFormat {
		return nil, fmt.Errorf("%w: format %d (this version reads %d)", ErrNamesCorrupt, j.Format, tableFormat)
	}
	t := make(Table, len(j.Kinds))
	names := make(map[string]bool, len(j.Kinds))
	for key, name := range j.Kinds {
		hex, ok := strings.CutPrefix(key, "0x")
		n, err := strconv.ParseUint(hex, 16, 16)
		if !ok || err != nil || len(hex) != 4 {
			return nil, fmt.Errorf("%w: %q is not a kind such as 0x1002", ErrNamesCorrupt, key)
		}
		if err := checkLearn(event.EventKind(n), name); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrNamesCorrupt, key, err)
		}
		if _, dup := t[event.EventKind(n)]; dup || names[name] {
			return nil, fmt.Errorf("%w: %s or %q listed twice", ErrNamesCorrupt, key, name)
		}
		names[name] = true
		t[event.EventKind(n)] = name
	}
	return t, nil
}
