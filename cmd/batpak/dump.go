package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/internal/textview"
	"github.com/batpak-go/batpak/kinds"
	"github.com/vmihailenco/msgpack/v5"
)

// dumpFlags declares the dump command: every event that passes the
// filters, in global order, as text lines or JSON lines.
func dumpFlags(fs *flag.FlagSet) action {
	var f eventFilter
	f.register(fs)
	var p eventPrinter
	p.register(fs)
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		dir, err := oneDir(args)
		if err != nil {
			return err
		}
		p.names = readKindNames(dir, stderr)
		if err := f.parse(p.names); err != nil {
			return err
		}
		if err := p.parse(); err != nil {
			return err
		}
		out := bufio.NewWriter(stdout)
		s, err := openStore(dir, stderr)
		if isDamage(err) {
			return dumpDamaged(ctx, dir, err, 0, &f, &p, out)
		}
		if err != nil {
			return err
		}
		defer s.Close()
		events := s.Query(ctx, f.region)
		if f.hasCorrelID {
			// The correlation index lists the workflow's events: read
			// only them (the other filters are checked on each).
			events = s.ByCorrelation(ctx, f.correlated)
		}
		var last uint64 // the last event printed
		for ev, err := range events {
			if isDamage(err) {
				return dumpDamaged(ctx, dir, err, last, &f, &p, out)
			}
			if err != nil {
				out.Flush() // what was read before the error
				return verifyHint(err, dir)
			}
			if f.match(ev) {
				if err := p.print(out, ev); err != nil {
					return err
				}
				last = ev.Global
			}
		}
		return out.Flush()
	}
}

// dumpDamaged goes on past damage: it prints the intact events after
// global after that pass the filters, read as batpak salvage reads them,
// and returns the warning that lists what it skipped (exit status 1).
func dumpDamaged(ctx context.Context, dir string, cause error, after uint64, f *eventFilter, p *eventPrinter, out *bufio.Writer) error {
	warn := walkDamaged(ctx, dir, cause, after, func(ev *batpak.StoredEvent) error {
		if !f.matchAll(ev) {
			return nil
		}
		return p.print(out, ev)
	})
	return errors.Join(out.Flush(), warn)
}

// eventFilter is the filter flags shared by dump and tail. The entity,
// scope and kind narrow the store's query; the times and correlation are
// checked on each event read.
type eventFilter struct {
	entity, kinds, since, until, correlation string
	scopes                                   scopeFlag

	region      batpak.Region
	from, to    int64 // µs since the epoch; to is exclusive; 0 means unbounded
	correlated  batpak.ID
	hasCorrelID bool
}

func (f *eventFilter) register(fs *flag.FlagSet) {
	fs.StringVar(&f.entity, "entity", "", "only `ENTITY`; a trailing * makes it a prefix (player:*)")
	fs.Var(&f.scopes, "scope", "only events in `SCOPE`; a trailing * makes it a prefix (zone:1/*); repeat it for any of several")
	fs.StringVar(&f.kinds, "kind", "", "only these comma-separated `KINDS`, by number or name, e.g. 0x1001 or 0x1001,player.moved")
	fs.StringVar(&f.since, "since", "", "only events at or after `TIME` (RFC 3339, e.g. 2025-11-25T19:00:00Z)")
	fs.StringVar(&f.until, "until", "", "only events before `TIME` (RFC 3339)")
	fs.StringVar(&f.correlation, "correlation", "", "only events of the workflow with correlation `ID`")
}

// parse checks the flags and builds the region; errors are usage errors.
// A kind may be named by a name the store keeps (names).
func (f *eventFilter) parse(names kinds.Table) error {
	if f.entity != "" {
		f.region = f.region.WithEntity(f.entity)
	}
	if len(f.scopes) > 0 {
		f.region = f.region.WithScopes(f.scopes...)
	}
	if f.kinds != "" {
		var ks []batpak.EventKind
		for part := range strings.SplitSeq(f.kinds, ",") {
			k, err := parseKind(strings.TrimSpace(part), names)
			if err != nil {
				return usagef("--kind: %v", err)
			}
			ks = append(ks, k)
		}
		if len(ks) == 1 {
			f.region = f.region.WithKind(ks[0])
		} else {
			f.region = f.region.WithKinds(event.KindSet(ks...))
		}
	}
	for _, t := range []struct {
		flag, val string
		dst       *int64
	}{{"since", f.since, &f.from}, {"until", f.until, &f.to}} {
		if t.val == "" {
			continue
		}
		tm, err := time.Parse(time.RFC3339, t.val)
		if err != nil {
			return usagef("--%s: %q is not an RFC 3339 time such as 2025-11-25T19:00:00Z", t.flag, t.val)
		}
		*t.dst = tm.UnixMicro()
	}
	if f.from != 0 && f.to != 0 && f.to <= f.from {
		return usagef("--until %s is not after --since %s", f.until, f.since)
	}
	if f.correlation != "" {
		id, err := event.ParseID(f.correlation)
		if err != nil {
			return usagef("--correlation: %v", err)
		}
		f.correlated, f.hasCorrelID = id, true
	}
	return nil
}

