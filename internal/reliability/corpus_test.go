package reliability_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/projector"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// Seed corpora of the fuzz targets, under <package>/testdata/fuzz/<Fuzz…>/
// of the package whose target they feed.
// They are cut from the files a real store writes (so they start the
// fuzzer from valid encodings of every shape: hashed and unhashed events,
// reactions, idempotency keys, each payload codec, batch markers, headers,
// checkpoints, sequence marks, cursor positions, projection cache entries,
// typed events with a payload version, the kind names file)
// plus damaged variants of each. `go test` replays them with every run.
// BATPAK_WRITE_CORPUS=1 regenerates them:
//
//	BATPAK_WRITE_CORPUS=1 go test -count=1 -run TestReliabilityWriteFuzzCorpus ./internal/reliability

// moduleRoot is the module's root directory, relative to this package's
// (go test runs a package's tests in its own directory).
const moduleRoot = "../.."

// fuzzTargets lists every fuzz target with seed corpora: package directory
// (relative to the module root) and target name.
var fuzzTargets = [][2]string{
	{"segment", "FuzzReadFrame"}, {"segment", "FuzzParseEvent"}, {"segment", "FuzzParseMarker"},
	{"segment", "FuzzDecodeHeader"}, {"segment", "FuzzScan"}, {"segment", "FuzzDecodeSyncNote"},
	{"index", "FuzzUnmarshalCheckpoint"}, {"writer", "FuzzReadReservation"},
	{"projector", "FuzzDecodeFile"}, {"subscriber", "FuzzDecodePosition"},
	{"segment", "FuzzDecodeFooter"}, {"kinds", "FuzzUnmarshalTable"},
}

// TestReliabilityFuzzCorporaExist keeps the corpora from going missing:
// each target has seeds in the format `go test` replays.
func TestReliabilityFuzzCorporaExist(t *testing.T) {
	total := 0
	for _, target := range fuzzTargets {
		dir := filepath.Join(moduleRoot, target[0], "testdata", "fuzz", target[1])
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) < 3 {
			t.Errorf("%s: %d seed files (%v); regenerate with BATPAK_WRITE_CORPUS=1", dir, len(entries), err)
			continue
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n[]byte(") {
				t.Errorf("%s/%s is not a `go test fuzz v1` []byte seed", dir, e.Name())
			}
		}
		total += len(entries)
	}
	figure(t, "fuzz seed corpora: %d targets, %d seed files", len(fuzzTargets), total)
}

func TestReliabilityWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("BATPAK_WRITE_CORPUS") == "" {
		t.Skip("set BATPAK_WRITE_CORPUS=1 to regenerate the fuzz seed corpora")
	}
	mem := vfs.NewMem()
	corpusStore(t, mem, memDir, true, false)
	corpusStore(t, mem, "/plain", false, false) // no hash chain: the other event mask
	corpusStore(t, mem, "/compacted", true, true)

	seeds := map[[2]string]map[string][]byte{}
	add := func(pkg, target, name string, b []byte) {
		k := [2]string{pkg, target}
		if seeds[k] == nil {
			seeds[k] = map[string][]byte{}
		}
		seeds[k][name] = slices.Clone(b)
	}
	addDamaged := func(pkg, target, name string, b []byte) {
		add(pkg, target, name, b)
		for dname, d := range damage(b) {
			add(pkg, target, name+"-"+dname, d)
		}
	}

	// Segments: headers, sync notes, frames of every shape, whole logs.
	for _, dir := range []string{memDir, "/plain"} {
		tag := strings.TrimPrefix(dir, "/")
		seen := map[string]bool{} // one frame of each shape, the first (small) one
		for i, name := range segmentFiles(t, mem, dir) {
			data := readFile(t, mem, filepath.Join(dir, name))
			if i < 2 {
				addDamaged("segment", "FuzzDecodeHeader", fmt.Sprintf("%s-seg%d-header", tag, i+1), data[:segment.HeaderSize])
				addDamaged("segment", "FuzzDecodeSyncNote", fmt.Sprintf("%s-seg%d-header", tag, i+1), data[:segment.HeaderSize])
			}
			if i == 0 {
				// Scan gets the bytes after a header with segment id 1: the
				// first records, before the padded ones that fill the segment.
				end := int64(segment.HeaderSize)
				for _, f := range frames(t, data) {
					if f.End-f.Off > 1000 {
						break
					}
					end = f.End
				}
				log := data[segment.HeaderSize:end]
				addDamaged("segment", "FuzzScan", tag+"-log", log)
				add("segment", "FuzzScan", tag+"-log-zero-tail", append(slices.Clone(log), make([]byte, 64)...))
			}
			for _, f := range frames(t, data) {
				body := data[f.Off+segment.FrameHeaderSize : f.End]
				shape := fmt.Sprintf("type%d", f.Typ)
				if f.Typ == segment.TypeEvent {
					shape = fmt.Sprintf("event-mask%02x", body[1])
				}
				if seen[shape] {
					continue
				}
				seen[shape] = true
				name := tag + "-" + shape
				addDamaged("segment", "FuzzReadFrame", name, data[f.Off:f.End])
				if f.Typ == segment.TypeEvent {
					addDamaged("segment", "FuzzParseEvent", name, body)
				} else {
					addDamaged("segment", "FuzzParseMarker", name, body)
				}
			}
		}
	}
	// A sealed segment with its index footer: the compacted store's first,
	// whose padded events compaction dropped, so the file stays small.
	sealed := readFile(t, mem, "/compacted/"+segmentFiles(t, mem, "/compacted")[0])
	if len(sealed) > 8<<10 {
		t.Fatalf("the compacted segment has %d bytes; want a small seed", len(sealed))
	}
	addDamaged("segment", "FuzzDecodeFooter", "compacted-seg1", sealed)
	addDamaged("segment", "FuzzScan", "compacted-seg1-log", sealed[segment.HeaderSize:])
	add("segment", "FuzzReadFrame", "huge-length", []byte{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1})
	add("segment", "FuzzReadFrame", "zero-length", make([]byte, 16))

	// The small files.
	addDamaged("index", "FuzzUnmarshalCheckpoint", "checkpoint", readFile(t, mem, memDir+"/CHECKPOINT"))
	addDamaged("writer", "FuzzReadReservation", "sequence", readFile(t, mem, memDir+"/SEQUENCE"))
	addDamaged("kinds", "FuzzUnmarshalTable", "names", readFile(t, mem, memDir+"/"+kinds.FileName))
	addDamaged("subscriber", "FuzzDecodePosition", "cursor", readFile(t, mem, memDir+"/cursors/corpus"))
	cacheFiles := []string{}
	for _, n := range mustList(t, mem, "/cache") {
		cacheFiles = append(cacheFiles, n)
		addDamaged("projector", "FuzzDecodeFile", fmt.Sprintf("entry%d", len(cacheFiles)), readFile(t, mem, "/cache/"+n))
	}

	written := 0
	for _, target := range fuzzTargets {
		set := seeds[target]
		if len(set) == 0 {
			t.Fatalf("no seeds for %v", target)
		}
		dir := filepath.Join(moduleRoot, target[0], "testdata", "fuzz", target[1])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range set {
			file := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
			written++
		}
		t.Logf("%s: %d seeds", dir, len(set))
	}
	t.Logf("wrote %d seed files for %d targets", written, len(fuzzTargets))
}

// corpusKinds are the corpus store's typed kinds: payload versions 2 and
// 300 (a one- and a two-byte uvarint).
var corpusKinds = []*kinds.Kind[typedStep]{
	kinds.MustDefine[typedStep](kinds.NewRegistry(), "corpus.step", 0x3, 0x001, kinds.Version(2),
		kinds.Upcast(1, func(s typedStep) (typedStep, error) { return s, nil })),
	kinds.MustDefine[typedStep](kinds.NewRegistry(), "corpus.hop", 0x3, 0x002, kinds.Version(300), kinds.Unversioned(300)),
}

