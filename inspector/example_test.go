package inspector_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/inspector"
)

// The inspector mounted at /debug/batpak/ beside a program's other debug
// handlers (import _ "net/http/pprof" adds pprof's to the same mux), then
// asked for an entity's page as a browser would.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "inspector-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := batpak.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	moved := event.MustCustom(1, 1)
	if _, err := store.Append(context.Background(), event.MustCoordinate("player:alice", "room:hall"), moved, map[string]any{"to": "hall"}); err != nil {
		log.Fatal(err)
	}

	in := inspector.New(store)
	defer in.Close() // before store.Close: ends the live tails
	mux := http.NewServeMux()
	mux.Handle("/debug/batpak/", http.StripPrefix("/debug/batpak", in))
	// In a program: http.ListenAndServe("127.0.0.1:6060", mux)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/batpak/entity?name=player:alice", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(strings.Count(rec.Body.String(), `<tr data-global=`), "event listed")
	// Output:
	// 200 text/html; charset=utf-8
	// 1 event listed
}
