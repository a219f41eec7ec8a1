package inspector

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak"
)

// ErrClosed is what a request gets (as 503 Service Unavailable) once the
// inspector is closed.
var ErrClosed = errors.New("inspector: closed")

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// contentPolicy lets the pages load their own script, style sheet and
// live-tail stream and nothing else: no inline script or style, no other
// origin, no frames, no plugins.
const contentPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Inspector is the read-only web inspector of one store: an http.Handler
// serving its pages. Mount it under a prefix with http.StripPrefix; its
// links are relative, so any prefix works. It answers GET and HEAD only.
type Inspector struct {
	store    *batpak.Store
	readOnly bool // the store was opened with OpenReadOnly
	cfg      config
	mux      *http.ServeMux
	pages    map[string]*template.Template
	assets   http.Handler

	// done is closed by Close: live tails end and requests get 503.
	done      chan struct{}
	closeOnce sync.Once
	// tails counts the live-tail streams open now (bounded by
	// cfg.maxTails); touched by every request goroutine, hence atomic.
	tails atomic.Int32
}

// New returns the inspector of store. The store may be open for writing
// (the program's own store, the inspector mounted beside its other debug
// handlers) or read-only (batpak.OpenReadOnly, following another process's
// writes: each request, and each live tail every poll interval, first
// calls Refresh). The inspector never writes to the store and never closes
// it; Close it before closing the store to end its live tails at once.
func New(store *batpak.Store, opts ...Option) *Inspector {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	in := &Inspector{store: store, readOnly: store.Diagnostics().ReadOnly, cfg: cfg, done: make(chan struct{})}
	in.pages = in.parsePages()
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	in.assets = http.StripPrefix("/assets/", http.FileServerFS(sub))
	in.mux = http.NewServeMux()
	for path, h := range map[string]http.HandlerFunc{
		"/{$}":        in.overview,
		"/entities":   in.entities,
		"/scopes":     in.scopes,
		"/entity":     in.entity,
		"/scope":      in.scope,
		"/event":      in.event,
		"/graph":      in.graph,
		"/graph.json": in.graphJSON,
		"/tail":       in.tail,
		"/tail.sse":   in.tailStream,
	} {
		in.mux.Handle(path, h)
	}
	in.mux.Handle("/assets/", in.assets)
	in.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		in.fail(w, r, http.StatusNotFound, fmt.Errorf("no page %q", r.URL.Path))
	})
	return in
}

// Close ends the live tails streaming now and makes later requests fail
// with 503 Service Unavailable. It does not close the store. It is
// idempotent.
func (in *Inspector) Close() error {
	in.closeOnce.Do(func() { close(in.done) })
	return nil
}

func (in *Inspector) closed() bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

// ServeHTTP serves the inspector's pages: GET and HEAD only, every
// response with a Content-Security-Policy that allows no inline script and
// nothing from another origin.
func (in *Inspector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "the inspector is read-only: GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	if in.closed() {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == "" {
		// Mounted with StripPrefix("/x", …) and asked for "/x": the pages'
		// relative links need the trailing slash.
		http.Redirect(w, r, dirOf(r), http.StatusFound)
		return
	}
	in.mux.ServeHTTP(w, r)
}

// dirOf is the path the client asked for, before any StripPrefix, ending
// in a slash.
func dirOf(r *http.Request) string {
	p, _, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// refresh brings a read-only store up to date; on a store open for
// writing it does nothing. Its error is shown on the page, which goes on
// with what the store had.
func (in *Inspector) refresh(ctx context.Context) error {
	if _, err := in.store.Refresh(ctx); err != nil && !errors.Is(err, batpak.ErrClosed) {
		return fmt.Errorf("following the store: %w", err)
	}
	return nil
}

// Option configures an Inspector.
type Option func(*config)

type config struct {
	poll     time.Duration
	maxTails int
	pageSize int
}

func defaults() config {
	return config{poll: 250 * time.Millisecond, maxTails: 16, pageSize: 50}
}

// WithPollInterval sets how often a live tail of a read-only store looks
// for events the writing process added (default 250ms). A tail of a store
// open for writing is woken by the store itself.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithMaxLiveTails bounds the live tails streaming at once (default 16);
// one more is refused with 503 Service Unavailable.
func WithMaxLiveTails(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxTails = n
		}
	}
}

// WithPageSize sets how many events or names a page lists (default 50,
// at most 1,000).
func WithPageSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.pageSize = min(n, 1000)
		}
	}
}
