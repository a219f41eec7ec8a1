// Package textview turns stored payloads and names into text a person
// reads: JSON a decoded MessagePack value can always be printed as, and
// names and values made printable and clipped to a width. The batpak
// command and the web inspector show payloads through it, so both show
// the same thing.
package textview

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// JSONable rewrites, in place where it can, what a MessagePack decode into
// an any may produce and encoding/json cannot print: maps with keys other
// than strings (their keys printed with fmt), and non-finite floats (as
// strings). Byte strings go through bin when it is not nil (encoding/json
// would print them as base64).
func JSONable(v any, bin func([]byte) any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = JSONable(e, bin)
		}
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = JSONable(e, bin)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = JSONable(e, bin)
		}
	case []byte:
		if bin != nil {
			return bin(x)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 32)
		}
	}
	return v
}

// Printable replaces control characters and invalid UTF-8 with spaces.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
}

// Clip cuts s to n runes, ending in "…" when cut.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
