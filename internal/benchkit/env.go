package benchkit

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// Figure is one measured number of one run of a workload. Metric and Unit
// follow BENCH.md's output contract.
type Figure struct {
	Workload string
	Metric   string
	Value    float64
	Unit     string
}

// Workload is one canonical workload of BENCH.md. Run measures it once and
// returns its figures; the bench command repeats it and reports medians.
type Workload struct {
	ID    string
	Title string
	// Needs names workloads that must run before this one in each run,
	// because its ratios use their figures (W0's raw fsync rate).
	Needs []string
	Run   func(ctx context.Context, env *Env) ([]Figure, error)
}

// Env is what a workload runs with: where to put its temporary directory,
// how much to shrink, and the physical references measured earlier in
// the same run.
type Env struct {
	// Dir is the parent of each workload's fresh temporary directory.
	Dir string
	// Scale multiplies every workload's size (1 is BENCH.md's full size).
	Scale float64
	// FsyncsPerSec is the raw fsync rate W0 measured in this run, or 0.
	FsyncsPerSec float64
	// W3EventsPerSec is W3's rate of plain atomic batches in this run, or 0.
	W3EventsPerSec float64
	// SyncData makes every store sync its segments with fdatasync
	// (batpak.SyncData), and W0 measure fdatasync instead of fsync.
	SyncData bool
	// Options are added to every store a workload opens with WithStore:
	// the bench's --encrypt and --sign switches, to price an option.
	Options []batpak.Option
}

// n scales a full-size count, never below floor.
func (e *Env) N(full, floor int) int {
	return max(floor, int(math.Round(float64(full)*e.Scale)))
}

// tempDir makes a fresh directory for workload id; cleanup removes it.
func (e *Env) TempDir(id string) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp(e.Dir, "batpak-bench-"+id+"-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// withStore opens a store with opts in a fresh directory, runs f, closes
// the store, runs after (if not nil) on the closed store's directory, and
// removes the directory.
func (e *Env) WithStore(id string, opts []batpak.Option, f func(s *batpak.Store) error, after func(dir string) error) error {
	dir, cleanup, err := e.TempDir(id)
	if err != nil {
		return err
	}
	defer cleanup()
	if e.SyncData {
		opts = append(slices.Clip(opts), batpak.WithSyncMode(batpak.SyncData))
	}
	opts = append(slices.Clip(opts), e.Options...)
	s, err := batpak.Open(dir, opts...)
	if err != nil {
		return fmt.Errorf("%s: opening the store: %w", id, err)
	}
	err = f(s)
	if cerr := s.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("%s: closing the store: %w", id, cerr)
	}
	if err == nil && after != nil {
		err = after(dir)
	}
	return err
}

// The common shape of BENCH.md: entity player:{i%1000}, scope room:{i%10},
// one custom kind, payload {"x": i, "y": 2*i}.
var (
	Kind   = event.MustCustom(1, 1)
	coords = func() []batpak.Coordinate {
		cs := make([]batpak.Coordinate, 1000)
		for i := range cs {
			cs[i] = event.MustCoordinate(fmt.Sprintf("player:%d", i), fmt.Sprintf("room:%d", i%10))
		}
		return cs
	}()
)

func CoordOf(i int) batpak.Coordinate { return coords[i%len(coords)] }

func PayloadOf(i int) any { return map[string]int{"x": i, "y": 2 * i} }

// Latencies records the duration of each operation of a workload.
type Latencies []time.Duration

// percentile returns the p-th percentile (0 < p ≤ 100) by nearest rank.
// It sorts l.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	rank := int(math.Ceil(p / 100 * float64(len(l))))
	return l[min(max(rank, 1), len(l))-1]
}

func (l Latencies) Figures(id string) []Figure {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return []Figure{
		{id, "p50_us", us(l.Percentile(50)), "µs"},
		{id, "p99_us", us(l.Percentile(99)), "µs"},
	}
}

func Rate(n int, d time.Duration) float64 {
	if d <= 0 {
		d = time.Nanosecond
	}
	return float64(n) / d.Seconds()
}

// segmentBytes sums the sizes of the segment files in dir.
func segmentBytes(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".seg") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}

// countingFS is the real file system, counting every File.Sync (and,
// apart, every SyncDir) so a workload can report events per fsync.
type countingFS struct {
	vfs.FS
	syncs    atomic.Int64
	dirSyncs atomic.Int64
}

func newCountingFS() *countingFS { return &countingFS{FS: vfs.OS} }

func (c *countingFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	cf := countingFile{File: f, syncs: &c.syncs}
	if m, ok := f.(vfs.Mappable); ok {
		// Keep the store's mapped write path: counting must not change
		// what is measured.
		return countingMappableFile{cf, m}, nil
	}
	return cf, nil
}

func (c *countingFS) Create(name string) (vfs.File, error) { return c.wrap(c.FS.Create(name)) }
func (c *countingFS) OpenRW(name string) (vfs.File, error) { return c.wrap(c.FS.OpenRW(name)) }
func (c *countingFS) Open(name string) (vfs.File, error)   { return c.wrap(c.FS.Open(name)) }

func (c *countingFS) SyncDir(dir string) error {
	c.dirSyncs.Add(1)
	return c.FS.SyncDir(dir)
}

type countingFile struct {
	vfs.File
	syncs *atomic.Int64
}

func (f countingFile) Sync() error {
	f.syncs.Add(1)
	return f.File.Sync()
}

// SyncData counts an fdatasync as a sync, and passes it on (fsync where
// the file has no fdatasync).
func (f countingFile) SyncData() error {
	f.syncs.Add(1)
	return vfs.SyncData(f.File)
}

type countingMappableFile struct {
	countingFile
	mappable vfs.Mappable
}

func (f countingMappableFile) MapWritable(size int64) ([]byte, error) {
	return f.mappable.MapWritable(size)
}

func (f countingMappableFile) Unmap() error { return f.mappable.Unmap() }