// scopeFlag is --scope, which may be given more than once: the events of
// any of the scopes (a set the store's index serves as one region).
type scopeFlag []string

func (f *scopeFlag) String() string { return strings.Join(*f, " ") }

func (f *scopeFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty scope")
	}
	*f = append(*f, s)
	return nil
}

// parseKind reads a kind as a number (0x1001, 4097), as category:type
// (0x1:0x001, the form EventKind.String prints) or as a name the store
// keeps (a kind name starts with a letter, a number never does).
func parseKind(s string, names kinds.Table) (batpak.EventKind, error) {
	if kinds.CheckName(s) == nil {
		if k, ok := names.Kind(s); ok {
			return k, nil
		}
		return 0, fmt.Errorf("%q is not a kind name this store keeps (%d known)", s, len(names))
	}
	if cat, typ, ok := strings.Cut(s, ":"); ok {
		c, err1 := strconv.ParseUint(cat, 0, 4)
		t, err2 := strconv.ParseUint(typ, 0, 12)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("%q is not a kind: want category:type with 4 and 12 bits, e.g. 0x1:0x001", s)
		}
		return batpak.EventKind(c<<12 | t), nil
	}
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil {
		return 0, fmt.Errorf("%q is not a 16-bit kind such as 0x1001", s)
	}
	return batpak.EventKind(v), nil
}

// matchAll applies every filter to ev, the region's included: for events
// read without the store's queries (from a damaged store).
func (f *eventFilter) matchAll(ev *batpak.StoredEvent) bool {
	return f.region.Matches(ev.Coordinate, ev.Kind, ev.Sequence) && f.match(ev)
}

// match applies the checks the query cannot (with --correlation, all of
// them: that query is by correlation alone).
func (f *eventFilter) match(ev *batpak.StoredEvent) bool {
	r := f.region
	return (!f.hasCorrelID || r.Matches(ev.Coordinate, ev.Kind, ev.Sequence)) &&
		(f.from == 0 || ev.Timestamp >= f.from) &&
		(f.to == 0 || ev.Timestamp < f.to) &&
		(!f.hasCorrelID || ev.Correlation == f.correlated)
}

// eventPrinter prints events as text lines or JSON lines. Payloads are
// decoded: MessagePack into generic values, JSON as stored; raw payloads
// are shown in base64 or hex.
type eventPrinter struct {
	json     bool
	rawBytes string
	names    kinds.Table // the store's kind names: printed instead of numbers
}

func (p *eventPrinter) register(fs *flag.FlagSet) {
	fs.BoolVar(&p.json, "json", false, "print one JSON object per event")
	fs.StringVar(&p.rawBytes, "bytes", "base64", "show raw payloads in `FORM`: base64 or hex")
}

func (p *eventPrinter) parse() error {
	if p.rawBytes != "base64" && p.rawBytes != "hex" {
		return usagef("--bytes %q: want base64 or hex", p.rawBytes)
	}
	return nil
}

// jsonEvent is one line of --json output.
type jsonEvent struct {
	Global          uint64 `json:"global"`
	ID              string `json:"id"`
	Entity          string `json:"entity"`
	Scope           string `json:"scope"`
	Sequence        uint64 `json:"sequence"`
	Kind            string `json:"kind"`
	KindName        string `json:"kind_name,omitempty"` // when the store keeps one
	Time            string `json:"time"`
	Correlation     string `json:"correlation"`
	Causation       string `json:"causation,omitempty"`
	IdempotencyKey  string `json:"idempotency_key,omitempty"`
	Flags           uint16 `json:"flags,omitempty"`
	Hash            string `json:"hash,omitempty"`
	Codec           string `json:"codec"`
	PayloadVersion  uint32 `json:"payload_version,omitempty"` // 0: unversioned
	Payload         any    `json:"payload"`
	PayloadEncoding string `json:"payload_encoding,omitempty"` // raw payloads only: base64 or hex
	PayloadError    string `json:"payload_error,omitempty"`
}

