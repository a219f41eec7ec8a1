package inspector

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/textview"
	"github.com/vmihailenco/msgpack/v5"
)

// Payloads are user data: they are decoded here into text (JSON, or a hex
// dump) and the templates escape that text; nothing here is HTML.

const (
	// maxPayloadText bounds the text an event page shows of one payload.
	maxPayloadText = 256 << 10
	// maxHexDump bounds the bytes of a raw payload dumped in hex.
	maxHexDump = 16 << 10
	// summaryLen is the runes of a payload's one-line summary in tables.
	summaryLen = 80
)

// payloadView is a payload as the event page shows it.
type payloadView struct {
	Codec string
	Size  int
	Text  string // pretty JSON or a hex dump, bounded
	Hex   bool   // Text is a hex dump
	Note  string // why it is shown as it is (a decode error, a cut)
}

// decodePayload returns ev's payload as a value encoding/json prints:
// MessagePack decoded into generic values, JSON kept as stored (decoding
// it into any would round integers past 2^53). ok is false for raw
// payloads and for bytes the codec cannot decode.
func decodePayload(ev *batpak.StoredEvent) (v any, ok bool, err error) {
	switch ev.Codec {
	case batpak.JSON:
		if !json.Valid(ev.Payload) {
			return nil, false, fmt.Errorf("the payload is not valid JSON")
		}
		return json.RawMessage(ev.Payload), true, nil
	case batpak.MsgPack:
		dec := msgpack.NewDecoder(bytes.NewReader(ev.Payload))
		// Maps with keys other than strings decode too; jsonable prints them.
		dec.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeUntypedMap() })
		if err := dec.Decode(&v); err != nil {
			return nil, false, fmt.Errorf("the payload does not decode as MessagePack: %v", err)
		}
		return textview.JSONable(v, hexString), true, nil
	}
	return nil, false, nil
}

// viewPayload renders ev's payload for the event page.
func viewPayload(ev *batpak.StoredEvent) payloadView {
	p := payloadView{Codec: ev.Codec.String(), Size: len(ev.Payload)}
	if ev.PayloadErr != nil { // shredded, or sealed and the store has not the key
		p.Note = ev.PayloadErr.Error()
		return p
	}
	if len(ev.Payload) == 0 {
		return p
	}
	v, ok, err := decodePayload(ev)
	if ok {
		text, merr := marshal(v, "  ")
		if merr == nil {
			p.Text = text
			if len(p.Text) > maxPayloadText {
				p.Text = strings.ToValidUTF8(p.Text[:maxPayloadText], "") + "\n…"
				p.Note = fmt.Sprintf("cut at %d KiB", maxPayloadText>>10)
			}
			return p
		}
		err = merr
	}
	if err != nil {
		p.Note = err.Error() + "; its bytes follow"
	}
	p.Hex, p.Text = true, hexDump(ev.Payload)
	if len(ev.Payload) > maxHexDump {
		p.Note = strings.TrimPrefix(p.Note+fmt.Sprintf("; the first %d KiB", maxHexDump>>10), "; ")
	}
	return p
}

// summary is a payload's one-line summary for tables: compact JSON, or
// the size of raw bytes, cut to summaryLen runes.
func summary(ev *batpak.StoredEvent) string {
	switch {
	case errors.Is(ev.PayloadErr, event.ErrShredded):
		return "(shredded)"
	case ev.PayloadErr != nil:
		return "(sealed)"
	}
	if len(ev.Payload) == 0 {
		return ""
	}
	v, ok, _ := decodePayload(ev)
	if !ok {
		return fmt.Sprintf("%d bytes", len(ev.Payload))
	}
	if raw, isRaw := v.(json.RawMessage); isRaw {
		var b bytes.Buffer
		if json.Compact(&b, raw) == nil {
			return textview.Clip(textview.Printable(b.String()), summaryLen)
		}
	}
	text, err := marshal(v, "")
	if err != nil {
		return fmt.Sprintf("%d bytes", len(ev.Payload))
	}
	return textview.Clip(textview.Printable(text), summaryLen)
}

// marshal prints v as JSON without HTML escapes: the page escapes, and
// "<" should read as "<", not "\u003c".
func marshal(v any, indent string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// hexDump prints up to maxHexDump bytes, 16 a line: offset, hex, and the
// printable ASCII bytes.
func hexDump(b []byte) string {
	b = b[:min(len(b), maxHexDump)]
	var s strings.Builder
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(&s, "%08x  ", off)
		for i := range 16 {
			if i < len(line) {
				fmt.Fprintf(&s, "%02x ", line[i])
			} else {
				s.WriteString("   ")
			}
			if i == 7 {
				s.WriteByte(' ')
			}
		}
		s.WriteString(" |")
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			s.WriteByte(c)
		}
		s.WriteString("|\n")
	}
	return s.String()
}

// hexString shows a byte string inside a payload as 0x and its hex digits.
func hexString(b []byte) any { return "0x" + hex.EncodeToString(b) }
