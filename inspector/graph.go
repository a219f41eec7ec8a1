package inspector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/internal/textview"
)

// The workflow graph: the events sharing a correlation id, each linked to
// its cause. The server lays it out (layout below) and serves it as JSON;
// the page's script draws it as SVG. No Graphviz.

const (
	// maxGraphEvents bounds the events of a workflow the graph reads.
	maxGraphEvents = 500
	// Node box and spacing, in SVG user units.
	nodeW, nodeH = 230, 58
	gapX, gapY   = 56, 18
	graphPad     = 16
)

// Node roles: how the graph draws a node.
const (
	roleRoot    = "root"    // the workflow's root: its id is the correlation
	roleEvent   = "event"   // another event of the workflow
	roleOutside = "outside" // a cause from another workflow
	roleMissing = "missing" // a cause the store does not hold
)

type graphNode struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Entity  string `json:"entity"`
	Summary string `json:"summary"`
	Global  uint64 `json:"global"` // 0 for a missing cause
	Role    string `json:"role"`
	Marked  bool   `json:"marked"` // the event the page was asked about
	X       int    `json:"x"`
	Y       int    `json:"y"`
}

type graphEdge struct {
	From string `json:"from"` // the cause
	To   string `json:"to"`   // the effect
}

type workflowGraph struct {
	Correlation string      `json:"correlation"`
	Width       int         `json:"width"`
	Height      int         `json:"height"`
	NodeWidth   int         `json:"nodeWidth"`
	NodeHeight  int         `json:"nodeHeight"`
	Nodes       []graphNode `json:"nodes"`
	Edges       []graphEdge `json:"edges"`
	Truncated   bool        `json:"truncated"` // the workflow has more than maxGraphEvents events
	rows        []row       // the workflow's events, for the page's table
}

// workflow reads the workflow with correlation c (or, with c zero, the
// workflow of the event marked) and lays it out.
func (in *Inspector) workflow(ctx context.Context, c, marked batpak.ID) (*workflowGraph, error) {
	if c.IsZero() {
		ev, err := in.store.Get(ctx, marked)
		if err != nil {
			return nil, err
		}
		c = ev.Correlation
	}
	g := &workflowGraph{Correlation: c.String(), NodeWidth: nodeW, NodeHeight: nodeH}
	var events []*batpak.StoredEvent
	inFlow := map[batpak.ID]bool{}
	for ev, err := range in.store.ByCorrelation(ctx, c) {
		if err != nil {
			return nil, err
		}
		if len(events) == maxGraphEvents {
			g.Truncated = true
			break
		}
		events = append(events, ev)
		inFlow[ev.ID] = true
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%w: no event has correlation %v", batpak.ErrNotFound, c)
	}
	// Causes outside the workflow come first, in the first column.
	lay := newLayout()
	for _, ev := range events {
		cause := ev.Causation
		if cause.IsZero() || inFlow[cause] || lay.placed(cause) {
			continue
		}
		n := graphNode{ID: cause.String(), Role: roleMissing, Kind: "not in the store"}
		switch outside, err := in.store.Get(ctx, cause); {
		case err == nil:
			n = in.node(outside, roleOutside)
		case !errors.Is(err, batpak.ErrNotFound):
			return nil, err
		}
		lay.place(cause, batpak.ID{}, &n)
		g.Nodes = append(g.Nodes, n)
	}
	for _, ev := range events {
		role := roleEvent
		if ev.ID == c {
			role = roleRoot
		}
		n := in.node(ev, role)
		n.Marked = ev.ID == marked
		lay.place(ev.ID, ev.Causation, &n)
		g.Nodes = append(g.Nodes, n)
		if !ev.Causation.IsZero() {
			g.Edges = append(g.Edges, graphEdge{From: ev.Causation.String(), To: n.ID})
		}
		g.rows = append(g.rows, in.row(ev))
	}
	g.Width, g.Height = lay.size()
	return g, nil
}

