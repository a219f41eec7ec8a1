package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/salvage"
	"github.com/batpak-go/batpak/vfs"
)

// inspectFlags declares the inspect command: a summary of a store, read
// without taking its lock.
func inspectFlags(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		dir, err := oneDir(args)
		if err != nil {
			return err
		}
		sum, err := inspect(ctx, dir, stderr)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(sum)
		} else {
			err = sum.write(stdout)
		}
		if err == nil && sum.Damage != nil {
			err = fmt.Errorf("%w: the store is damaged; \"batpak salvage %s NEWDIR\" copies every intact event into a new store", errProblems, dir)
		}
		return err
	}
}

// oneDir returns the one positional argument, the store directory.
func oneDir(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("missing the store directory")
	case 1:
		return args[0], nil
	}
	return "", usagef("want one store directory, got %d arguments: %q", len(args), args)
}

// openStore opens the store in dir read-only: no lock is taken, so a
// process writing to it is not disturbed. The store's own warnings go to
// stderr. A directory holding neither segments nor a lock file is refused,
// so a mistyped path is not reported as an empty store.
func openStore(dir string, stderr io.Writer) (*batpak.Store, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	if err := reader.CheckDir(vfs.OS, dir); err != nil {
		return nil, err // a batpak-rust store, say: the error names batpak import
	}
	segs, err := listSegmentFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
			return nil, fmt.Errorf("%s is not a batpak store: it holds no segment files", dir)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := batpak.OpenReadOnly(dir, batpak.WithLogger(log))
	return s, verifyHint(err, dir)
}

// verifyHint adds to damage found while reading a store that the verify
// command checks all of it.
func verifyHint(err error, dir string) error {
	if errors.Is(err, batpak.ErrCorrupt) {
		return fmt.Errorf("%w\n(\"batpak verify %s\" checks the whole store)", err, dir)
	}
	return err
}

// segmentFile is one segment file as found in the directory.
type segmentFile struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

// listSegmentFiles lists dir's segment files in log order (their names are
// fixed-width hex ids, so name order is id order).
func listSegmentFiles(dir string) ([]segmentFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []segmentFile
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".seg") || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		segs = append(segs, segmentFile{e.Name(), fi.Size()})
	}
	slices.SortFunc(segs, func(a, b segmentFile) int { return strings.Compare(a.Name, b.Name) })
	return segs, nil
}

// summary is what inspect reports.
type summary struct {
	Dir           string         `json:"dir"`
	Segments      []segmentFile  `json:"segments"`
	SegmentBytes  int64          `json:"segment_bytes"`
	Events        int            `json:"events"`
	Entities      int            `json:"entities"`
	Scopes        int            `json:"scopes"`
	LastGlobal    uint64         `json:"last_global"`
	First         time.Time      `json:"first,omitzero"`
	Last          time.Time      `json:"last,omitzero"`
	PayloadBytes  int64          `json:"payload_bytes"`
	Kinds         []kindCount    `json:"kinds"`
	Codecs        map[string]int `json:"codecs"`
	Checkpoint    string         `json:"checkpoint"` // "used", "none", or "ignored: why"
	CheckpointLen int64          `json:"checkpoint_bytes,omitempty"`
	Recovery      recoveryJSON   `json:"recovery"`
	// From Store.Diagnostics: the log's bytes (without preallocation) and
	// what compaction left in the files.
	LogBytes          int64  `json:"log_bytes"`
	CompactedSegments int    `json:"compacted_segments"`
	RetentionDropped  uint64 `json:"retention_dropped"`
	// OpenError and Damage are set when the store is damaged: it does not
	// open (or a read met the damage), the counts above are of the intact
	// events as batpak salvage would keep them, and Damage says what is
	// lost.
	OpenError string          `json:"open_error,omitempty"`
	Damage    *salvage.Report `json:"damage,omitempty"`
	// Files and directories open to group or other users.
	Modes modesReport `json:"modes"`
}

type kindCount struct {
	Kind  string `json:"kind"`
	Name  string `json:"name,omitempty"` // when the store keeps one
	Count int    `json:"count"`
	// Versions counts the events by payload version ("0": unversioned),
	// when any is versioned: how many events of old shapes remain.
	Versions map[string]int `json:"payload_versions,omitempty"`
}

