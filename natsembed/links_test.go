package natsembed_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/jetstream"
	"github.com/batpak-go/batpak/segment"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Entity reads follow the links every event carries to earlier events of
// its entity (jetstream/links.go). These tests read entities written every
// way the store writes — single appends, batches holding several events of
// one entity, two clients — and compare each read with a scan of the whole
// stream; and they make links lie, which must cost a read, never an event.

const (
	kindA = event.EventKind(0x1001)
	kindB = event.EventKind(0x1002)
)

// writeMixed appends n events over entities e0..e3 in two scopes and two
// kinds from two clients: single appends, conditional appends and batches
// with several events of one entity.
func writeMixed(t *testing.T, a, b *jetstream.Store, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	coord := func() batpak.Coordinate {
		i := rng.IntN(4)
		return event.MustCoordinate(fmt.Sprintf("e%d", i), fmt.Sprintf("s%d", i%2))
	}
	kind := func() event.EventKind { return []event.EventKind{kindA, kindB}[rng.IntN(2)] }
	for written := 0; written < n; {
		s := []*jetstream.Store{a, b}[rng.IntN(2)]
		switch rng.IntN(3) {
		case 0:
			_, err := s.Append(ctx, coord(), kind(), written)
			require.NoError(t, err)
			written++
		case 1:
			c := coord()
			next := uint64(0)
			if ev, err := s.Latest(ctx, c.Entity()); err == nil {
				next = ev.Sequence + 1
			}
			_, err := s.AppendWithOptions(ctx, c, kind(), written, event.Expect(next))
			require.NoError(t, err)
			written++
		default:
			items := make([]batpak.BatchItem, 2+rng.IntN(6))
			for i := range items {
				items[i] = batpak.BatchItem{Coord: coord(), Kind: kind(), Payload: written + i}
			}
			_, err := s.AppendBatch(ctx, items)
			require.NoError(t, err)
			written += len(items)
		}
	}
}

func collect(t *testing.T, seq func(func(*batpak.StoredEvent, error) bool)) []*batpak.StoredEvent {
	t.Helper()
	var out []*batpak.StoredEvent
	for ev, err := range seq {
		require.NoError(t, err)
		out = append(out, ev)
	}
	return out
}

// scanTruth is region r's events with a global sequence in (after,
// through], picked from a read of the whole stream.
func scanTruth(all []*batpak.StoredEvent, r batpak.Region, after, through uint64) []batpak.ID {
	var out []batpak.ID
	for _, ev := range all {
		if ev.Global > after && (through == 0 || ev.Global <= through) && r.Matches(ev.Coordinate, ev.Kind, ev.Sequence) {
			out = append(out, ev.ID)
		}
	}
	return out
}

