package batpak

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/supervisor"
	"github.com/batpak-go/batpak/vfs"
	"github.com/batpak-go/batpak/writer"
)

// config holds every knob (docs/TUNING.md); the writer's are in w, with
// the writer's defaults and bounds (writer.Defaults, Config.Check).
type config struct {
	w             writer.Config
	durability    event.Durability
	syncMode      SyncMode
	restart       RestartPolicy
	logger        *slog.Logger
	codec         event.Codec
	maxPayload    int
	maxBatchItems int
	maxBatchBytes int
	maxOpenSegs   int
	fs            vfs.FS
	modes         vfs.Modes // what the store's files should have (loose-mode warnings)
	modesSet      bool      // WithFileMode was given: create with modes
	inject        func(InjectionPoint) error
	keys          keyring.Wrapper    // WithEncryption: nil stores payloads as they are
	keysSet       bool               // WithEncryption was given (a nil wrapper is refused)
	signer        ed25519.PrivateKey // WithReceiptSigner: nil signs nothing
}

// newConfig applies opts to the defaults and checks the result.
func newConfig(opts []Option) (config, error) {
	c := config{
		w: writer.Defaults(), durability: event.Durable, restart: RestartPolicy{MaxRestarts: 3, Within: time.Minute},
		codec: event.CodecMsgPack, maxPayload: event.DefaultMaxPayload, maxBatchItems: 10000,
		maxBatchBytes: 64 << 20, maxOpenSegs: 256, fs: vfs.OS, logger: slog.Default(), modes: vfs.PrivateModes,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c, c.check()
}

// check reports every option out of its bounds (ErrInvalidOption).
func (c *config) check() error {
	var errs []error
	bad := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...))
		}
	}
	bad(c.durability == event.Durable || c.durability == event.OnWrite, "durability %v", c.durability)
	bad(c.syncMode == SyncAll || c.syncMode == SyncData, "sync mode %v", c.syncMode)
	bad(c.restart.MaxRestarts >= 0, "restart policy of %d restarts", c.restart.MaxRestarts)
	bad(c.codec <= event.CodecJSON, "codec %v", c.codec)
	bad(c.maxPayload >= 1 && c.maxPayload <= 256<<20, "max payload %d outside 1 B–256 MiB", c.maxPayload)
	bad(c.maxBatchItems >= 1 && int64(c.maxBatchItems) <= segment.MaxBatchCount && c.maxBatchBytes >= 1 && c.maxBatchBytes <= 1<<30,
		"batch limits %d items / %d bytes", c.maxBatchItems, c.maxBatchBytes)
	bad(c.maxOpenSegs >= 1, "max open segments %d below 1", c.maxOpenSegs)
	bad(!c.keysSet || c.keys != nil, "nil key wrapper (WithEncryption)")
	bad(c.signer == nil || len(c.signer) == ed25519.PrivateKeySize,
		"receipt signer: an Ed25519 private key is %d bytes, not %d", ed25519.PrivateKeySize, len(c.signer))
	bad(c.signer == nil || c.w.HashChain, "signed receipts need the hash chain (WithHashChain)")
	bad(c.fs != nil, "nil file system")
	f, d := c.modes.File, c.modes.Dir
	bad(f&^fs.ModePerm == 0 && d&^fs.ModePerm == 0 && f&0o600 == 0o600 && d&0o700 == 0o700,
		"file mode %04o / directory mode %04o: permission bits only, owner rw (files) and rwx (directories)", uint32(f), uint32(d))
	return errors.Join(append(errs, c.w.Check())...)
}

// WithMaxOpenSegments bounds the sealed segments kept open and mapped at
// once (default 256; at least 1): beyond it the least recently read are
// closed, and reopened when next read. The active segment and those the
// writer may still sync are not counted. Applies to OpenReadOnly too.
func WithMaxOpenSegments(n int) Option { return func(c *config) { c.maxOpenSegs = n } }

// Option configures Open.
type Option func(*config)

// WithSegmentSize sets the size at which the active segment is sealed and
// a new one started (default 64 MiB; 64 KiB to 1 GiB).
func WithSegmentSize(bytes int64) Option { return func(c *config) { c.w.SegmentSize = bytes } }

// WithDurability sets the default durability mode (default Durable).
func WithDurability(d Durability) Option { return func(c *config) { c.durability = d } }

// SyncMode says how the store makes a segment's bytes durable.
type SyncMode uint8

const (
	// SyncAll uses fsync(2): the file's data and all its metadata (the
	// default, as batpak-rust's SyncMode::SyncAll).
	SyncAll SyncMode = iota
	// SyncData uses fdatasync(2) where the platform has it (Linux; fsync
	// elsewhere): the data and the file's size, not its timestamps (as
	// batpak-rust's SyncMode::SyncData), which is all a preallocated
	// segment needs to be read back; other files are still fsynced in full.
	// Acknowledgements mean the same in either mode (docs/TUNING.md).
	SyncData
)

func (m SyncMode) String() string {
	switch m {
	case SyncAll:
		return "sync-all"
	case SyncData:
		return "sync-data"
	}
	return fmt.Sprintf("sync-mode(%d)", uint8(m))
}

// WithSyncMode sets how segment data is synced (default SyncAll).
func WithSyncMode(m SyncMode) Option {
	return func(c *config) { c.syncMode, c.w.SyncData = m, m == SyncData }
}

// WithSyncEvery bounds the on-write events left unsynced: an fsync follows
// every n events (default 1000) and at least every interval (default
// 100 ms). n 0 disables the count, interval 0 the timer.
func WithSyncEvery(n int, interval time.Duration) Option {
	return func(c *config) { c.w.SyncEveryN, c.w.SyncInterval = n, interval }
}

