package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/migrate/batpakrust"
)

// importFlags declares the import command: read a batpak-rust 0.3.0 store
// and write its events into a batpak-go store (created if need be), or
// with --verify-only just check the batpak-rust store. An interrupted or
// crashed import is finished by running the same command again: events
// already imported are recognised by their ids and not written twice.
func importFlags(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	verifyOnly := fs.Bool("verify-only", false, "read and check the batpak-rust store SRC and write nothing (no DST)")
	progress := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal (on a terminal it is shown anyway)")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		switch {
		case len(args) == 0:
			return usagef("missing the batpak-rust store directory")
		case *verifyOnly && len(args) != 1:
			return usagef("--verify-only checks SRC alone and writes nothing: want one directory, got %d arguments", len(args))
		case !*verifyOnly && len(args) != 2:
			return usagef("want SRC DST (the batpak-rust store and the batpak-go store to write), got %d arguments", len(args))
		}
		src, err := batpakrust.Open(args[0])
		if err != nil {
			return err
		}
		var bar *progressBar
		if term := isTerminal(stderr); term || *progress {
			bar = &progressBar{w: stderr, inPlace: term, label: "import"}
			if *verifyOnly {
				bar.label = "check"
			}
		}
		var onProgress func(done, total int64)
		if bar != nil {
			onProgress = bar.update
		}
		sum := importSummary{Source: args[0], VerifyOnly: *verifyOnly}
		if *verifyOnly {
			rep, err := src.Scan(ctx, onProgress, nil)
			bar.finish()
			if err != nil {
				return err
			}
			sum.ImportReport.Report = *rep
		} else {
			sum.Destination = args[1]
			log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			dst, err := batpak.Open(args[1], batpak.WithLogger(log))
			if err != nil {
				bar.finish()
				return err
			}
			rep, err := batpakrust.Import(ctx, src, dst, onProgress)
			bar.finish()
			err = errors.Join(err, dst.Close())
			if rep != nil {
				sum.ImportReport = *rep
			}
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted after %d events (%d new): run the same command again to finish; nothing is imported twice: %w",
						sum.Imported+sum.Replayed, sum.Imported, err)
				}
				return err
			}
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(sum.jsonView()); err != nil {
				return err
			}
		} else {
			sum.print(stdout)
		}
		if *verifyOnly && !sum.OK() {
			return fmt.Errorf("%w in the batpak-rust store", errProblems)
		}
		return nil
	}
}

// importSummary is what the import command reports.
type importSummary struct {
	batpakrust.ImportReport
	Source      string
	Destination string
	VerifyOnly  bool
}

// importJSON is the --json form of a summary: the counts, then the
// details (each list holds the first 100).
type importJSON struct {
	Source          string `json:"source"`
	Destination     string `json:"destination,omitempty"`
	VerifyOnly      bool   `json:"verify_only"`
	Segments        int    `json:"segments"`
	Bytes           int64  `json:"bytes"`
	Events          int    `json:"events"`
	Entities        int    `json:"entities"`
	Batches         int    `json:"batches"`
	Imported        int    `json:"imported"`
	AlreadyThere    int    `json:"already_there"`
	BatchesImported int    `json:"batches_imported"`
	Skipped         int    `json:"skipped"` // events of unfinished batches
	SkippedBatches  int    `json:"skipped_batches"`
	Damaged         int    `json:"damaged"` // frames
	Unimportable    int    `json:"unimportable"`
	ChainBreaks     int    `json:"chain_breaks"`
	Unhashed        int    `json:"unhashed"`
	Mismatches      int    `json:"index_mismatches"`
	Renumbered      int    `json:"renumbered"`
	FootersChecked  int    `json:"footers_checked"`
	CheckpointRows  int    `json:"checkpoint_entries_checked"`

	SkippedList  []batpakrust.SkippedBatch `json:"skipped_batches_list,omitempty"`
	DamagedList  []batpakrust.Damage       `json:"damaged_list,omitempty"`
	ChainList    []batpakrust.ChainBreak   `json:"chain_breaks_list,omitempty"`
	MismatchList []batpakrust.Mismatch     `json:"index_mismatches_list,omitempty"`
	RefusedList  []batpakrust.Refused      `json:"unimportable_list,omitempty"`
}

