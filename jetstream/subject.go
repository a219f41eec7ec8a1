package jetstream

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/batpak-go/batpak/event"
)

// Subjects. An event of entity E in scope S of kind K is stored on
//
//	<prefix>.<token(S)>.<token(E)>.<kind as 4 hex digits>
//
// token keeps the bytes [A-Za-z0-9_-] and writes every other byte as '~'
// and two upper-case hex digits, so "player:alice" becomes "player~3Aalice".
// The mapping is reversible ('~' itself is escaped) and never yields a '.',
// '*', '>' or white space, which subject tokens cannot hold.

// maxSubject bounds an encoded subject: NATS carries the subject in the
// protocol's control line, 4 KiB by default, with the reply subject and
// sizes beside it.
const maxSubject = 3000

// token encodes one coordinate part as a subject token.
func token(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !plain(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	const hexdig = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('~')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&0xF])
	}
	return b.String()
}

func plain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

var errBadToken = errors.New("jetstream: malformed subject token")

// untoken reverses token.
func untoken(t string) (string, error) {
	if !strings.Contains(t, "~") {
		return t, nil
	}
	b := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		if t[i] != '~' {
			b = append(b, t[i])
			continue
		}
		if i+2 >= len(t) {
			return "", fmt.Errorf("%w: %q", errBadToken, t)
		}
		v, err := strconv.ParseUint(t[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%w: %q", errBadToken, t)
		}
		b = append(b, byte(v))
		i += 2
	}
	return string(b), nil
}

// kindToken renders a kind as its subject token.
func kindToken(k event.EventKind) string {
	const hexdig = "0123456789abcdef"
	return string([]byte{hexdig[k>>12], hexdig[k>>8&0xF], hexdig[k>>4&0xF], hexdig[k&0xF]})
}

// subjects names the subjects of one store.
type subjects struct {
	prefix string // the events' first token(s), e.g. "evt"
	rp     string // where the stream republishes them, e.g. "_bp.rp.evt"
}

func newSubjects(prefix string) subjects {
	return subjects{prefix: prefix, rp: "_bprp." + prefix}
}

// event is the subject of an event.
func (s subjects) event(c event.Coordinate, k event.EventKind) (string, error) {
	subj := s.prefix + "." + token(c.Scope()) + "." + token(c.Entity()) + "." + kindToken(k)
	if len(subj) > maxSubject {
		return "", &event.CoordinateError{Field: "entity", Reason: fmt.Sprintf("longer than %d bytes once encoded as a NATS subject", maxSubject)}
	}
	return subj, nil
}

// entity is the wildcard subject of every event of an entity, whatever its
// scope and kind: the subject the per-entity sequence check is made on.
func (s subjects) entity(entity string) string {
	return s.prefix + ".*." + token(entity) + ".*"
}

// all matches every event of the store.
func (s subjects) all() string { return s.prefix + ".>" }

// filter is the narrowest subject filter that covers region r; what a
// subject cannot express (entity and scope prefixes — a wildcard matches
// whole tokens only —, scope sets, kind sets, sequence ranges) is filtered
// by the caller with r.Matches.
func (s subjects) filter(r event.Region) string {
	scope, entity, kind := "*", "*", "*"
	if names, prefixes, _ := r.Scopes(); len(names) == 1 && len(prefixes) == 0 {
		scope = token(names[0])
	}
	if e, ok := r.ExactEntity(); ok {
		entity = token(e)
	}
	if k, ok := r.Kinds.Exact(); ok {
		kind = kindToken(k)
	}
	if scope == "*" && entity == "*" && kind == "*" {
		return s.all()
	}
	return s.prefix + "." + scope + "." + entity + "." + kind
}

// parse splits an event subject (or a republished one, rp true) into
// coordinate and kind.
func (s subjects) parse(subj string, rp bool) (event.Coordinate, event.EventKind, error) {
	p := s.prefix
	if rp {
		p = s.rp
	}
	rest, ok := strings.CutPrefix(subj, p+".")
	if !ok {
		return event.Coordinate{}, 0, fmt.Errorf("%w: subject %q outside %q", errBadToken, subj, p)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return event.Coordinate{}, 0, fmt.Errorf("%w: subject %q", errBadToken, subj)
	}
	scope, err := untoken(parts[0])
	if err != nil {
		return event.Coordinate{}, 0, err
	}
	entity, err := untoken(parts[1])
	if err != nil {
		return event.Coordinate{}, 0, err
	}
	k, err := strconv.ParseUint(parts[2], 16, 16)
	if err != nil {
		return event.Coordinate{}, 0, fmt.Errorf("%w: kind in %q", errBadToken, subj)
	}
	c, err := event.NewCoordinate(entity, scope)
	return c, event.EventKind(k), err
}
