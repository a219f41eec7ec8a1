package jetstream

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/react"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options configure Open. The zero value is usable: stream BATPAK on
// subjects evt.>, one replica, file storage.
type Options struct {
	// Stream is the JetStream stream's name (default "BATPAK").
	Stream string
	// Subject is the first token of the events' subjects (default "evt").
	// Two stores on one server need different streams and subjects.
	Subject string
	// Replicas is the stream's replication factor (default 1; 3 for a
	// cluster that survives the loss of one server).
	Replicas int
	// Memory keeps the stream in memory instead of files (tests, caches).
	Memory bool
	// DuplicateWindow is how long the server remembers message ids for
	// de-duplication (default 2 minutes). Idempotency keys are also kept in
	// the store's index bucket, so keyed retries are recognised after it too.
	DuplicateWindow time.Duration
	// Codec encodes non-[]byte payloads (default MessagePack).
	Codec event.Codec
	// MaxPayload bounds an encoded payload (default 1 MiB less room for the
	// record; the server's max_payload bounds it too).
	MaxPayload int
	// Timeout bounds each attempt of a JetStream API call (default 2 s);
	// Attempts is how many are made (default 8) before an error is returned.
	Timeout  time.Duration
	Attempts int
	// IDWindow bounds the scan Get falls back to when an id is missing from
	// the index bucket (default 5 s either side of the id's timestamp): the
	// clock skew tolerated between clients and servers.
	IDWindow time.Duration
	// Clock is the clock for timestamps and ids (default time.Now).
	Clock func() time.Time
	// Bind binds to the stream as it is, for tools that read it or back it
	// up: Open fails with ErrNoStream if it does not exist, creates and
	// changes nothing, and takes Subject, Replicas, Memory and
	// DuplicateWindow from the stream's settings.
	Bind bool
	// Logger receives the supervisor's reports of react loops that fail
	// (default slog.Default()).
	Logger *slog.Logger
	// ReceiptSigner, if set, signs every receipt the Store hands out, as
	// the embedded store's batpak.WithReceiptSigner does: Receipt.Proof
	// holds the store's id (ID, kept in the index bucket and shared by every
	// client) and a signature that verifies offline with the public key
	// alone (batpak.VerifyReceipt, `batpak verify-receipt`). Signing runs
	// on the client, after the server has stored the event.
	ReceiptSigner ed25519.PrivateKey
	// LoseAcks is for fault-injection tests: when it returns true, a
	// publish acknowledgement that did arrive is treated as lost (a
	// time-out), as a dropped connection or a leader change would lose it.
	LoseAcks func() bool
}