func (s *importSummary) jsonView() importJSON {
	return importJSON{
		Source: s.Source, Destination: s.Destination, VerifyOnly: s.VerifyOnly,
		Segments: s.Segments, Bytes: s.Bytes, Events: s.Events, Entities: s.Entities, Batches: s.Batches,
		Imported: s.Imported, AlreadyThere: s.Replayed, BatchesImported: s.BatchesImported,
		Skipped: s.SkippedEvents, SkippedBatches: s.SkippedCount, Damaged: s.DamagedFrames,
		Unimportable: s.Unimportable, ChainBreaks: s.ChainBreaks, Unhashed: s.Unhashed,
		Mismatches: s.Mismatches, Renumbered: s.Renumbered, FootersChecked: s.FootersChecked,
		CheckpointRows: s.CheckpointChecked,
		SkippedList:    s.SkippedBatches, DamagedList: s.Damaged, ChainList: s.Chain,
		MismatchList: s.MismatchList, RefusedList: s.Refused,
	}
}

func (s *importSummary) print(w io.Writer) {
	if s.VerifyOnly {
		fmt.Fprintf(w, "checked %s (batpak-rust): %s, %s\n", s.Source, plural(s.Segments, "segment"), sizeString(s.Bytes))
	} else {
		fmt.Fprintf(w, "imported %s (batpak-rust) into %s\n", s.Source, s.Destination)
	}
	fmt.Fprintf(w, "events:   %d", s.Events)
	if !s.VerifyOnly {
		fmt.Fprintf(w, " (%d written now, %d already there)", s.Imported, s.Replayed)
	}
	fmt.Fprintf(w, "\nentities: %d\nbatches:  %d", s.Entities, s.Batches)
	if !s.VerifyOnly {
		fmt.Fprintf(w, " (%d written now)", s.BatchesImported)
	}
	fmt.Fprintf(w, "\nskipped:  %s (%s that never committed)\n", plural(s.SkippedEvents, "event"), plural(s.SkippedCount, "batch"))
	fmt.Fprintf(w, "damaged:  %s\n", plural(s.DamagedFrames, "frame"))
	if !s.VerifyOnly {
		fmt.Fprintf(w, "unimportable: %s (batpak-go refuses their coordinate or size)\n", plural(s.Unimportable, "event"))
	}
	fmt.Fprintf(w, "integrity: %s; %s against %s and %s\n",
		plural(s.ChainBreaks, "hash-chain break"), plural(s.Mismatches, "index mismatch"),
		plural(s.FootersChecked, "SIDX footer"), checkpointNote(s.CheckpointFound, s.CheckpointChecked))
	if s.Unhashed > 0 {
		fmt.Fprintf(w, "note: %s written without hashes (batpak-rust's blake3 feature off): not chain-checked\n", plural(s.Unhashed, "event"))
	}
	if s.Renumbered > 0 {
		fmt.Fprintf(w, "note: %s got another per-entity sequence than in batpak-rust (events before them were skipped, or the entity had events already)\n",
			plural(s.Renumbered, "event"))
	}
	for _, b := range s.SkippedBatches {
		fmt.Fprintf(w, "  skipped batch at segment %d offset %d: %d of %d items read; %s\n", b.Segment, b.Offset, b.Found, b.Declared, b.Reason)
	}
	for _, d := range s.Damaged {
		fmt.Fprintf(w, "  damage at segment %d offset %d (%d bytes): %s\n", d.Segment, d.Offset, d.Bytes, d.Cause)
	}
	for _, c := range s.Chain {
		fmt.Fprintf(w, "  chain break at segment %d offset %d (%s, %s): %s\n", c.Segment, c.Offset, c.Entity, c.ID, c.Problem)
	}
	for _, m := range s.MismatchList {
		fmt.Fprintf(w, "  %s mismatch at segment %d offset %d: %s\n", m.Source, m.Segment, m.Offset, m.Problem)
	}
	for _, r := range s.Refused {
		fmt.Fprintf(w, "  not imported, at segment %d offset %d (%s, %s): %s\n", r.Segment, r.Offset, plural(r.Events, "event"), r.ID, r.Reason)
	}
	if s.OK() && s.Unimportable == 0 {
		fmt.Fprintln(w, "OK")
	}
}

func checkpointNote(found bool, rows int) string {
	if !found {
		return "no index.ckpt"
	}
	return fmt.Sprintf("index.ckpt (%s)", plural(rows, "entry"))
}
