package batpak

import (
	"context"
	"testing"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/vfs"
)

// indexView is everything an index answers, for comparing two. (The
// checkpoint and footer differentials of internal/reliability build the
// same view from the outside, through reader.Recover.)
type indexView struct {
	Entries  []index.Entry
	Names    []string
	Entities map[string][]uint64
	Scopes   map[string][]uint64
	IDs      map[ID]uint64
}

func viewOf(s *Store) indexView {
	v := indexView{Entities: map[string][]uint64{}, Scopes: map[string][]uint64{}, IDs: map[ID]uint64{}}
	for e := range s.idx.Query(event.AllEvents(), 0) {
		v.Entries = append(v.Entries, e)
		v.Names = append(v.Names, s.idx.EntityName(e.Entity)+"@"+s.idx.ScopeName(e.Scope))
	}
	for _, name := range s.idx.Entities() {
		for e := range s.idx.Query(event.ForEntity(name), 0) {
			v.Entities[name] = append(v.Entities[name], e.Global)
		}
	}
	for _, name := range s.idx.Scopes() {
		for e := range s.idx.Query(event.ForScope(name), 0) {
			v.Scopes[name] = append(v.Scopes[name], e.Global)
		}
	}
	for ev, err := range s.Query(context.Background(), event.AllEvents()) {
		if err != nil {
			panic(err)
		}
		e, _ := s.idx.LookupID(ev.ID)
		v.IDs[ev.ID] = e.Global
	}
	return v
}

func reopenView(t *testing.T, fs vfs.FS, dir string) (indexView, RecoveryReport) {
	t.Helper()
	s, err := Open(dir, WithFS(fs))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return viewOf(s), s.Stats().Recovery
}