// recoveryJSON is the recovery report in JSON form; Text is its one-line
// summary.
type recoveryJSON struct {
	Text            string   `json:"text"`
	Torn            bool     `json:"torn"`
	TornSegment     uint64   `json:"torn_segment,omitempty"`
	TruncatedAt     int64    `json:"truncated_at,omitempty"`
	TruncatedBytes  int64    `json:"truncated_bytes,omitempty"`
	TornReason      string   `json:"torn_reason,omitempty"`
	DiscardedBatch  bool     `json:"discarded_batch,omitempty"`
	UnusedSegments  []uint64 `json:"unused_trailing_segments,omitempty"`
	DurationMicros  int64    `json:"duration_us"`
	CheckpointUsed  bool     `json:"checkpoint_used"`
	CheckpointWhyNo string   `json:"checkpoint_ignored,omitempty"`
}

// inspect opens the store read-only and reads every event once to count
// kinds, codecs and payload bytes; the other counts come from Stats.
func inspect(ctx context.Context, dir string, stderr io.Writer) (*summary, error) {
	s, err := openStore(dir, stderr)
	if isDamage(err) {
		sum, err := inspectDamaged(ctx, dir, err, stderr)
		if err == nil {
			sum.Modes, err = checkModes(dir)
		}
		return sum, err
	}
	if err != nil {
		return nil, err
	}
	defer s.Close()
	diag := s.Diagnostics()
	st := diag.Stats
	rep := st.Recovery
	sum := &summary{
		Dir: dir, Events: st.Events, Entities: st.Entities, Scopes: st.Scopes, LastGlobal: st.LastGlobal,
		Codecs: map[string]int{}, LogBytes: diag.Bytes,
		CompactedSegments: rep.CompactedSegments, RetentionDropped: rep.RetentionDropped,
		Recovery: recoveryJSON{
			Text: rep.String(), Torn: rep.Torn, TornSegment: rep.TornSegment, TruncatedAt: rep.TruncatedAt,
			TruncatedBytes: rep.TruncatedBytes, TornReason: rep.TornReason, DiscardedBatch: rep.DiscardedBatch,
			UnusedSegments: rep.RemovedSegments, DurationMicros: rep.Duration.Microseconds(),
			CheckpointUsed: rep.Checkpoint, CheckpointWhyNo: rep.CheckpointIgnored,
		},
	}
	if sum.Segments, err = listSegmentFiles(dir); err != nil {
		return nil, err
	}
	if sum.Modes, err = checkModes(dir); err != nil {
		return nil, err
	}
	for _, f := range sum.Segments {
		sum.SegmentBytes += f.Bytes
	}
	sum.Checkpoint = "none"
	if fi, err := os.Stat(filepath.Join(dir, reader.CheckpointFile)); err == nil {
		sum.CheckpointLen = fi.Size()
		sum.Checkpoint = "present, not used"
	}
	switch {
	case rep.Checkpoint:
		sum.Checkpoint = "used"
	case rep.CheckpointIgnored != "":
		sum.Checkpoint = "ignored: " + rep.CheckpointIgnored
	}
	kinds := kindTally{}
	for ev, err := range s.Query(ctx, batpak.Region{}) {
		if isDamage(err) {
			return inspectDamaged(ctx, dir, err, stderr) // a checkpoint let Open skip the damage
		}
		if err != nil {
			return nil, verifyHint(err, dir)
		}
		sum.tally(ev, kinds)
	}
	sum.sortKinds(kinds, readKindNames(dir, stderr))
	return sum, nil
}

// kindTally counts events by kind and payload version.
type kindTally map[batpak.EventKind]map[uint32]int

// tally counts one event's kind, codec, payload and time.
func (sum *summary) tally(ev *batpak.StoredEvent, kinds kindTally) {
	if kinds[ev.Kind] == nil {
		kinds[ev.Kind] = map[uint32]int{}
	}
	kinds[ev.Kind][ev.PayloadVersion]++
	sum.Codecs[ev.Codec.String()]++
	sum.PayloadBytes += int64(len(ev.Payload))
	t := time.UnixMicro(ev.Timestamp).UTC()
	if sum.First.IsZero() {
		sum.First = t
	}
	sum.Last = t
}

func (sum *summary) sortKinds(tally kindTally, names kinds.Table) {
	for _, k := range slices.Sorted(maps.Keys(tally)) {
		kc := kindCount{Kind: kindString(k), Name: names[k]}
		for v, n := range tally[k] {
			kc.Count += n
			if v != 0 || len(tally[k]) > 1 {
				if kc.Versions == nil {
					kc.Versions = map[string]int{}
				}
				kc.Versions[strconv.FormatUint(uint64(v), 10)] = n
			}
		}
		sum.Kinds = append(sum.Kinds, kc)
	}
}

