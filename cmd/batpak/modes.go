package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/batpak-go/batpak/vfs"
)

// modesReport is what inspect and verify say about the modes of a store's
// files: whether they grant group or other users more than the private
// default (0600 files, 0700 directories). A store made with WithFileMode
// for a shared group shows its group bits here, on purpose.
type modesReport struct {
	Checked bool     `json:"checked"`         // false where modes mean nothing (Windows)
	Loose   []string `json:"loose,omitempty"` // each file or directory, and what it grants
}

func checkModes(dir string) (modesReport, error) {
	loose, err := vfs.LooseModes(vfs.OS, dir, vfs.PrivateModes)
	if errors.Is(err, vfs.ErrModesUnknown) {
		return modesReport{}, nil
	}
	if err != nil {
		return modesReport{}, fmt.Errorf("checking the modes of %s: %w", dir, err)
	}
	rep := modesReport{Checked: true}
	for _, l := range loose {
		rep.Loose = append(rep.Loose, l.String())
	}
	return rep, nil
}

// summary is the report in a line, for inspect's table.
func (r modesReport) summary() string {
	switch {
	case !r.Checked:
		return "not checked (on this platform access is governed by ACLs)"
	case len(r.Loose) == 0:
		return "private: no file or directory grants group or other users access"
	}
	return fmt.Sprintf("%s open to group or other users (first: %s)", entries(len(r.Loose)), r.Loose[0])
}

// writeNote prints verify's note about loose modes, if any.
func (r modesReport) writeNote(w io.Writer) {
	if len(r.Loose) == 0 {
		return
	}
	fmt.Fprintf(w, "note: group or other users have access to %s of the store (fine if chosen with WithFileMode for a shared group; otherwise chmod them):\n",
		entries(len(r.Loose)))
	for _, l := range r.Loose {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// entries counts files or directories in words.
func entries(n int) string {
	if n == 1 {
		return "1 file or directory"
	}
	return fmt.Sprintf("%d files or directories", n)
}