// WithGroupCommitWait bounds how long a durable group commit waits for the
// callers released by the previous fsync to come back before syncing
// (default 250 µs; 0 syncs at once). It trades a little latency, when the
// number of concurrent writers shrinks, for many more events per fsync.
func WithGroupCommitWait(d time.Duration) Option { return func(c *config) { c.w.GroupCommitWait = d } }

// WithMailbox sets the writer's mailbox capacity (default 4096). A full
// mailbox blocks callers until there is room or their context ends. Every
// queue's bound and policy: docs/ARCHITECTURE.md, "Queues".
func WithMailbox(capacity int) Option { return func(c *config) { c.w.Mailbox = capacity } }

// WithMaxDrain sets how many queued commands the writer takes per write
// (default 1024).
func WithMaxDrain(n int) Option { return func(c *config) { c.w.MaxDrain = n } }

// RestartPolicy says how often a crashed actor is restarted: at most
// MaxRestarts times in any window of length Within (Within <= 0: over its
// whole life); the zero RestartPolicy never restarts. A failure past it
// escalates: the store fails stop (writer, fsync), a react loop ends.
type RestartPolicy struct {
	MaxRestarts int
	Within      time.Duration
}

// supervised is p as the supervisor takes it.
func (p RestartPolicy) supervised() supervisor.Policy {
	return supervisor.Bounded{MaxRestarts: p.MaxRestarts, Within: p.Within}
}

// WithRestartPolicy sets the restart policy of the store's actors, react
// loops (ReactRestart) and live projections (NewProjector) (default
// RestartPolicy{MaxRestarts: 3, Within: time.Minute}).
func WithRestartPolicy(p RestartPolicy) Option { return func(c *config) { c.restart = p } }

// WithShutdownDrainLimit sets how many queued commands Close still
// processes (default 1,048,576); the rest get ErrShuttingDown.
func WithShutdownDrainLimit(n int) Option { return func(c *config) { c.w.DrainLimit = n } }

// WithClock sets the clock used for timestamps and ids (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.w.Clock = now } }

// WithHashChain turns the per-entity Blake3 hash chain on or off for new
// events (default on). Off, events store no hash (32 bytes less each).
func WithHashChain(on bool) Option { return func(c *config) { c.w.HashChain = on } }

// WithLogger sets the logger for restarts and recovery (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithCodec sets the codec for non-[]byte payloads (default MsgPack).
func WithCodec(codec Codec) Option { return func(c *config) { c.codec = codec } }

// WithMaxPayload bounds an encoded payload (default 8 MiB; at most 256 MiB).
func WithMaxPayload(bytes int) Option { return func(c *config) { c.maxPayload = bytes } }

// WithBatchLimits bounds an atomic batch by item count (default 10,000; at
// most 2^31, the most a batch marker records) and total payload bytes
// (default 64 MiB; at most 1 GiB).
func WithBatchLimits(items, bytes int) Option {
	return func(c *config) { c.maxBatchItems, c.maxBatchBytes = items, bytes }
}

// WithFS sets the file system (default the real one). Tests pass the
// crash-simulating or error-injecting file systems of package vfs.
func WithFS(fs vfs.FS) Option { return func(c *config) { c.fs = fs } }

// WithFileMode sets the permission bits of the files and directories the
// store creates (default 0600 and 0700: the owner alone), less the umask;
// teams whose services share a group may choose 0640 and 0750. Both must
// keep the owner's read and write (and search) bits; only permission bits
// are allowed. They reach the file system through vfs.WithModes (OS, MemFS
// and the test wrappers apply them); without this option it creates with
// its own, for OS and MemFS these defaults. Open never changes existing
// files' modes: it logs a warning for those open to group or other users.
// On Windows (access by ACLs) the modes are neither applied nor checked.
func WithFileMode(files, dirs fs.FileMode) Option {
	return func(c *config) { c.modes, c.modesSet = vfs.Modes{File: files, Dir: dirs}, true }
}

// InjectionPoint names a place on the write path where the function given
// to WithInjection is called.
type InjectionPoint string

// The injection points, on the writer's goroutine unless said otherwise.
const (
	InjectBeforeWrite   InjectionPoint = "before-write"   // before a drained group is written
	InjectBatchBegin    InjectionPoint = "batch-begin"    // before a batch's BEGIN marker is encoded
	InjectBatchItem     InjectionPoint = "batch-item"     // before each item of a batch is encoded
	InjectBatchCommit   InjectionPoint = "batch-commit"   // before a batch's COMMIT marker is encoded
	InjectBeforeHandoff InjectionPoint = "before-handoff" // before written bytes go to the fsync actor
	InjectBeforeFsync   InjectionPoint = "before-fsync"   // the fsync actor, before it syncs
	InjectBeforePublish InjectionPoint = "before-publish" // the fsync actor, before synced events become visible
	InjectRotate        InjectionPoint = "rotate"         // before the active segment is sealed and a new one started
)

// writerInject is the injection function as the writer calls it.
func (c *config) writerInject() func(writer.Point) error {
	if c.inject == nil {
		return nil
	}
	return func(p writer.Point) error { return c.inject(InjectionPoint(p)) }
}

// WithInjection calls fn at the injection points of the write path; an
// error it returns fails the store as a storage error would, and a panic
// in it crashes the actor. For fault-injection tests only.
func WithInjection(fn func(InjectionPoint) error) Option {
	return func(c *config) { c.inject = fn }
}
