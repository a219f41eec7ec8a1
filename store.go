package batpak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/index"
	"github.com/batpak-go/batpak/internal/instrument"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/react"
	"github.com/batpak-go/batpak/reader"
	"github.com/batpak-go/batpak/subscriber"
	"github.com/batpak-go/batpak/supervisor"
	"github.com/batpak-go/batpak/vfs"
	"github.com/batpak-go/batpak/writer"
)

// Store is an open event store. All methods are safe for concurrent use.
type Store struct {
	dir  string
	cfg  config
	log  *slog.Logger
	lock io.Closer

	idx   *index.Index
	segs  *reader.Segments
	w     *writer.Writer
	fsync *writer.Fsync
	sup   *supervisor.Supervisor
	hub   *subscriber.Hub // the fan-out actor, lossy subscriptions and cursors; nil read-only
	loops *react.Loops    // react loops; nil read-only

	report  event.RecoveryReport
	metrics *instrument.Set // the instruments Metrics reads
	names   *kinds.File     // the kind names kept in the directory (KindNames)

	id   ID               // the store's id (STOREID); zero on a read-only store without one
	keys *keyring.Keyring // WithEncryption: seals and opens payloads; nil otherwise

	done      chan struct{} // closed once the writer stopped for good (Close, escalation): waiters stop
	doneOnce  sync.Once
	escalated atomic.Pointer[error]

	// intake is held shared by each caller handing a command to the writer,
	// and exclusively by Close once closed is set: nothing slips into the
	// mailbox after the writer drained it.
	intake    sync.RWMutex
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// maint serialises what reads or changes segment files as files
	// (Compact, Snapshot, Verify, Close's checkpoint).
	maint          sync.Mutex
	compacted      atomic.Bool // the checkpoint is of a rebuilt copy (reader.SaveCheckpoint)
	lastCompaction atomic.Pointer[CompactReport]

	readOnly  bool              // OpenReadOnly: no writer, no supervisor
	rec       *reader.Recovered // read-only: where Refresh continues
	refreshMu sync.Mutex        // serialises Refresh
}

// Open opens (creating if needed) the store in dir. It takes an exclusive
// lock on the directory — a second Open of the same directory, in this
// process or another, fails with ErrLocked — and recovers the log: a torn
// tail is truncated and reported in Stats().Recovery; damage before it is a
// *CorruptionError. A directory holding files a store does not make — a
// batpak-rust store, for one — is refused with a *ForeignDirError, and
// nothing is created in it.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	// Only a choice of modes wraps the file system: without one, it creates
	// with its own (private for OS and MemFS).
	if cfg.modesSet {
		cfg.fs = vfs.WithModes(cfg.fs, cfg.modes)
	}
	// A wrong key, or none for an encrypted store, changes nothing.
	if err := reader.CheckKeys(cfg.fs, dir, cfg.keys, false); err != nil {
		return nil, err
	}
	lock, err := reader.LockDir(cfg.fs, dir)
	if err != nil {
		return nil, err
	}
	vfs.WarnLooseModes(cfg.logger, cfg.fs, dir, cfg.modes)
	s, err := open(dir, cfg, lock)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

func open(dir string, cfg config, lock io.Closer) (*Store, error) {
	id, err := reader.StoreID(cfg.fs, dir)
	if err != nil {
		return nil, err
	}
	rec, err := reader.Recover(reader.Options{FS: cfg.fs, Dir: dir})
	if err != nil {
		return nil, reader.SalvageHint(err, dir)
	}
	keys, err := reader.OpenKeys(cfg.fs, dir, cfg.keys, rec.Segments, rec.Index, false)
	if err != nil {
		rec.Segments.Close()
		return nil, err
	}
	// Numbering resumes above every global sequence a crash may have used.
	reserved, err := writer.ReadReservation(cfg.fs, dir)
	if err != nil {
		rec.Segments.Close()
		keys.Close()
		return nil, err
	}
	lastGlobal := max(rec.LastGlobal, reserved)
	s := &Store{
		dir: dir, cfg: cfg, log: cfg.logger, lock: lock,
		idx: rec.Index, segs: rec.Segments, report: rec.Report,
		metrics: instrument.NewSet(), names: kinds.OpenFile(cfg.fs, dir, nil), done: make(chan struct{}), id: id, keys: keys,
	}
	s.hub = newHub(s)
	s.loops = newLoops(s)
	if rec.Report.Torn || len(rec.Report.RemovedSegments) > 0 {
		s.log.Warn("batpak: recovered a torn tail", "dir", dir, "report", rec.Report.String())
	}
	wc := cfg.w
	wc.FS, wc.Dir, wc.Index = cfg.fs, dir, rec.Index
	wc.LoadEvent = func(e index.Entry) (*event.StoredEvent, error) { return rec.Segments.Read(rec.Index, e) }
	wc.ReadSegment, wc.BeginsBatch, wc.OnSegment = rec.Segments.ReadAt, rec.Segments.BeginsBatch, rec.Segments.Add
	wc.OnPublish, wc.Inject, wc.Metrics, wc.Opener = s.hub.Publish, cfg.writerInject(), s.metrics, keys.Opener()
	s.w, s.fsync, err = writer.New(wc, writer.Start{
		SegmentID: rec.LastSegment, File: rec.LastFile, End: rec.LastEnd,
		LastGlobal: lastGlobal, LastID: rec.LastID, LastPos: rec.LastPos, Footer: rec.LastFooter,
	}, s.done)
	if err != nil {
		rec.Segments.Close()
		keys.Close()
		return nil, err
	}
	// The budget closes a segment the writer wrote only once the fsync actor is done with it.
	rec.Segments.SetBudget(cfg.fs, dir, cfg.maxOpenSegs, func(file uint64) bool { return !s.fsync.Settled(file) })
	s.sup = supervisor.New(supervisor.Options{Logger: s.log, OnEscalate: s.escalate})
	// In dependency order: Stop runs in reverse, so the writer drains first,
	// the fsync actor syncs what it was handed, the fan-out delivers the rest.
	if err := errors.Join(
		s.sup.Add("fanout", s.hub.Fanout(), cfg.restart.supervised()),
		s.sup.Add("fsync", s.fsync, cfg.restart.supervised()),
		s.sup.Add("writer", s.w, cfg.restart.supervised()),
		s.sup.Start(),
	); err != nil {
		s.sup.Stop(context.Background())
		rec.Segments.Close()
		keys.Close()
		return nil, err
	}
	return s, nil
}