// corpusStore writes a small store in dir exercising every record shape,
// and, with the hash chain on, a durable cursor and a projection cache.
// With compact, it ends by compacting the padded events away.
func corpusStore(t *testing.T, mem *vfs.MemFS, dir string, chained, compact bool) {
	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	opts := []batpak.Option{batpak.WithFS(mem), batpak.WithHashChain(chained), batpak.WithSegmentSize(64 << 10),
		batpak.WithClock(func() time.Time { clock = clock.Add(time.Millisecond); return clock })}
	s := openStore(t, dir, opts...)
	a, b := coord(t, "player:1", "room:1"), coord(t, "player:2", "room:2")
	first := mustAppend(t, s, a, kindMoved, payload{N: 1})
	if _, err := s.AppendReaction(bg, b, kindSpoke, payload{N: 2, Note: "hello"}, first.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendWithOptions(bg, a, kindMoved, []byte("raw bytes"), batpak.AppendOptions{IdempotencyKey: "move-3", Flags: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendBatch(bg, []batpak.BatchItem{
		{Coord: a, Kind: kindMarker, Payload: batchMark{Batch: 1, Item: 0, Of: 2}},
		{Coord: b, Kind: kindMarker, Payload: batchMark{Batch: 1, Item: 1, Of: 2}, Cause: batpak.CauseItem(0)},
	}); err != nil {
		t.Fatal(err)
	}
	// Typed events: a payload version, with and without an idempotency
	// key; the kind names file.
	if _, err := batpak.AppendTyped(bg, s, corpusKinds[0], a, typedStep{N: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := batpak.AppendTyped(bg, s, corpusKinds[1], b, typedStep{N: 300}, batpak.AppendOptions{IdempotencyKey: "typed"}); err != nil {
		t.Fatal(err)
	}
	// Fill the first segment so that the store rotates: a second header.
	for i := range 20 {
		mustAppend(t, s, b, kindMoved, batchMark{Batch: -1, Of: 1, Pad: make([]byte, 4000+i)})
	}
	mustAppend(t, s, a, kindMoved, payload{N: 4})
	if compact {
		small := func(ev *batpak.StoredEvent) bool { return len(ev.Payload) < 1000 }
		if _, err := s.Compact(bg, batpak.CompactOptions{Retain: small}); err != nil {
			t.Fatal(err)
		}
		closeStore(t, s)
		return
	}
	if chained {
		cur, err := s.DurableCursor("corpus", event.AllEvents())
		if err != nil {
			t.Fatal(err)
		}
		ev, err := cur.Next(bg)
		if err == nil {
			err = cur.Ack(bg, ev.Global)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.Close(); err != nil {
			t.Fatal(err)
		}
		cache, err := projector.OpenFileCache("/cache", projector.WithFS(mem))
		if err != nil {
			t.Fatal(err)
		}
		for i, sub := range []string{"entity:player:1", ""} {
			k := projector.Key{Name: "position", Version: uint32(i + 1), Subject: sub}
			if err := cache.Put(k, projector.Entry{State: []byte(fmt.Sprintf("state %d", i)), Watermark: uint64(10 + i), CachedAt: clock}); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeStore(t, s)
}

// damage returns damaged variants of b: a flipped byte in the middle, cut
// in half, one byte short, the tail zeroed, garbage appended, and the
// first length-like word set to 0xFFFFFFFF.
func damage(b []byte) map[string][]byte {
	out := map[string][]byte{}
	if len(b) == 0 {
		return out
	}
	flip := slices.Clone(b)
	flip[len(flip)/2] ^= 0x10
	out["flip"] = flip
	out["half"] = slices.Clone(b[:len(b)/2])
	out["short"] = slices.Clone(b[:len(b)-1])
	zero := slices.Clone(b)
	clear(zero[len(zero)*3/4:])
	out["zero-tail"] = zero
	out["garbage"] = append(slices.Clone(b), 0xDE, 0xAD, 0xBE, 0xEF, 0x01)
	if len(b) >= 4 {
		huge := slices.Clone(b)
		binary.LittleEndian.PutUint32(huge, 0xFFFFFFFF)
		out["huge"] = huge
	}
	return out
}

func mustList(t testing.TB, fs vfs.FS, dir string) []string {
	t.Helper()
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}
