package inspector

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/batpak-go/batpak"
)

// The pages are html/template templates: every value they show, user data
// above all (entities, scopes, payloads, idempotency keys), is escaped for
// where it lands (text, attribute, URL query). Nothing builds HTML by
// concatenating strings.

// pageNames are the page templates; each is parsed with layout.html.
var pageNames = []string{"overview", "names", "events", "event", "graph", "tail", "error"}

func (in *Inspector) parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"kind":     in.kindLabel,
		"kindHex":  kindNumber,
		"micros":   micros,
		"bytes":    byteSize,
		"hex32":    func(b [32]byte) string { return hex.EncodeToString(b[:]) },
		"zero32":   func(b [32]byte) bool { return b == [32]byte{} },
		"duration": func(d time.Duration) string { return d.Round(time.Microsecond).String() },
	}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// page is what every page template gets: the layout's fields and the
// page's own data.
type page struct {
	Title    string
	Nav      string // the navigation entry to mark as current
	Dir      string
	ReadOnly bool
	Warning  string // shown above the page, e.g. a failed refresh
	Data     any
}

// render executes a page template into a buffer first, so that an error
// is a clean 500 rather than half a page.
func (in *Inspector) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Dir, p.ReadOnly = in.store.Dir(), in.readOnly
	var b bytes.Buffer
	if err := in.pages[name].Execute(&b, p); err != nil {
		http.Error(w, "inspector: rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}

// fail shows an error page: 404 for what is not there, 503 once the store
// is closed, 400 for a bad request, 500 otherwise.
func (in *Inspector) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == 0 {
		status = statusOf(err)
	}
	in.render(w, r, status, "error", page{Title: http.StatusText(status), Data: err.Error()})
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, batpak.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, batpak.ErrClosed), errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// errBadRequest marks a request's parameters as wrong (400).
var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// row is one event in a table, and in the live tail's stream (JSON).
type row struct {
	ID       string `json:"id"`
	Global   uint64 `json:"global"`
	Entity   string `json:"entity"`
	Scope    string `json:"scope"`
	Sequence uint64 `json:"sequence"`
	Kind     string `json:"kind"`
	Time     string `json:"time"`
	Summary  string `json:"summary"`
}

func (in *Inspector) row(ev *batpak.StoredEvent) row {
	return row{
		ID: ev.ID.String(), Global: ev.Global, Entity: ev.Coordinate.Entity(), Scope: ev.Coordinate.Scope(),
		Sequence: ev.Sequence, Kind: in.kindLabel(ev.Kind), Time: micros(ev.Timestamp), Summary: summary(ev),
	}
}

// micros prints µs since the epoch in UTC, to the millisecond.
func micros(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.000")
}

// byteSize prints n bytes in binary units.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