func (o *Options) defaults() error {
	if o.Stream == "" {
		o.Stream = "BATPAK"
	}
	if o.Subject == "" {
		o.Subject = "evt"
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 2 * time.Minute
	}
	if o.Codec == 0 {
		o.Codec = event.CodecMsgPack
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = 1<<20 - 8<<10
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Attempts == 0 {
		o.Attempts = 8
	}
	if o.IDWindow == 0 {
		o.IDWindow = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	switch {
	case !nameRE.MatchString(o.Stream):
		return fmt.Errorf("%w: stream name %q (letters, digits, '_' and '-')", batpak.ErrInvalidOption, o.Stream)
	case !nameRE.MatchString(o.Subject):
		return fmt.Errorf("%w: subject prefix %q (one token of letters, digits, '_' and '-')", batpak.ErrInvalidOption, o.Subject)
	case o.Replicas < 1 || o.Replicas > 5:
		return fmt.Errorf("%w: %d replicas (1 to 5)", batpak.ErrInvalidOption, o.Replicas)
	case o.Timeout < 0 || o.Attempts < 1 || o.MaxPayload < 0 || o.DuplicateWindow < 0:
		return fmt.Errorf("%w: negative timeout, payload bound or window, or no attempts", batpak.ErrInvalidOption)
	}
	return checkSigner(o.ReceiptSigner)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Store is the batpak facade over a JetStream stream. It is safe for
// concurrent use. It does not own the connection: close the *nats.Conn
// after the Store.
type Store struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	opts Options
	subj subjects
	api  string    // "$JS.API." (no JetStream domains yet)
	idx  string    // the index bucket's name
	id   batpak.ID // the store's id, with a ReceiptSigner (signing.go); set by Open

	kvMu    sync.Mutex
	kv      jetstream.KeyValue // bound on first use
	idIndex *idIndex
	names   kindNames // the kind names, kept in the index bucket (kinds.go)

	closed    atomic.Bool
	done      chan struct{} // closed by Close: wakes cursors and subscriptions
	closeOnce sync.Once

	// intake is held shared while a submitted append is registered in
	// writes, and exclusively by Close as it sets closing: Close then waits
	// for every submitted append's answer.
	intake  sync.RWMutex
	closing bool // guarded by intake
	writes  sync.WaitGroup
	pipe    *pipeline
	loops   *react.Loops

	clockMu sync.Mutex
	ids     *event.Generator
	hlc     event.HLC

	entMu    sync.Mutex
	entities map[string]*entityState

	liveMu sync.Mutex
	live   map[closer]struct{} // open cursors and subscriptions

	reads readMux // the answers of multi-gets (multiget.go)
}

type closer interface{ closeFromStore() }

// Compile-time proof that Store is a batpak.EventStore.
var _ batpak.EventStore = (*Store)(nil)

// Open binds a Store to the stream opts names on nc's server or cluster,
// creating the stream and the store's index bucket if they do not exist and
// updating their settings if they do. ctx bounds the whole call; each
// JetStream API call is retried on time-outs (an election can leave calls
// unanswered).
func Open(ctx context.Context, nc *nats.Conn, opts Options) (*Store, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil connection", batpak.ErrInvalidOption)
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s := &Store{
		nc: nc, js: js, opts: opts, subj: newSubjects(opts.Subject), api: "$JS.API.",
		idx:  opts.Stream + "_index",
		done: make(chan struct{}), ids: event.NewGenerator(event.ID{}),
		entities: map[string]*entityState{}, live: map[closer]struct{}{}, idIndex: newIDIndex(),
		pipe: newPipeline(),
	}
	if opts.Bind {
		if err := s.bind(ctx); err != nil {
			return nil, err
		}
		s.loops = newLoops(s)
		return s, nil
	}
	s.names.s = s
	if err := s.retry(ctx, "create stream", func(ctx context.Context) error {
		_, err := js.CreateOrUpdateStream(ctx, s.streamConfig())
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.retry(ctx, "create index bucket", func(ctx context.Context) error {
		_, err := js.CreateOrUpdateKeyValue(ctx, s.indexConfig())
		return err
	}); err != nil {
		return nil, err
	}
	if opts.ReceiptSigner != nil {
		if err := s.loadID(ctx); err != nil {
			return nil, err
		}
	}
	s.loops = newLoops(s)
	return s, nil
}

// ErrNoStream is returned by Open with Options.Bind for a stream that does
// not exist.
var ErrNoStream = errors.New("jetstream: no such stream")

// bind takes the settings of the existing stream (Options.Bind).
func (s *Store) bind(ctx context.Context) error {
	var cfg jetstream.StreamConfig
	err := s.retry(ctx, "look up stream", func(ctx context.Context) error {
		st, err := s.js.Stream(ctx, s.opts.Stream)
		if err == nil {
			cfg = st.CachedInfo().Config
		}
		return err
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%w: %q", ErrNoStream, s.opts.Stream)
	}
	if err != nil {
		return err
	}
	if len(cfg.Subjects) != 1 || !strings.HasSuffix(cfg.Subjects[0], ".>") || !nameRE.MatchString(strings.TrimSuffix(cfg.Subjects[0], ".>")) {
		return fmt.Errorf("%w: stream %q has subjects %q, not a batpak stream's", batpak.ErrInvalidOption, s.opts.Stream, cfg.Subjects)
	}
	s.opts.Subject = strings.TrimSuffix(cfg.Subjects[0], ".>")
	s.opts.Replicas, s.opts.Memory = max(cfg.Replicas, 1), cfg.Storage == jetstream.MemoryStorage
	if cfg.Duplicates > 0 {
		s.opts.DuplicateWindow = cfg.Duplicates
	}
	s.subj = newSubjects(s.opts.Subject)
	return nil
}

func (s *Store) storage() jetstream.StorageType {
	if s.opts.Memory {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

// streamConfig is the stream the mapping needs (see docs/SCALE-OUT.md).
func (s *Store) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:               s.opts.Stream,
		Description:        "batpak event log",
		Subjects:           []string{s.subj.all()},
		Retention:          jetstream.LimitsPolicy,
		Storage:            s.storage(),
		Replicas:           s.opts.Replicas,
		Duplicates:         s.opts.DuplicateWindow,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		DenyDelete:         true, // an event log is append-only
		DenyPurge:          true,
		MaxMsgSize:         -1,
		RePublish: &jetstream.RePublish{
			Source:      s.subj.all(),
			Destination: s.subj.rp + ".>",
			HeadersOnly: true, // notifications need the headers only
		},
	}
}

// indexConfig is the bucket of id and idempotency-key entries.
func (s *Store) indexConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      s.idx,
		Description: "batpak index: event id and idempotency key to stream sequence",
		History:     1,
		Storage:     s.storage(),
		Replicas:    s.opts.Replicas,
	}
}

// StreamName is the name of the store's stream.
func (s *Store) StreamName() string { return s.opts.Stream }

// Conn is the connection the store uses.
func (s *Store) Conn() *nats.Conn { return s.nc }

// Sync returns once everything acknowledged is stored: JetStream
// acknowledges a publish only once it is stored (on a replicated stream, on
// a quorum of servers), so there is nothing left to wait for. Whether
// "stored" includes an fsync is the server's sync_interval setting; see
// docs/SCALE-OUT.md.
func (s *Store) Sync(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	return s.nc.FlushWithContext(ctx)
}

// Close stops the react loops, waits for every submitted append's answer,
// then ends every cursor and subscription the store opened. It does not
// close the connection. It is idempotent; later calls to the store return
// batpak.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(s.close)
	return nil
}

func (s *Store) close() {
	_ = s.loops.Stop() // react loops append: stop them while the store takes their reactions
	s.intake.Lock()
	s.closing = true
	s.intake.Unlock()
	s.writes.Wait()
	s.closed.Store(true)
	close(s.done)
	s.closeIndex()
	s.closeReads()
	s.liveMu.Lock()
	live := s.live
	s.live = map[closer]struct{}{}
	s.liveMu.Unlock()
	for c := range live {
		c.closeFromStore()
	}
}

// beginWrite registers a submitted append, unless Close has begun.
func (s *Store) beginWrite() error {
	s.intake.RLock()
	defer s.intake.RUnlock()
	if s.closing {
		return batpak.ErrClosed
	}
	s.writes.Add(1)
	return nil
}

func (s *Store) endWrite() { s.writes.Done() }

// check returns batpak.ErrClosed once the store is closed.
func (s *Store) check() error {
	if s.closed.Load() {
		return batpak.ErrClosed
	}
	return nil
}

func (s *Store) track(c closer) error {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if s.closed.Load() {
		return batpak.ErrClosed
	}
	s.live[c] = struct{}{}
	return nil
}

func (s *Store) untrack(c closer) {
	s.liveMu.Lock()
	delete(s.live, c)
	s.liveMu.Unlock()
}

// stamp returns a fresh id, clock reading and timestamp.
func (s *Store) stamp() (id event.ID, wall uint64, counter uint32, us int64) {
	now := s.opts.Clock()
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	wall, counter = s.hlc.Tick(now.UnixMilli())
	return s.ids.Next(now.UnixMilli()), wall, counter, now.UnixMicro()
}

var errConflictLoop = errors.New("jetstream: too many concurrent writers on one entity")
