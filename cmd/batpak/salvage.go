package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/salvage"
	"github.com/batpak-go/batpak/vfs"
)

// reportFile is the name of the salvage report left in the new store.
const reportFile = "SALVAGE.json"

// salvageFlags declares the salvage command: copy every intact event and
// every whole batch of a damaged store into a new one (package salvage),
// and report what was lost. The source is only read.
func salvageFlags(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print the report as one JSON object (as left in DST/"+reportFile+")")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) != 2 {
			return usagef("want the damaged store SRC and a new directory DST, got %d arguments: %q", len(args), args)
		}
		return runSalvage(ctx, args[0], args[1], *asJSON, stdout)
	}
}

func runSalvage(ctx context.Context, src, dst string, asJSON bool, stdout io.Writer) error {
	if fi, err := os.Stat(src); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", src)
	}
	rep, err := salvage.Run(ctx, src, dst, salvage.Options{})
	if err != nil {
		return err
	}
	// Open the new store as its first writer would, so that it gets its
	// checkpoint and sequence file now, and is known to open.
	s, err := batpak.Open(dst, batpak.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("the new store %s does not open: %w", dst, err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("closing the new store %s: %w", dst, err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := vfs.WriteFileAtomic(vfs.OS, dst, reportFile, b); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if asJSON {
		_, err = stdout.Write(b)
	} else {
		err = rep.WriteText(stdout)
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dst, reportFile))
	}
	if err != nil {
		return err
	}
	if rep.LostSomething() {
		return fmt.Errorf("%w: events lost: %s", errLost, rep.Lost)
	}
	return nil
}

// errLost is returned when a salvage lost events; the command exits 1.
var errLost = errors.New("the new store holds every intact event, but not all of them were intact")

// isDamage reports whether err says the store's files are damaged, so
// that the intact events can still be read with package salvage.
func isDamage(err error) bool {
	return errors.Is(err, batpak.ErrCorrupt) || errors.Is(err, reader.ErrMissingSegment)
}

// damageWarning is returned by the commands that read a damaged store
// past its damage (dump, tail, inspect): they print what is intact and
// exit 1 with this on stderr.
type damageWarning struct {
	dir   string
	cause error // what stopped the ordinary read
	rep   *salvage.Report
}

// maxListed bounds the damaged ranges listed in a warning.
const maxListed = 10

func (w *damageWarning) Error() string {
	var b []byte
	b = fmt.Appendf(b, "the store is damaged (%s)\n", damageCause(w.cause))
	b = fmt.Appendf(b, "  skipped %d damaged range(s) and %d intact event(s) that cannot be read in order; events lost: %s\n",
		len(w.rep.Damage), len(w.rep.Dropped), w.rep.Lost)
	for i, d := range w.rep.Damage {
		if i == maxListed {
			b = fmt.Appendf(b, "  … and %d more\n", len(w.rep.Damage)-maxListed)
			break
		}
		b = fmt.Appendf(b, "  %s\n", d.String())
	}
	b = fmt.Appendf(b, "  \"batpak verify --all %s\" lists every problem; \"batpak salvage %s NEWDIR\" copies every intact event into a new store",
		w.dir, w.dir)
	return string(b)
}

func (w *damageWarning) Unwrap() error { return errProblems }

// damageCause is the error that says what is damaged, without the hints
// added on the way up (this warning gives them).
func damageCause(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s := e.Error(); !strings.Contains(s, "batpak salvage") && !strings.Contains(s, "batpak verify") {
			return firstLine(e)
		}
	}
	return firstLine(err)
}

// firstLine is the first line of err's text.
func firstLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// walkDamaged reads every intact event of the damaged store in dir, in
// global order, and calls visit with those after global after; it
// returns the warning to exit with.
func walkDamaged(ctx context.Context, dir string, cause error, after uint64, visit func(*batpak.StoredEvent) error) error {
	rep, err := salvage.Walk(ctx, dir, salvage.Options{}, func(ev *batpak.StoredEvent) error {
		if ev.Global <= after {
			return nil
		}
		return visit(ev)
	})
	if err != nil {
		return err
	}
	return &damageWarning{dir: dir, cause: cause, rep: rep}
}