func idsOf(evs []*batpak.StoredEvent) []batpak.ID {
	var out []batpak.ID
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

// TestEntityReads compares entity reads — Stream, kind and sequence
// ranges, QueryAfter, bounded projection scans — with a scan of the whole
// stream, on events written by two clients in every way the store writes.
// A read of one kind of an entity has every event's chain checked against
// its predecessor's even where that is of the other kind (Hash.Prev is
// filled), which only a read that follows the links can do: a scan filtered
// by kind never sees the predecessor.
func TestEntityReads(t *testing.T) {
	srv := startServer(t)
	o := jetstream.Options{Stream: "ER", Subject: "er"}
	a := openStore(t, connect(t, srv), o)
	b := openStore(t, connect(t, srv), o)
	writeMixed(t, a, b, 600)
	ctx := context.Background()
	all := collect(t, a.Query(ctx, event.AllEvents()))
	require.GreaterOrEqual(t, len(all), 600)
	head := all[len(all)-1].Global
	rng := rand.New(rand.NewPCG(3, 4))
	for e := range 4 {
		entity := fmt.Sprintf("e%d", e)
		r := event.ForEntity(entity)
		got := collect(t, b.Stream(ctx, entity))
		require.Equal(t, scanTruth(all, r, 0, 0), idsOf(got), "Stream(%s)", entity)
		for i, ev := range got {
			require.Equal(t, uint64(i), ev.Sequence)
		}

		kinds := r.WithKind(kindB)
		got = collect(t, a.Query(ctx, kinds))
		require.Equal(t, scanTruth(all, kinds, 0, 0), idsOf(got), "Query(%s, kind B)", entity)
		bySeq := map[uint64]*batpak.StoredEvent{}
		for _, ev := range all {
			if ev.Coordinate.Entity() == entity {
				bySeq[ev.Sequence] = ev
			}
		}
		for _, ev := range got {
			if ev.Sequence > 0 {
				require.Equal(t, bySeq[ev.Sequence-1].Hash.Self, ev.Hash.Prev,
					"%s sequence %d: chain not checked across kinds", entity, ev.Sequence)
			}
		}

		for range 10 {
			after := uint64(rng.IntN(int(head)))
			rr := r
			if rng.IntN(2) == 0 {
				lo := uint64(rng.IntN(len(bySeq)))
				rr = r.WithSequence(lo, lo+uint64(rng.IntN(100)))
			}
			got = collect(t, a.QueryAfter(ctx, rr, after))
			require.Equal(t, scanTruth(all, rr, after, 0), idsOf(got), "QueryAfter(%s, %d)", entity, after)

			through := after + 1 + uint64(rng.IntN(int(head-after)))
			var scanned []*batpak.StoredEvent
			require.NoError(t, b.ProjectionLog().Scan(ctx, rr, after, through, func(ev *batpak.StoredEvent) error {
				scanned = append(scanned, ev)
				return nil
			}))
			require.Equal(t, scanTruth(all, rr, after, through), idsOf(scanned), "Scan(%s, %d, %d)", entity, after, through)
		}
	}
	rep, err := a.Verify(ctx)
	require.NoError(t, err)
	require.NoError(t, rep.Problem, "links written by two clients, in batches and alone, name the right events")
}

// TestEntityLinksLie stores an event whose links name the wrong messages —
// another entity's events, and another event of its own entity — as a
// client with a bug might, then appends after it (the store builds the
// next event's links on the lying ones) and reads the entity: every read
// returns what a scan returns, and Verify reports the links.
func TestEntityLinksLie(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	o := jetstream.Options{Stream: "LIE", Subject: "lie"}
	s := openStore(t, nc, o)
	ctx := context.Background()
	for i := range 40 {
		for _, e := range []string{"victim", "other"} {
			_, err := s.Append(ctx, event.MustCoordinate(e, "s"), kindA, i)
			require.NoError(t, err)
		}
	}
	all := collect(t, s.Query(ctx, event.AllEvents()))
	var others, victims []uint64
	for _, ev := range all {
		if ev.Coordinate.Entity() == "other" {
			others = append(others, ev.Global)
		} else {
			victims = append(victims, ev.Global)
		}
	}
	// Event 40 links to 39, 32, 0 (linkSeqs): name other's events instead
	// of 39 and 0, and victim's event 31 instead of 32.
	lie := fmt.Sprintf("%d,%d,%d", others[39], others[39]-victims[31], victims[31]-others[0])
	latest, err := s.Latest(ctx, "victim")
	require.NoError(t, err)
	forge(t, nc, o.Subject, latest, lie)
	// A new client (the old one caches the entity) appends on top of it.
	s2 := openStore(t, connect(t, srv), o)
	for i := range 5 {
		_, err := s2.Append(ctx, event.MustCoordinate("victim", "s"), kindA, 100+i)
		require.NoError(t, err)
	}
	all = collect(t, s.Query(ctx, event.AllEvents()))
	r := event.ForEntity("victim")
	got := collect(t, s.Stream(ctx, "victim"))
	require.Equal(t, scanTruth(all, r, 0, 0), idsOf(got))
	require.Len(t, got, 46)
	for i, ev := range got {
		require.Equal(t, "victim", ev.Coordinate.Entity())
		require.Equal(t, uint64(i), ev.Sequence)
	}
	for _, after := range []uint64{0, victims[20], victims[39], all[len(all)-3].Global} {
		require.Equal(t, scanTruth(all, r, after, 0), idsOf(collect(t, s2.QueryAfter(ctx, r, after))), "after %d", after)
	}
	rep, err := s.Verify(ctx)
	require.NoError(t, err)
	require.ErrorIs(t, rep.Problem, batpak.ErrCorrupt)
	assert.Contains(t, rep.Problem.Error(), `entity "victim" sequence 40`)
}

// forge stores, as a raw publish, the next event of latest's entity with
// the entity links links (a correct event otherwise: sequence, chain,
// headers as the store writes them).
func forge(t *testing.T, nc *nats.Conn, prefix string, latest *batpak.StoredEvent, links string) {
	t.Helper()
	id := event.NewID()
	rec := segment.EventRecord{
		ID: id, Correlation: id, Kind: latest.Kind, Sequence: latest.Sequence + 1,
		Entity: latest.Coordinate.Entity(), Scope: latest.Coordinate.Scope(), Codec: event.CodecRaw, Payload: []byte("forged"),
	}
	frame, _ := segment.AppendEvent(nil, &rec, true, latest.Hash.Self)
	m := nats.NewMsg(fmt.Sprintf("%s.%s.%s.%04x", prefix, rec.Scope, rec.Entity, uint16(rec.Kind)))
	m.Data = frame
	m.Header.Set("Bp-Id", id.String())
	m.Header.Set("Bp-Seq", strconv.FormatUint(rec.Sequence, 10))
	m.Header.Set("Bp-Prev", links)
	m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(latest.Global, 10))
	m.Header.Set("Nats-Expected-Last-Subject-Sequence-Subject", fmt.Sprintf("%s.*.%s.*", prefix, rec.Entity))
	resp, err := nc.RequestMsg(m, 5*time.Second)
	require.NoError(t, err)
	var ack struct {
		Seq   uint64          `json:"seq"`
		Error json.RawMessage `json:"error"`
	}
	require.NoError(t, json.Unmarshal(resp.Data, &ack))
	require.Empty(t, ack.Error, "forged publish refused")
	require.NotZero(t, ack.Seq)
}

