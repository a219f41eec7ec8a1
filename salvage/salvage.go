package salvage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// ErrDestination is returned when the destination of Run is not a new or
// empty directory, is the source itself, or would be created under a name
// that is not portable (the error then also matches vfs.ErrNotPortable).
var ErrDestination = errors.New("salvage: the destination must be a new or empty directory other than the source")

// ErrResultInvalid is returned if the store Run wrote does not verify:
// that would be a bug in salvage, and the destination should not be used.
var ErrResultInvalid = errors.New("salvage: the new store does not verify")

// Options tune Run and Walk. The zero value reads and writes the real
// file system and dates new segment headers with the time of day.
type Options struct {
	FS    vfs.FS           // nil: vfs.OS
	Clock func() time.Time // nil: time.Now
}

func (o Options) fs() vfs.FS {
	if o.FS == nil {
		return vfs.OS
	}
	return o.FS
}

// Walk reads the store in dir as salvage would, without writing anything
// anywhere, and calls visit with each event Run would keep, in global
// order (Hash.Prev is left zero). It returns what is lost. A visit error
// stops the walk and is returned as it is.
func Walk(ctx context.Context, dir string, opts Options, visit func(*event.StoredEvent) error) (*Report, error) {
	var v segment.EventView
	return analyse(ctx, opts.fs(), dir, func(p *segPlan) error {
		for _, it := range p.items {
			for _, ri := range it.events {
				body, _, _ := segment.ReadFrame(p.data[p.recs[ri].off:]) // read whole once already
				if err := segment.ParseEvent(body, &v); err != nil {
					return err
				}
				var ev event.StoredEvent
				v.ToStored(&ev)
				if err := visit(&ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Run copies every intact event and every whole atomic batch of the store
// in src into a new store in dst, and reports what could not be copied.
// src is only read: no file there is written, created or locked (salvage
// a store no process has open). dst must not exist or be empty.
//
// Every kept frame is copied byte for byte, so ids, global sequences,
// per-entity sequences, timestamps, correlation and causation ids,
// idempotency keys and chain hashes are the originals; a batch whose
// marker was damaged gets it written anew. Each source segment with
// something kept becomes one segment of the new store, under the same
// id, written as a compacted segment (docs/FORMAT.md): its record says
// which global range it covers, which is how the new store accepts a
// per-entity sequence gap left by a lost event as a chain restart rather
// than damage. An empty segment follows, for the next writer. The new
// store numbers its next event above Report.LastGlobal.
//
// Before returning, Run verifies the new store (ErrResultInvalid if it
// does not verify, which would be a bug). It has no checkpoint yet: its
// first Open indexes it by scanning, and its Close writes one.
func Run(ctx context.Context, src, dst string, opts Options) (*Report, error) {
	fs := opts.fs()
	if err := checkDestination(fs, src, dst); err != nil {
		return nil, err
	}
	if err := vfs.MkdirAllDurable(fs, dst); err != nil {
		return nil, err
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	w := &segWriter{fs: fs, dir: dst, now: now}
	rep, err := analyse(ctx, fs, src, w.add)
	if err != nil {
		return nil, err
	}
	if err := w.finish(rep.LastGlobal); err != nil {
		return nil, err
	}
	if err := copyKindNames(fs, src, dst, rep); err != nil {
		return nil, err
	}
	if err := copyKeyset(fs, src, dst); err != nil {
		return nil, err
	}
	rep.Dest, rep.SegmentsWritten = dst, w.written
	vr, err := reader.Verify(ctx, fs, dst, nil)
	if err != nil {
		return rep, err
	}
	if !vr.OK() {
		return rep, fmt.Errorf("%w: %w", ErrResultInvalid, vr.Problem)
	}
	return rep, nil
}

// copyKindNames gives the new store the source's kind names, if they
// read back intact; damaged ones are left behind with a note (the events
// do not depend on them: tools print numbers instead).
func copyKindNames(fs vfs.FS, src, dst string, rep *Report) error {
	t, err := kinds.ReadFile(fs, src)
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("kind names not copied: %v", err))
		return nil
	}
	if len(t) == 0 {
		return nil
	}
	return vfs.WriteFileAtomic(fs, dst, kinds.FileName, kinds.MarshalTable(t))
}

// checkDestination refuses a destination that holds anything, or that is
// the source.
func checkDestination(fs vfs.FS, src, dst string) error {
	as, err1 := filepath.Abs(src)
	ad, err2 := filepath.Abs(dst)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if as == ad {
		return fmt.Errorf("%w: %s is the source", ErrDestination, dst)
	}
	names, err := fs.List(dst)
	switch {
	case vfs.IsNotExist(err):
		// The directories Run creates must be portable names, as a store's.
		if err := vfs.CheckNewPath(fs, dst); err != nil {
			return fmt.Errorf("%w: %w", ErrDestination, err)
		}
		return nil
	case err != nil:
		return err
	case len(names) > 0:
		return fmt.Errorf("%w: %s holds %d entries", ErrDestination, dst, len(names))
	}
	return nil
}

// copyKeyset copies an encrypted source's keyset (reader.KeysetFile) as it
// is: the rescued events' payloads are sealed with its keys, and the new
// store opens with the same key. (A torn last block, which held no key in
// use, is cut off when the new store is first opened for writing.)
func copyKeyset(fs vfs.FS, src, dst string) error {
	f, err := fs.Open(filepath.Join(src, reader.KeysetFile))
	if vfs.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return err
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := vfs.WriteFileAtomic(fs, dst, reader.KeysetFile, b); err != nil {
		return fmt.Errorf("batpak: copying the keyset: %w", err)
	}
	return nil
}
