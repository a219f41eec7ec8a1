package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// verifyFlags declares the verify command: every frame's CRC, the log's
// structure and order, and every entity's sequence and hash chain, read
// without taking the store's lock. Damage exits 1 and names the segment
// and offset of the first problem (with --all, of every problem).
func verifyFlags(fs *flag.FlagSet) action {
	progress := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal (on a terminal it is shown anyway)")
	all := fs.Bool("all", false, "go on after each problem and list them all, instead of stopping at the first")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		dir, err := oneDir(args)
		if err != nil {
			return err
		}
		return verify(ctx, dir, *progress, *all, stdout, stderr)
	}
}

func verify(ctx context.Context, dir string, forceProgress, all bool, stdout, stderr io.Writer) error {
	if err := reader.CheckDir(vfs.OS, dir); err != nil {
		return err // a batpak-rust store, say: the error names batpak import
	}
	segs, err := listSegmentFiles(dir)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		return fmt.Errorf("%s is not a batpak store: it holds no segment files", dir)
	}
	var bar *progressBar
	if term := isTerminal(stderr); term || forceProgress {
		bar = &progressBar{w: stderr, inPlace: term}
	}
	var onProgress func(done, total int64)
	if bar != nil {
		onProgress = bar.update
	}
	// What batpak.VerifyDir does, with the option to go on after problems.
	rep, err := reader.VerifyWith(ctx, vfs.OS, dir, reader.VerifyOptions{Progress: onProgress, All: all})
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checked %s: %s, %s, %s, %s, %s, in %v\n",
		dir, plural(rep.Segments, "segment"), sizeString(rep.Bytes), plural(rep.Events, "event"),
		plural(rep.Entities, "entity"), plural(rep.ChainsVerified, "hash link"), rep.Duration.Round(time.Millisecond))
	if rep.ChainRestarts > 0 {
		fmt.Fprintf(stdout, "note: %s restart where earlier events of the entity are gone (dropped by retention in a compaction, or lost to damage before a salvage): those links cannot be checked.\n",
			plural(rep.ChainRestarts, "hash chain"))
	}
	if rep.Tombstones > 0 {
		fmt.Fprintf(stdout, "note: %s written by compaction: their own hashes are taken as stored (their payloads are gone); the links after them are checked.\n",
			plural(rep.Tombstones, "tombstone"))
	}
	if rep.TornTail {
		fmt.Fprintln(stdout, "note: the last segment ends in a torn tail (a write cut short, or one in progress if a process has the store open); Open truncates a torn tail. Not a problem.")
	}
	modes, err := checkModes(dir)
	if err != nil {
		return err
	}
	modes.writeNote(stdout)
	if len(rep.UnusedSegments) > 0 {
		fmt.Fprintf(stdout, "note: %s at the end without a valid header (being created, or cut short by a crash: Open removes it). Not a problem.\n",
			plural(len(rep.UnusedSegments), "segment file"))
	}
	if rep.OK() {
		fmt.Fprintln(stdout, "OK")
		return nil
	}
	chain := false
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "PROBLEM at %s\n  %v\n", problemLocation(p), p)
		chain = chain || errors.Is(p, batpak.ErrChainBroken)
	}
	if chain {
		fmt.Fprintln(stdout, "(a hash chain or entity sequence that does not verify: an event was altered, lost, reordered or copied in)")
	}
	where := problemLocation(rep.Problem)
	if !all {
		fmt.Fprintln(stdout, "verification stops at the first problem; events before it checked out (--all goes on and lists every problem).")
	} else {
		fmt.Fprintf(stdout, "%s found.\n", plural(len(rep.Problems), "problem"))
	}
	fmt.Fprintf(stdout, "\"batpak salvage %s NEWDIR\" copies every intact event into a new store and reports what was lost.\n", dir)
	if all {
		return fmt.Errorf("%w: %d, the first at %s", errProblems, len(rep.Problems), where)
	}
	return fmt.Errorf("%w: first at %s", errProblems, where)
}

// errProblems is returned when a check found damage; the command exits 1.
var errProblems = errors.New("problems found")

// problemLocation names the segment and offset of a problem when the
// error carries them.
func problemLocation(err error) string {
	var ce *batpak.CorruptionError
	if errors.Is(err, reader.ErrMissingSegment) {
		return "a missing segment file"
	}
	if !errors.As(err, &ce) {
		return "an unknown location"
	}
	return fmt.Sprintf("segment %016x (file %s), offset %d", ce.Segment, segment.FileName(ce.Segment), ce.Offset)
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws verification progress: in place on a terminal, one
// line per update otherwise. Updates closer than every (100 ms if zero)
// to the last one drawn are skipped, except the final one. A nil
// *progressBar does nothing.
type progressBar struct {
	w       io.Writer
	inPlace bool
	label   string // what is in progress; "verify" if empty
	every   time.Duration
	shown   time.Time
	drawn   bool
}

const barWidth = 30

func (p *progressBar) update(done, total int64) {
	if p == nil || total <= 0 {
		return
	}
	now := time.Now()
	every := p.every
	if every == 0 {
		every = 100 * time.Millisecond
	}
	if done < total && now.Sub(p.shown) < every {
		return
	}
	p.shown, p.drawn = now, true
	frac := min(float64(done)/float64(total), 1)
	label := p.label
	if label == "" {
		label = "verify"
	}
	if !p.inPlace {
		fmt.Fprintf(p.w, "%s: %3.0f%% (%s of %s)\n", label, frac*100, shortSize(done), shortSize(total))
		return
	}
	full := int(frac * barWidth)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %s of %s\x1b[K", label, strings.Repeat("=", full),
		strings.Repeat(" ", barWidth-full), frac*100, shortSize(done), shortSize(total))
}

// finish clears an in-place bar so that the report starts on a clean line.
func (p *progressBar) finish() {
	if p != nil && p.inPlace && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func shortSize(n int64) string {
	s := sizeString(n)
	if i := strings.Index(s, " ("); i >= 0 {
		return s[:i]
	}
	return s
}

// plural prints a count with its noun: "1 segment", "2 segments", "3 entities",
// "4 batches".
func plural(n int, noun string) string {
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "y"):
		noun = noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"), strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"):
		noun += "es"
	default:
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}
