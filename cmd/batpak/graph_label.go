package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/internal/textview"
	"github.com/vmihailenco/msgpack/v5"
)

// A graph node shows its event's kind and a short summary of its payload:
// the first fields of a map (in the order they were encoded), each
// "name: value", then "…" if there are more; a scalar as it is, a list by its length, raw bytes by
// their size. It is bounded and printable whatever the payload holds (it
// is user data); dotQuote then escapes it for DOT.

const (
	summaryFields   = 3  // fields shown of a map
	summaryValueLen = 24 // runes of one value
	summaryLen      = 60 // runes of the whole summary
)

// payloadSummary returns the one-line summary of ev's payload ("" if it
// has none).
func payloadSummary(ev *batpak.StoredEvent) string {
	switch {
	case errors.Is(ev.PayloadErr, batpak.ErrShredded):
		return "(shredded)"
	case ev.PayloadErr != nil:
		return "(sealed)"
	case len(ev.Payload) == 0:
		return ""
	}
	var fields []string
	var err error
	switch ev.Codec {
	case batpak.JSON:
		fields, err = jsonFields(ev.Payload)
	case batpak.MsgPack:
		fields, err = msgpackFields(ev.Payload)
	default:
		return fmt.Sprintf("%d bytes raw", len(ev.Payload))
	}
	if err != nil {
		return fmt.Sprintf("%d bytes of %s that do not decode", len(ev.Payload), ev.Codec)
	}
	return textview.Clip(strings.Join(fields, ", "), summaryLen)
}

// jsonFields reads the first fields of a JSON object in order, or the
// whole value if it is not an object.
func jsonFields(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		return []string{valueSummary(v)}, nil
	}
	var out []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if len(out) == summaryFields {
			return append(out, "…"), nil // more fields than shown
		}
		out = appendField(out, fmt.Sprint(k), v)
	}
	return out, nil
}

// msgpackFields reads the first fields of a MessagePack map in order, or
// the whole value if it is not a map.
func msgpackFields(b []byte) ([]string, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	code, err := dec.PeekCode()
	if err != nil {
		return nil, err
	}
	if !isMsgpackMap(code) {
		v, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		return []string{valueSummary(v)}, nil
	}
	n, err := dec.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	var out []string
	for i := range n {
		if i == summaryFields {
			return append(out, "…"), nil // more fields than shown
		}
		k, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		v, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		out = appendField(out, fmt.Sprint(k), v)
	}
	return out, nil
}

func isMsgpackMap(code byte) bool {
	return code&0xf0 == 0x80 || code == 0xde || code == 0xdf // fixmap, map16, map32
}

// appendField adds "name: value" to fields.
func appendField(fields []string, name string, v any) []string {
	return append(fields, textview.Clip(textview.Printable(name), summaryValueLen)+": "+valueSummary(v))
}

// valueSummary prints one decoded value briefly.
func valueSummary(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return textview.Clip(textview.Printable(x), summaryValueLen)
	case []byte:
		return fmt.Sprintf("%d bytes", len(x))
	case []any:
		return fmt.Sprintf("[%d]", len(x))
	case map[string]any, map[any]any:
		return "{…}"
	}
	return textview.Clip(textview.Printable(fmt.Sprint(v)), summaryValueLen)
}
