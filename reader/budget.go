package reader

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"

	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// ErrSegmentReplaced is returned when a segment closed by the budget is
// reopened and its file is no longer the one first opened: a compaction
// (by the writing process, seen from a read-only store) replaced it.
// Reopen the store to read the compacted log.
var ErrSegmentReplaced = errors.New("batpak: segment file replaced since the store was opened (compacted?)")

// budget bounds the segments kept open and mapped. Recency is kept in
// epochs rather than a list: a read stamps its segment with the current
// epoch (an atomic load, and a store only when the stamp changes, so hot
// reads share no written cache line), and each reopen starts a new epoch.
// Eviction closes the open segments with the oldest stamps.
type budget struct {
	fs     vfs.FS
	dir    string
	max    int               // open unpinned segments allowed; 0: no bound
	pinned func(uint64) bool // segments the writer may still touch (by file id)
	epoch  atomic.Uint64

	Evictions atomic.Int64
	Reopens   atomic.Int64
}

func (b *budget) touch(sf *segFile) {
	if e := b.epoch.Load(); sf.used.Load() != e {
		sf.used.Store(e)
	}
}

// SetBudget bounds the segments kept open (and mapped) at once to max
// (0: no bound), closing the least recently read beyond it; a closed one
// is reopened, read-only, from dir on fs when next read. Never closed are:
// segments pinned(fileID) reports (the store passes those the writer may
// still sync), the newest segment (the writer's, or a follower's), and segments
// compaction replaced (their files are gone).
func (s *Segments) SetBudget(fs vfs.FS, dir string, max int, pinned func(fileID uint64) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lru.fs, s.lru.dir, s.lru.max, s.lru.pinned = fs, dir, max, pinned
	s.evictLocked()
}

// BudgetStats returns how many segments are open and mapped, and how many
// evictions and reopens the budget has made.
func (s *Segments) BudgetStats() (open int, evictions, reopens int64) {
	s.mu.RLock()
	for _, sf := range s.files {
		if sf.f != nil {
			open++
		}
	}
	s.mu.RUnlock()
	return open, s.lru.Evictions.Load(), s.lru.Reopens.Load()
}

// evictLocked closes the least recently read evictable segments until at
// most the budget's max are open. The caller holds s.mu exclusively, so
// no reader is inside a mapping or file being closed.
func (s *Segments) evictLocked() {
	b := &s.lru
	if b.max <= 0 {
		return
	}
	var newest uint64
	for _, sf := range s.files {
		if !sf.gone {
			newest = max(newest, sf.file)
		}
	}
	var cands []uint64
	for id, sf := range s.files {
		if sf.f != nil && !sf.gone && sf.file != newest && sf.refs.Load() == 0 &&
			(b.pinned == nil || !b.pinned(sf.file)) {
			cands = append(cands, id)
		}
	}
	for len(cands) > b.max {
		oldest := 0
		for i, id := range cands {
			a, o := s.files[id], s.files[cands[oldest]]
			if a.used.Load() < o.used.Load() || (a.used.Load() == o.used.Load() && id < cands[oldest]) {
				oldest = i
			}
		}
		sf := s.files[cands[oldest]]
		sf.size = sf.sizeLocked()
		if sf.m != nil {
			_ = vfs.UnmapRead(sf.m)
		}
		_ = sf.f.Close()
		sf.f, sf.m = nil, nil
		b.Evictions.Add(1)
		cands[oldest] = cands[len(cands)-1]
		cands = cands[:len(cands)-1]
	}
}

// reopenLocked opens an evicted segment again, read-only. The caller holds
// s.mu exclusively, and evicts (evictLocked) once done with it.
func (s *Segments) reopenLocked(id uint64) (*segFile, error) {
	sf := s.files[id]
	if sf == nil {
		return nil, s.missingLocked(id)
	}
	if sf.f != nil {
		return sf, nil // another reader reopened it
	}
	if s.lru.fs == nil {
		return nil, fmt.Errorf("%w: %016x (closed)", ErrSegmentMissing, id)
	}
	f, err := s.lru.fs.Open(filepath.Join(s.lru.dir, segment.FileName(sf.file)))
	if err != nil {
		return nil, fmt.Errorf("batpak: reopening segment %016x: %w", sf.file, err)
	}
	if c := headerCreated(f); c != sf.created {
		f.Close()
		return nil, fmt.Errorf("%w: %016x", ErrSegmentReplaced, sf.file)
	}
	sf.attach(f)
	sf.used.Store(s.lru.epoch.Add(1))
	s.lru.Reopens.Add(1)
	return sf, nil
}