// escalate runs when an actor crashed past its restart budget: the store
// fails stop, and callers waiting on it stop waiting.
func (s *Store) escalate(service string, cause error) {
	err := fmt.Errorf("%w: %s actor stopped after repeated crashes: %w", ErrFailStop, service, cause)
	s.escalated.CompareAndSwap(nil, &err)
	s.log.Error("batpak: actor escalated; the store no longer accepts writes", "actor", service, "err", cause)
	s.doneOnce.Do(func() { close(s.done) })
}

// Close stops intake, lets the writer finish the commands already accepted
// (up to the shutdown drain limit; the rest get ErrShuttingDown), syncs,
// joins every goroutine the store started and closes every file. It is
// idempotent; later calls to the store return ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.readOnly {
			s.closed.Store(true)
			s.refreshMu.Lock()
			defer s.refreshMu.Unlock()
			s.closeErr = errors.Join(s.segs.Close(), s.keys.Close())
			return
		}
		rerr := s.loops.Stop() // react loops append: stop them while the writer runs
		s.closed.Store(true)
		s.names.Close(ErrClosed)
		s.intake.Lock() // wait out callers mid-send; later ones see closed
		s.intake.Unlock()
		err := s.sup.Stop(context.Background())
		s.maint.Lock() // wait out a Compact or Snapshot in progress
		defer s.maint.Unlock()
		if err == nil && s.failure() == nil { // a store that failed stop writes none: Open scans
			seg, end := s.w.Tail()
			err = reader.SaveCheckpoint(s.cfg.fs, s.dir, s.idx, s.segs, seg, end, s.compacted.Load())
		}
		s.doneOnce.Do(func() { close(s.done) })
		s.hub.Close() // end lossy subscriptions once the fan-out has delivered
		s.closeErr = errors.Join(rerr, err, s.w.Failure(), s.segs.Close(), s.keys.Close(), s.lock.Close())
	})
	return s.closeErr
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// KindNames is the store's table of kind names (package kinds), kept in
// its directory (docs/FORMAT.md, "Kind names"): a typed append teaches it
// its kind's name before the event is written. On a read-only store Learn
// returns ErrReadOnly for a name it does not hold, and Refresh rereads it.
func (s *Store) KindNames() kinds.Names { return s.names }

// Stats is a snapshot of the store's counters.
type Stats struct {
	Events         int
	Entities       int
	Scopes         int
	Segments       int
	LastGlobal     uint64 // the newest visible global sequence (durable, in Durable mode)
	MailboxDepth   int
	WriterRestarts int
	FsyncRestarts  int
	FailStop       error // non-nil once writes have stopped
	Recovery       RecoveryReport
}

// Stats returns current counters and the last recovery report.
func (s *Store) Stats() Stats {
	events, entities, scopes := s.idx.Counts()
	st := Stats{
		Events: events, Entities: entities, Scopes: scopes,
		Segments: s.segs.Count(), LastGlobal: s.idx.LastGlobal(),
		FailStop: s.failure(), Recovery: s.report,
	}
	if !s.readOnly {
		st.MailboxDepth = s.w.Mailbox().Len()
		st.WriterRestarts, st.FsyncRestarts = s.sup.Restarts("writer"), s.sup.Restarts("fsync")
	}
	return st
}

func (s *Store) failure() error {
	if p := s.escalated.Load(); p != nil {
		return *p
	}
	if s.readOnly {
		return nil
	}
	return s.w.Failure()
}