func (p *eventPrinter) print(w io.Writer, ev *batpak.StoredEvent) error {
	payload, perr := p.payload(ev)
	if p.json {
		je := jsonEvent{
			Global: ev.Global, ID: ev.ID.String(), Entity: ev.Coordinate.Entity(), Scope: ev.Coordinate.Scope(),
			Sequence: ev.Sequence, Kind: kindString(ev.Kind), KindName: p.names[ev.Kind], Time: timeString(ev.Timestamp),
			Correlation: ev.Correlation.String(), IdempotencyKey: ev.IdempotencyKey, Flags: ev.Flags,
			Codec: ev.Codec.String(), PayloadVersion: ev.PayloadVersion, Payload: payload,
		}
		if !ev.Causation.IsZero() {
			je.Causation = ev.Causation.String()
		}
		if ev.Hash.Self != ([32]byte{}) {
			je.Hash = hex.EncodeToString(ev.Hash.Self[:])
		}
		if ev.Codec == batpak.Raw {
			je.PayloadEncoding = p.rawBytes
		}
		if perr != nil {
			je.PayloadError = perr.Error()
		}
		b, err := json.Marshal(je)
		if err != nil {
			return fmt.Errorf("event %v: %w", ev.ID, err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s seq=%d kind=%s id=%s", ev.Global, timeString(ev.Timestamp), ev.Coordinate,
		ev.Sequence, p.names.Label(ev.Kind), ev.ID)
	if ev.PayloadVersion != 0 {
		fmt.Fprintf(&b, " v%d", ev.PayloadVersion)
	}
	if ev.Correlation != ev.ID {
		fmt.Fprintf(&b, " corr=%s", ev.Correlation)
	}
	if !ev.Causation.IsZero() {
		fmt.Fprintf(&b, " cause=%s", ev.Causation)
	}
	if ev.IdempotencyKey != "" {
		fmt.Fprintf(&b, " key=%q", ev.IdempotencyKey)
	}
	switch {
	case errors.Is(perr, batpak.ErrShredded):
		b.WriteString(" payload shredded")
	case errors.Is(perr, batpak.ErrSealed):
		fmt.Fprintf(&b, " %s payload sealed (encrypted)", ev.Codec)
	case perr != nil:
		fmt.Fprintf(&b, " %s payload (%d bytes) does not decode: %v", ev.Codec, len(ev.Payload), perr)
	case ev.Codec == batpak.Raw:
		fmt.Fprintf(&b, " raw:%s:%s", p.rawBytes, payload)
	default:
		j, err := json.Marshal(payload)
		if err != nil {
			fmt.Fprintf(&b, " %s payload: %v", ev.Codec, err)
		} else {
			fmt.Fprintf(&b, " %s", j)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// payload returns the event's payload in a form encoding/json can print.
// An encrypted store's payload is shredded, or sealed (the command opens
// stores without their key): the error says which.
func (p *eventPrinter) payload(ev *batpak.StoredEvent) (any, error) {
	if ev.PayloadErr != nil {
		return nil, ev.PayloadErr
	}
	switch ev.Codec {
	case batpak.Raw:
		if p.rawBytes == "hex" {
			return hex.EncodeToString(ev.Payload), nil
		}
		return base64.StdEncoding.EncodeToString(ev.Payload), nil
	case batpak.JSON:
		// Kept as stored: decoding into any would round integers past 2^53.
		if !json.Valid(ev.Payload) {
			return nil, fmt.Errorf("invalid JSON")
		}
		return json.RawMessage(ev.Payload), nil
	}
	var v any
	if err := ev.Decode(&v); err != nil {
		if ev.Codec != batpak.MsgPack {
			return nil, err
		}
		// A map with keys other than strings: decode maps as map[any]any.
		dec := msgpack.NewDecoder(bytes.NewReader(ev.Payload))
		dec.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeUntypedMap() })
		if dec.Decode(&v) != nil {
			return nil, err
		}
	}
	return textview.JSONable(v, nil), nil
}

// timeString prints µs since the epoch as RFC 3339 in UTC.
func timeString(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}
