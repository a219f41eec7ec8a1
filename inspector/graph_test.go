package inspector_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type graphJSON struct {
	Correlation string `json:"correlation"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Nodes       []struct {
		ID, Kind, Entity, Summary, Role string
		Global                          uint64
		Marked                          bool
		X, Y                            int
	} `json:"nodes"`
	Edges []struct{ From, To string } `json:"edges"`
}

func fetchGraph(t *testing.T, url string) graphJSON {
	t.Helper()
	status, h, body := get(t, url)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "application/json", h.Get("Content-Type"))
	var g graphJSON
	require.NoError(t, json.Unmarshal([]byte(body), &g))
	return g
}

// TestGraphLayout: the workflow's events and the causes from outside it,
// one edge per cause, laid out a column per causal step: a chain in a
// line, a fan-out in a column, a cause from another workflow at the left.
func TestGraphLayout(t *testing.T) {
	f := newFixture(t)
	_, srv := serve(t, f.store)
	g := fetchGraph(t, srv.URL+"/graph.json?c="+f.root.Correlation.String()+"&e="+f.paid.ID.String())
	require.Equal(t, f.root.Correlation.String(), g.Correlation)

	type place struct {
		role   string
		x, y   int
		marked bool
	}
	at := map[string]place{}
	for _, n := range g.Nodes {
		at[n.ID] = place{n.Role, n.X, n.Y, n.Marked}
		assert.LessOrEqual(t, n.X+230, g.Width)
		assert.LessOrEqual(t, n.Y+58, g.Height)
	}
	require.Len(t, at, 6) // the five of the workflow, and audit, refund's cause
	root, paid, shipped, mailed := at[f.root.ID.String()], at[f.paid.ID.String()], at[f.shipped.ID.String()], at[f.mailed.ID.String()]
	other, refund := at[f.other.ID.String()], at[f.refund.ID.String()]
	assert.Equal(t, "root", root.role)
	assert.Equal(t, "event", paid.role)
	assert.True(t, paid.marked)
	assert.Equal(t, "outside", other.role)
	// Columns: root and audit, then paid and refund, then shipped and mailed.
	assert.Equal(t, root.x, other.x)
	assert.Equal(t, paid.x, refund.x)
	assert.Equal(t, shipped.x, mailed.x)
	assert.Less(t, root.x, paid.x)
	assert.Less(t, paid.x, shipped.x)
	// The chain in a line; the fan-out in a column; no two nodes at once.
	assert.Equal(t, root.y, paid.y)
	assert.Equal(t, paid.y, shipped.y)
	assert.Less(t, shipped.y, mailed.y)
	assert.NotEqual(t, paid.y, refund.y)

	edges := map[[2]string]bool{}
	for _, e := range g.Edges {
		edges[[2]string{e.From, e.To}] = true
	}
	assert.Equal(t, map[[2]string]bool{
		{f.root.ID.String(), f.paid.ID.String()}:    true,
		{f.paid.ID.String(), f.shipped.ID.String()}: true,
		{f.paid.ID.String(), f.mailed.ID.String()}:  true,
		{f.other.ID.String(), f.refund.ID.String()}: true,
	}, edges)

	// Asked by event only: that event's workflow. A cause the store does
	// not hold is a node of its own.
	g = fetchGraph(t, srv.URL+"/graph.json?e="+f.orphan.ID.String())
	require.Len(t, g.Nodes, 2)
	assert.Equal(t, "missing", g.Nodes[0].Role)
	assert.Equal(t, f.missing.String(), g.Nodes[0].ID)
	assert.Equal(t, "root", g.Nodes[1].Role)
	require.Len(t, g.Edges, 1)
	assert.Equal(t, f.missing.String(), g.Edges[0].From)

	status, _, body := get(t, srv.URL+"/graph.json?c=nonsense")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `"error"`)
}
