package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
)

// graphFlags declares the graph command: the causal graph of one workflow
// (the events sharing a correlation id, linked cause → effect) as Graphviz
// DOT on stdout, or rendered by Graphviz's dot into an SVG or PNG file.
func graphFlags(fs *flag.FlagSet) action {
	var o graphOptions
	fs.StringVar(&o.correlation, "correlation", "", "draw the workflow with correlation `ID`")
	fs.StringVar(&o.event, "event", "", "draw the workflow of the event with `ID`, marking that event")
	fs.StringVar(&o.out, "out", "", "write to `FILE` instead of stdout: .dot as text; .svg, .png or .pdf rendered by Graphviz's dot")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		dir, err := oneDir(args)
		if err != nil {
			return err
		}
		return o.run(ctx, dir, stdout, stderr)
	}
}

type graphOptions struct {
	correlation, event, out string
}

func (o *graphOptions) run(ctx context.Context, dir string, stdout, stderr io.Writer) error {
	if (o.correlation == "") == (o.event == "") {
		return usagef("give exactly one of --correlation ID and --event ID")
	}
	format := ""
	if o.out != "" {
		switch ext := strings.ToLower(filepath.Ext(o.out)); ext {
		case ".dot", ".gv":
		case ".svg", ".png", ".pdf":
			format = ext[1:]
		default:
			return usagef("--out %s: want a .dot, .svg, .png or .pdf file", o.out)
		}
	}
	idText := o.correlation + o.event
	id, err := event.ParseID(idText)
	if err != nil {
		return usagef("%q is not an event id: %v", idText, err)
	}
	s, err := openStore(dir, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	g, err := collectWorkflow(ctx, s, id, o.event != "")
	if err != nil {
		return err
	}
	g.names = readKindNames(dir, stderr)
	var dot bytes.Buffer
	g.writeDOT(&dot)
	switch {
	case o.out == "":
		_, err = stdout.Write(dot.Bytes())
		return err
	case format == "":
		return os.WriteFile(o.out, dot.Bytes(), 0o644)
	}
	if err := renderDOT(ctx, dot.Bytes(), format, o.out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "graph: %d events, %d causal links: wrote %s\n", len(g.events), g.links(), o.out)
	return nil
}

// workflow is the events of one correlation, and the causes they name
// from outside it.
type workflow struct {
	correlation batpak.ID
	events      []*batpak.StoredEvent // in global order
	in          map[batpak.ID]bool
	outside     []*batpak.StoredEvent // causes outside the workflow
	marked      batpak.ID             // the event asked for with --event
	summaries   map[batpak.ID]string  // each event's payload summary (graph_label.go)
	names       kinds.Table           // the store's kind names
}

// collectWorkflow finds the workflow with correlation id, or with byEvent
// the workflow of the event id. The store's correlation index lists the
// workflow's events, so it reads only them.
func collectWorkflow(ctx context.Context, s *batpak.Store, id batpak.ID, byEvent bool) (*workflow, error) {
	g := &workflow{correlation: id, in: map[batpak.ID]bool{}, summaries: map[batpak.ID]string{}}
	if byEvent {
		ev, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		g.correlation, g.marked = ev.Correlation, id
	}
	for ev, err := range s.ByCorrelation(ctx, g.correlation) {
		if err != nil {
			return nil, err
		}
		g.summaries[ev.ID] = payloadSummary(ev)
		ev.Payload = nil // summarised; let it go
		g.events = append(g.events, ev)
		g.in[ev.ID] = true
	}
	if len(g.events) == 0 {
		return nil, fmt.Errorf("%w: no event has correlation %v", batpak.ErrNotFound, g.correlation)
	}
	seen := map[batpak.ID]bool{}
	for _, ev := range g.events {
		c := ev.Causation
		if c.IsZero() || g.in[c] || seen[c] {
			continue
		}
		seen[c] = true
		cause, err := s.Get(ctx, c)
		if errors.Is(err, batpak.ErrNotFound) {
			continue // drawn as an unknown cause
		}
		if err != nil {
			return nil, err
		}
		g.summaries[cause.ID] = payloadSummary(cause)
		g.outside = append(g.outside, cause)
	}
	return g, nil
}

func (g *workflow) links() int {
	n := 0
	for _, ev := range g.events {
		if !ev.Causation.IsZero() {
			n++
		}
	}
	return n
}

// writeDOT prints the workflow as a Graphviz digraph: one box per event,
// inside a cluster for the workflow, and an edge from each cause to its
// effect. The workflow's root (the event whose id is the correlation) is
// bold; the --event one is filled; causes from elsewhere are dashed, and
// causes not in the store are drawn as dashed ellipses.
func (g *workflow) writeDOT(w *bytes.Buffer) {
	fmt.Fprintf(w, "digraph batpak {\n")
	fmt.Fprintf(w, "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n")
	fmt.Fprintf(w, "  edge [fontname=\"Helvetica\", fontsize=9];\n")
	fmt.Fprintf(w, "  subgraph \"cluster_workflow\" {\n    label=%s;\n", dotQuote("workflow "+g.correlation.String()))
	for _, ev := range g.events {
		style := "rounded"
		switch {
		case ev.ID == g.marked:
			style = "\"rounded,filled,bold\", fillcolor=\"#ffe9a8\""
		case ev.ID == g.correlation:
			style = "\"rounded,bold\""
		}
		fmt.Fprintf(w, "    %s [label=%s, style=%s];\n", dotQuote(ev.ID.String()), dotQuote(g.label(ev)), style)
	}
	fmt.Fprintf(w, "  }\n")
	for _, ev := range g.outside {
		fmt.Fprintf(w, "  %s [label=%s, style=\"rounded,dashed\"];\n", dotQuote(ev.ID.String()),
			dotQuote(g.label(ev)+"\nworkflow "+shortID(ev.Correlation)))
	}
	known := map[batpak.ID]bool{}
	for _, ev := range g.outside {
		known[ev.ID] = true
	}
	for _, ev := range g.events {
		c := ev.Causation
		if c.IsZero() {
			continue
		}
		if !g.in[c] && !known[c] {
			known[c] = true
			fmt.Fprintf(w, "  %s [label=%s, shape=ellipse, style=dashed];\n", dotQuote(c.String()),
				dotQuote("not in the store\n"+shortID(c)))
		}
		fmt.Fprintf(w, "  %s -> %s;\n", dotQuote(c.String()), dotQuote(ev.ID.String()))
	}
	fmt.Fprintf(w, "}\n")
}

// label is a node's text: the kind (its name where the store keeps one),
// the coordinate, global and per-entity sequence, the payload's summary
// and the id's tail.
func (g *workflow) label(ev *batpak.StoredEvent) string {
	l := fmt.Sprintf("%s  %s\n#%d  seq %d\n", g.names.Label(ev.Kind), ev.Coordinate, ev.Global, ev.Sequence)
	if s := g.summaries[ev.ID]; s != "" {
		l += s + "\n"
	}
	return l + shortID(ev.ID)
}

// shortID is the tail of an id: UUIDv7 ids of one millisecond share their
// first half.
func shortID(id batpak.ID) string {
	s := id.String()
	return "…" + s[len(s)-12:]
}

// dotQuote quotes s as a DOT string; newlines become centred line breaks.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// renderDOT runs Graphviz's dot to render the graph into file.
func renderDOT(ctx context.Context, dot []byte, format, file string) error {
	path, err := exec.LookPath("dot")
	if err != nil {
		return fmt.Errorf("--out %s needs Graphviz's dot program, which is not on PATH "+
			"(install Graphviz, or write DOT with --out FILE.dot or to stdout and render it elsewhere)", file)
	}
	cmd := exec.CommandContext(ctx, path, "-T"+format, "-o", file)
	cmd.Stdin = bytes.NewReader(dot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dot -T%s -o %s: %w: %s", format, file, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