// TestGetIndexLies rewrites every chunk of the id index so that each pair
// names the wrong stream sequence — the next event's, or one past the end
// of the stream — and reads every event by id from a new client: Get
// checks the event the index names and finds the right one by its
// fallback scan, never returning another event; its repairs make the
// next round of Gets find them through the index again.
func TestGetIndexLies(t *testing.T) {
	srv := startServer(t)
	o := jetstream.Options{Stream: "GETLIE", Subject: "getlie"}
	a := openStore(t, connect(t, srv), o)
	ctx := context.Background()
	var rs []batpak.Receipt
	for i := range 120 {
		r, err := a.Append(ctx, event.MustCoordinate(fmt.Sprintf("e:%d", i%5), "s"), kindA, i)
		require.NoError(t, err)
		rs = append(rs, r)
	}
	require.NoError(t, a.Close()) // writes the last chunk
	head := rs[len(rs)-1].Global

	js, err := njs.New(connect(t, srv))
	require.NoError(t, err)
	kv, err := js.KeyValue(ctx, o.Stream+"_index")
	require.NoError(t, err)
	keys, err := kv.ListKeys(ctx)
	require.NoError(t, err)
	rewritten := 0
	for key := range keys.Keys() {
		if !strings.HasPrefix(key, "t.") {
			continue
		}
		e, err := kv.Get(ctx, key)
		require.NoError(t, err)
		var out []byte
		b := e.Value()
		for len(b) > 16 {
			seq, n := binary.Uvarint(b[16:])
			require.Positive(t, n)
			wrong := seq + 1 // the next event: a real one, another id
			if rewritten%3 == 0 {
				wrong = head + 100 // nothing there
			}
			out = append(out, b[:16]...)
			out = binary.AppendUvarint(out, wrong)
			b = b[16+n:]
			rewritten++
		}
		_, err = kv.Put(ctx, key, out)
		require.NoError(t, err)
	}
	require.Equal(t, len(rs), rewritten, "every pair rewritten")

	b := openStore(t, connect(t, srv), o)
	for round := range 2 {
		for _, r := range rs {
			ev, err := b.Get(ctx, r.ID)
			require.NoError(t, err, "round %d", round)
			require.Equal(t, r.ID, ev.ID, "round %d", round)
			require.Equal(t, r.Global, ev.Global, "round %d", round)
		}
	}
}
