package inspector

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// recentEvents is how many of the newest events the overview and the live
// tail start with.
const recentEvents = 20

type overviewData struct {
	D      batpak.Diagnostics
	Recent []row
}

// overview: the store's figures (log, writing, recovery, compaction) and
// its newest events.
func (in *Inspector) overview(w http.ResponseWriter, r *http.Request) {
	warn := in.refresh(r.Context())
	d := in.store.Diagnostics()
	recent, err := in.newest(r, recentEvents)
	if err != nil {
		in.fail(w, r, 0, err)
		return
	}
	in.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Warning: errText(warn),
		Data: overviewData{D: d, Recent: recent}})
}

// newest returns up to n of the newest events, newest first.
func (in *Inspector) newest(r *http.Request, n int) ([]row, error) {
	last := in.store.Stats().LastGlobal
	var rows []row
	for ev, err := range in.store.QueryAfter(r.Context(), event.AllEvents(), last-min(last, uint64(n))) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, in.row(ev))
	}
	slices.Reverse(rows)
	return rows, nil
}

type namesData struct {
	What    string // "entity" or "scope"
	Query   string
	Names   []nameRow
	Matched int    // names that match Query
	Total   int    // names in the store
	After   string // the last name of the page before, "" on the first
	Next    string // the last name of this page, when more follow
}

type nameRow struct {
	Name   string
	Latest *row // entities only: the newest event
}

func (in *Inspector) entities(w http.ResponseWriter, r *http.Request) {
	in.names(w, r, "entity", in.store.Entities)
}

func (in *Inspector) scopes(w http.ResponseWriter, r *http.Request) {
	in.names(w, r, "scope", in.store.Scopes)
}

// names lists entity or scope names, sorted, those containing the search
// text q (case folded), a page at a time after the name after.
func (in *Inspector) names(w http.ResponseWriter, r *http.Request, what string, list func() []string) {
	warn := in.refresh(r.Context())
	q := r.URL.Query()
	d := namesData{What: what, Query: strings.TrimSpace(q.Get("q")), After: q.Get("after")}
	all := list()
	d.Total = len(all)
	needle := strings.ToLower(d.Query)
	start, _ := slices.BinarySearch(all, d.After)
	if d.After != "" && start < len(all) && all[start] == d.After {
		start++
	}
	for i, name := range all {
		if needle != "" && !strings.Contains(strings.ToLower(name), needle) {
			continue
		}
		d.Matched++
		if i < start {
			continue
		}
		if len(d.Names) == in.cfg.pageSize {
			d.Next = d.Names[len(d.Names)-1].Name
			continue
		}
		nr := nameRow{Name: name}
		if what == "entity" {
			if ev, err := in.store.Latest(r.Context(), name); err == nil {
				lr := in.row(ev)
				nr.Latest = &lr
			}
		}
		d.Names = append(d.Names, nr)
	}
	title := "Entities"
	if what == "scope" {
		title = "Scopes"
	}
	in.render(w, r, http.StatusOK, "names", page{Title: title, Nav: title, Warning: errText(warn), Data: d})
}

type eventsData struct {
	What  string // "entity" or "scope"
	Name  string
	Rows  []row
	Count string // what the heading says of the events
	// Paging. An entity's page is the events before sequence Before,
	// newest first (Older and Newer are the Before of the next pages, 0
	// for none); a scope's are the events after global After, oldest
	// first (Next is the After of the next page, 0 for none).
	Newest       bool
	Older, Newer uint64
	After, Next  uint64
}

// entity lists an entity's events, newest first, a page at a time:
// ?name=E&before=S shows those with a sequence below S.
func (in *Inspector) entity(w http.ResponseWriter, r *http.Request) {
	warn := in.refresh(r.Context())
	q := r.URL.Query()
	name := q.Get("name")
	latest, err := in.store.Latest(r.Context(), name)
	if err != nil {
		in.fail(w, r, 0, err)
		return
	}
	top := latest.Sequence // the newest sequence shown
	if s := q.Get("before"); s != "" {
		before, err := strconv.ParseUint(s, 10, 64)
		if err != nil || before == 0 {
			in.fail(w, r, 0, badRequest("before=%q is not a sequence above 0", s))
			return
		}
		top = min(top, before-1)
	}
	size := uint64(in.cfg.pageSize)
	lo := top - min(top, size-1)
	d := eventsData{What: "entity", Name: name, Newest: top == latest.Sequence,
		Count: strconv.FormatUint(latest.Sequence+1, 10) + " events (sequences 0 to " + strconv.FormatUint(latest.Sequence, 10) + ")"}
	// A Region literal: the name exactly, even one ending in '*' (which
	// event.ForEntity reads as a prefix).
	for ev, err := range in.store.Query(r.Context(), event.Region{Entity: name}.WithSequence(lo, top)) {
		if err != nil {
			in.fail(w, r, 0, err)
			return
		}
		if ev.Sequence > top { // WithSequence(0, 0) has no upper bound
			break
		}
		d.Rows = append(d.Rows, in.row(ev))
	}
	slices.Reverse(d.Rows)
	if lo > 0 {
		d.Older = lo
	}
	if top < latest.Sequence {
		d.Newer = top + size + 1
	}
	in.render(w, r, http.StatusOK, "events", page{Title: "Entity " + name, Nav: "Entities", Warning: errText(warn), Data: d})
}

// scope lists a scope's events, oldest first, a page at a time:
// ?name=S&after=G shows those with a global sequence above G.
func (in *Inspector) scope(w http.ResponseWriter, r *http.Request) {
	warn := in.refresh(r.Context())
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" || !slices.Contains(in.store.Scopes(), name) {
		in.fail(w, r, http.StatusNotFound, fmt.Errorf("no event has scope %q", name))
		return
	}
	var after uint64
	if s := q.Get("after"); s != "" {
		var err error
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			in.fail(w, r, 0, badRequest("after=%q is not a global sequence", s))
			return
		}
	}
	d := eventsData{What: "scope", Name: name, After: after, Count: "oldest first"}
	// The name exactly, as for an entity.
	for ev, err := range in.store.QueryAfter(r.Context(), event.Region{Scope: name}, after) {
		if err != nil {
			in.fail(w, r, 0, err)
			return
		}
		if len(d.Rows) == in.cfg.pageSize {
			d.Next = d.Rows[len(d.Rows)-1].Global
			break
		}
		d.Rows = append(d.Rows, in.row(ev))
	}
	in.render(w, r, http.StatusOK, "events", page{Title: "Scope " + name, Nav: "Scopes", Warning: errText(warn), Data: d})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