// inspectDamaged summarises a store that is damaged: the intact events,
// read as batpak salvage reads them (without writing anything), and what
// is lost.
func inspectDamaged(ctx context.Context, dir string, cause error, stderr io.Writer) (*summary, error) {
	sum := &summary{Dir: dir, Codecs: map[string]int{}, OpenError: damageCause(cause)}
	var err error
	if sum.Segments, err = listSegmentFiles(dir); err != nil {
		return nil, err
	}
	for _, f := range sum.Segments {
		sum.SegmentBytes += f.Bytes
	}
	kinds := kindTally{}
	entities, scopes := map[string]bool{}, map[string]bool{}
	rep, err := salvage.Walk(ctx, dir, salvage.Options{}, func(ev *batpak.StoredEvent) error {
		sum.Events++
		sum.LastGlobal = ev.Global
		entities[ev.Coordinate.Entity()] = true
		scopes[ev.Coordinate.Scope()] = true
		sum.tally(ev, kinds)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sum.sortKinds(kinds, readKindNames(dir, stderr))
	sum.Entities, sum.Scopes = len(entities), len(scopes)
	sum.Checkpoint = rep.Checkpoint
	sum.Recovery.Text = "damaged: " + sum.OpenError
	sum.Damage = rep
	return sum, nil
}

// write prints the summary as aligned text.
func (sum *summary) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("store\t%s", sum.Dir)
	p("segments\t%d, %s", len(sum.Segments), sizeString(sum.SegmentBytes))
	for i, f := range sum.Segments {
		note := ""
		if i == len(sum.Segments)-1 {
			note = " (the last; a writer preallocates it while open)"
		}
		p("  %s\t%s%s", f.Name, sizeString(f.Bytes), note)
	}
	p("events\t%d (last global sequence %d)", sum.Events, sum.LastGlobal)
	if sum.Events > 0 {
		p("  bytes/event\t%.1f on disk, %.1f of payload", float64(sum.SegmentBytes)/float64(sum.Events),
			float64(sum.PayloadBytes)/float64(sum.Events))
		p("  first\t%s", sum.First.Format(time.RFC3339Nano))
		p("  last\t%s", sum.Last.Format(time.RFC3339Nano))
	}
	p("entities\t%d", sum.Entities)
	p("scopes\t%d", sum.Scopes)
	p("kinds\t%d", len(sum.Kinds))
	for _, k := range sum.Kinds {
		label := k.Kind
		if k.Name != "" {
			label = k.Name + " (" + k.Kind + ")"
		}
		p("  %s\t%d%s", label, k.Count, versionsString(k.Versions))
	}
	codecs := slices.Sorted(maps.Keys(sum.Codecs))
	parts := make([]string, len(codecs))
	for i, c := range codecs {
		parts[i] = fmt.Sprintf("%s %d", c, sum.Codecs[c])
	}
	p("codecs\t%s", strings.Join(parts, ", "))
	cp := sum.Checkpoint
	if sum.CheckpointLen > 0 {
		cp += fmt.Sprintf(" (%s)", shortSize(sum.CheckpointLen))
	}
	p("checkpoint\t%s", cp)
	p("recovery\t%s", sum.Recovery.Text)
	if sum.CompactedSegments > 0 {
		p("compaction\t%d compacted segment(s), %d event(s) dropped by retention", sum.CompactedSegments, sum.RetentionDropped)
	}
	p("modes\t%s", sum.Modes.summary())
	if err := tw.Flush(); err != nil {
		return err
	}
	if sum.Damage != nil {
		fmt.Fprintf(w, "DAMAGED: the counts above are of the intact events; events lost: %s\n", sum.Damage.Lost)
		return sum.Damage.WriteProblems(w)
	}
	return nil
}

// versionsString prints a kind's counts by payload version, if any.
func versionsString(vs map[string]int) string {
	if len(vs) == 0 {
		return ""
	}
	keys := slices.SortedFunc(maps.Keys(vs), func(a, b string) int { // numerically
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	parts := make([]string, len(keys))
	for i, v := range keys {
		parts[i] = fmt.Sprintf("v%s: %d", v, vs[v])
	}
	return " (payload " + strings.Join(parts, ", ") + ")"
}

// kindString prints a kind as --kind takes it.
func kindString(k batpak.EventKind) string { return fmt.Sprintf("0x%04x", uint16(k)) }

// sizeString prints a byte count in binary units, exact below 1 KiB.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", v, "KMGTP"[i], n)
}