func (in *Inspector) node(ev *batpak.StoredEvent, role string) graphNode {
	return graphNode{
		ID: ev.ID.String(), Kind: in.kindLabel(ev.Kind), Entity: textview.Clip(textview.Printable(ev.Coordinate.Entity()), 28),
		Summary: textview.Clip(summary(ev), 30), Global: ev.Global, Role: role,
	}
}

// layout places nodes in columns by causal depth (a cause's effects one
// column to its right) and, in each column, in the order they come: an
// effect level with its cause if that row is free, below otherwise, so a
// chain reads as a line and a fan-out as a comb.
type layout struct {
	at       map[batpak.ID][2]int // column, row
	nextRow  []int                // per column, the first free row
	maxCol   int
	maxRow   int
	anyPlace bool
}

func newLayout() *layout { return &layout{at: map[batpak.ID][2]int{}} }

func (l *layout) placed(id batpak.ID) bool { _, ok := l.at[id]; return ok }

// place puts id (caused by cause, zero if none) in the grid and sets n's
// coordinates. A cause not placed yet counts as none: its effect starts a
// column of its own.
func (l *layout) place(id, cause batpak.ID, n *graphNode) {
	col, row := 0, 0
	if pc, ok := l.at[cause]; ok && !cause.IsZero() {
		col, row = pc[0]+1, pc[1]
	}
	for len(l.nextRow) <= col {
		l.nextRow = append(l.nextRow, 0)
	}
	row = max(row, l.nextRow[col])
	l.nextRow[col] = row + 1
	l.at[id] = [2]int{col, row}
	l.maxCol, l.maxRow, l.anyPlace = max(l.maxCol, col), max(l.maxRow, row), true
	n.X = graphPad + col*(nodeW+gapX)
	n.Y = graphPad + row*(nodeH+gapY)
}

func (l *layout) size() (w, h int) {
	if !l.anyPlace {
		return 2 * graphPad, 2 * graphPad
	}
	return 2*graphPad + (l.maxCol+1)*nodeW + l.maxCol*gapX, 2*graphPad + (l.maxRow+1)*nodeH + l.maxRow*gapY
}

// graphParams reads ?c=CORRELATION and ?e=EVENT (either may be absent,
// not both).
func graphParams(r *http.Request) (c, marked batpak.ID, err error) {
	q := r.URL.Query()
	if s := q.Get("c"); s != "" {
		if c, err = parseID(s); err != nil {
			return c, marked, err
		}
	}
	if s := q.Get("e"); s != "" {
		if marked, err = parseID(s); err != nil {
			return c, marked, err
		}
	}
	if c.IsZero() && marked.IsZero() {
		return c, marked, badRequest("the graph needs c=CORRELATION or e=EVENT")
	}
	return c, marked, nil
}

// graph is the workflow's page: the drawing (by the page's script, from
// graph.json) and a table of its events.
func (in *Inspector) graph(w http.ResponseWriter, r *http.Request) {
	warn := in.refresh(r.Context())
	c, marked, err := graphParams(r)
	if err != nil {
		in.fail(w, r, 0, err)
		return
	}
	g, err := in.workflow(r.Context(), c, marked)
	if err != nil {
		in.fail(w, r, 0, err)
		return
	}
	data := struct {
		G      *workflowGraph
		Rows   []row
		Marked string
		Links  int
	}{G: g, Rows: g.rows, Links: len(g.Edges)}
	if !marked.IsZero() {
		data.Marked = marked.String()
	}
	in.render(w, r, http.StatusOK, "graph", page{Title: "Workflow " + g.Correlation, Warning: errText(warn), Data: data})
}

// graphJSON serves the laid-out workflow for the page's script.
func (in *Inspector) graphJSON(w http.ResponseWriter, r *http.Request) {
	_ = in.refresh(r.Context())
	c, marked, err := graphParams(r)
	if err == nil {
		var g *workflowGraph
		if g, err = in.workflow(r.Context(), c, marked); err == nil {
			writeJSON(w, r, g)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusOf(err))
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
