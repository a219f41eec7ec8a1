package keyring

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
	"golang.org/x/crypto/chacha20poly1305"
)

// Errors of the keyring.
var (
	// ErrWrongKey: the wrapper (master key) given does not unwrap the
	// keyset's check value. Open changes nothing then.
	ErrWrongKey = errors.New("batpak: wrong key: it does not open this store's keyset")
	// ErrUnknownKey: a sealed payload names a key number the keyset never
	// gave out (a keyset older than the log, or a payload from elsewhere).
	ErrUnknownKey = errors.New("batpak: sealed payload names a key this keyset never had")
	// ErrFailed is matched by every error of a keyring whose keyset file
	// failed to write: it makes no keys and shreds nothing more (reads go
	// on). Reopen the store.
	ErrFailed = errors.New("batpak: keyset write failed")
)

// Latest finds the key an entity's newest event was sealed with, for
// reusing it after a reopen (ok false: none, or not sealed).
type Latest func(entity string) (key uint64, ok bool, err error)

// Keyring is a store's data keys: one per entity, wrapped in the keyset
// file. It seals payloads on the appending goroutine and opens them on the
// reading one; any number of goroutines may use it at once.
type Keyring struct {
	fs     vfs.FS
	dir    string
	w      Wrapper
	latest Latest // nil: never reuse a key across sessions
	check  []byte // the header's wrapped check value, rewritten as is

	mu       sync.RWMutex
	wrapped  map[uint64][]byte      // every key of the keyset file (guarded by mu)
	aeads    map[uint64]cipher.AEAD // keys unwrapped so far (guarded by mu)
	byEntity map[string]*dataKey    // each entity's current key (guarded by mu)
	next     uint64                 // every number below has been given out (guarded by mu; written with growMu too)

	// growMu serialises what writes the keyset file: giving out keys
	// (making blocks) and shredding.
	growMu   sync.Mutex
	f        vfs.File // the keyset file, for appending; nil when read-only (guarded by growMu)
	size     int64    // its length, every byte synced (guarded by growMu)
	pool     []uint64 // keys written and synced, given to no entity yet (guarded by growMu)
	block    int      // keys in the next block made (guarded by growMu)
	failed   error    // sticky: the file's state is unknown (guarded by growMu)
	readOnly bool
}

// dataKey is an entity's current key.
type dataKey struct {
	n    uint64
	aead cipher.AEAD
}

// Block sizes: a session's first block holds minBlock keys and each next
// one twice as many, up to maxBlock, so a session that makes few keys
// leaves few unused, and one that makes many syncs the file rarely.
const (
	// maxFile bounds the keyset file read at Open (about 40 million keys).
	maxFile = 4 << 30

	minBlock = 4
	maxBlock = 256
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the keyset to read payloads only: no key is made, a
	// torn last block is ignored rather than cut off, nothing is written.
	ReadOnly bool
	// Create makes a keyset file if the directory has none (not with
	// ReadOnly).
	Create bool
	// Latest, if set, lets an entity reuse the key of its newest event
	// after a reopen, rather than get a new one each session.
	Latest Latest
}

// Exists reports whether dir holds a keyset file.
func Exists(fsys vfs.FS, dir string) (bool, error) {
	f, err := fsys.Open(filepath.Join(dir, Name))
	if err != nil {
		if vfs.IsNotExist(err) {
			return false, nil
		}
		return false, err
	}
	return true, f.Close()
}

// Check reads dir's keyset file and checks that w unwraps its check value,
// writing nothing: ErrWrongKey if not. A store calls it before it takes
// its lock or changes any file. A directory without a keyset passes.
func Check(fsys vfs.FS, dir string, w Wrapper) error {
	b, err := readAll(fsys, filepath.Join(dir, Name))
	if vfs.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	check, _, err := parseHeader(b)
	if err != nil {
		return err
	}
	return checkWrapper(w, check)
}

func checkWrapper(w Wrapper, check []byte) error {
	if _, err := w.Unwrap(check, []byte(checkAAD)); err != nil {
		return fmt.Errorf("%w (%v)", ErrWrongKey, err)
	}
	return nil
}

// Open opens dir's keyset with w (see Options). A nil w opens it read-only
// without keys: it tells a shredded payload (ErrShredded) from one it
// cannot open (ErrSealed), for readers without the key. It checks w first and
// changes nothing if it is wrong (ErrWrongKey); then, for a writable open,
// removes a leftover temporary file of an interrupted shred and cuts off
// a torn last block (with an fsync), and with Create makes the keyset if
// there is none. Without a keyset and without Create it returns nil, nil.
func Open(fsys vfs.FS, dir string, w Wrapper, opts Options) (*Keyring, error) {
	name := filepath.Join(dir, Name)
	b, err := readAll(fsys, name)
	switch {
	case vfs.IsNotExist(err) && opts.Create && !opts.ReadOnly:
		return create(fsys, dir, w, opts)
	case vfs.IsNotExist(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	p, err := parse(b)
	if err != nil {
		return nil, err
	}
	if w == nil && !opts.ReadOnly {
		return nil, errors.New("batpak: a keyring without a wrapper is read-only")
	}
	if w != nil {
		if err := checkWrapper(w, p.check); err != nil {
			return nil, err
		}
	}
	k := newKeyring(fsys, dir, w, opts, p.check)
	k.wrapped, k.next, k.size = p.keys, p.next, p.end
	if opts.ReadOnly {
		return k, nil
	}
	if err := fsys.Remove(filepath.Join(dir, TempName)); err != nil && !vfs.IsNotExist(err) {
		return nil, err
	}
	f, err := fsys.OpenRW(name)
	if err != nil {
		return nil, err
	}
	if p.torn {
		if err = f.Truncate(p.end); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("batpak: cutting the keyset's torn last block: %w", err)
		}
	}
	k.f = f
	return k, nil
}

func newKeyring(fsys vfs.FS, dir string, w Wrapper, opts Options, check []byte) *Keyring {
	return &Keyring{
		fs: fsys, dir: dir, w: w, latest: opts.Latest, check: check, readOnly: opts.ReadOnly,
		wrapped: map[uint64][]byte{}, aeads: map[uint64]cipher.AEAD{}, byEntity: map[string]*dataKey{},
		next: 1, block: minBlock,
	}
}

// create writes a new keyset (header only) atomically and opens it.
func create(fsys vfs.FS, dir string, w Wrapper, opts Options) (*Keyring, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	check, err := w.Wrap(secret, []byte(checkAAD))
	if err != nil {
		return nil, fmt.Errorf("batpak: wrapping the keyset's check value: %w", err)
	}
	if len(check) == 0 || len(check) > maxWrapped {
		return nil, fmt.Errorf("batpak: the wrapper made a check value of %d bytes (1 … %d)", len(check), maxWrapped)
	}
	b := encodeHeader(check)
	if err := vfs.WriteFileAtomic(fsys, dir, Name, b); err != nil {
		return nil, fmt.Errorf("batpak: creating the keyset: %w", err)
	}
	f, err := fsys.OpenRW(filepath.Join(dir, Name))
	if err != nil {
		return nil, err
	}
	k := newKeyring(fsys, dir, w, opts, check)
	k.f, k.size = f, int64(len(b))
	return k, nil
}

// Close closes the keyset file. A nil Keyring (a store that does not
// encrypt) has nothing to close.
func (k *Keyring) Close() error {
	if k == nil {
		return nil
	}
	k.growMu.Lock()
	defer k.growMu.Unlock()
	if k.f == nil {
		return nil
	}
	err := k.f.Close()
	k.f = nil
	return err
}

// Opener is k as a segment.Opener: nil, not a nil pointer in an
// interface, when k is nil (a store that does not encrypt).
func (k *Keyring) Opener() segment.Opener {
	if k == nil {
		return nil
	}
	return k
}

// Seal seals payload, encoded with codec, for an event of kind and flags
// at coord, with coord's entity's key (made, durably, if the entity has
// none yet): the sealed payload of docs/FORMAT.md, in a new slice.
func (k *Keyring) Seal(coord event.Coordinate, kind event.EventKind, flags uint16, codec event.Codec, payload []byte) ([]byte, error) {
	dk, err := k.keyFor(coord.Entity())
	if err != nil {
		return nil, err
	}
	var nonce [segment.SealNonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	out := make([]byte, 0, binaryLen(dk.n)+len(nonce)+len(payload)+segment.SealTagSize)
	out = segment.AppendSealedHead(out, dk.n, nonce[:])
	aad := getAAD()
	*aad = segment.SealAAD((*aad)[:0], dk.n, kind, flags, codec, coord.Entity(), coord.Scope())
	out = dk.aead.Seal(out, nonce[:], payload, *aad)
	putAAD(aad)
	return out, nil
}

// Open opens v's sealed payload (segment.Opener).
func (k *Keyring) Open(v *segment.EventView, inPlace bool) ([]byte, error) {
	s, err := segment.ParseSealed(v.Payload)
	if err != nil {
		return nil, err
	}
	a, err := k.aead(s.Key)
	if err != nil {
		return nil, err
	}
	aad := getAAD()
	*aad = v.AAD((*aad)[:0], s.Key)
	var dst []byte
	if inPlace {
		dst = s.Box[:0]
	}
	pt, err := a.Open(dst, s.Nonce, s.Box, *aad)
	putAAD(aad)
	if err != nil {
		return nil, fmt.Errorf("%w: sealed payload does not open with its key (altered, or another event's)", segment.ErrBadRecord)
	}
	return pt, nil
}

// Shredded reports whether v's sealed payload's key was shredded (false
// for a payload that is stripped already, or not sealed).
func (k *Keyring) Shredded(v *segment.EventView) bool {
	if !v.Sealed || segment.IsStripped(v) {
		return false
	}
	s, err := segment.ParseSealed(v.Payload)
	if err != nil {
		return false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	_, ok := k.wrapped[s.Key]
	return !ok && s.Key < k.next
}

// aead returns key n's cipher, unwrapping it on first use.
func (k *Keyring) aead(n uint64) (cipher.AEAD, error) {
	k.mu.RLock()
	a, ok := k.aeads[n]
	wrapped, known := k.wrapped[n]
	next := k.next
	k.mu.RUnlock()
	if ok {
		return a, nil
	}
	if !known && n >= next && k.readOnly {
		// Another process writes the store: its newer keys are in the
		// file by now (a block is synced before its keys are used).
		if err := k.reload(); err != nil {
			return nil, err
		}
		k.mu.RLock()
		wrapped, known = k.wrapped[n]
		next = k.next
		k.mu.RUnlock()
	}
	if !known {
		if n < next {
			return nil, event.ErrShredded
		}
		return nil, fmt.Errorf("%w: key %d", ErrUnknownKey, n)
	}
	if k.w == nil {
		return nil, event.ErrSealed
	}
	key, err := k.w.Unwrap(wrapped, wrappedKeyAAD(n))
	if err != nil {
		return nil, fmt.Errorf("%w: key %d does not unwrap: %v", ErrDamaged, n, err)
	}
	a, err = chacha20poly1305.NewX(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("%w: key %d: %v", ErrDamaged, n, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, still := k.wrapped[n]; !still {
		return nil, event.ErrShredded // shredded meanwhile
	}
	if prev, ok := k.aeads[n]; ok {
		return prev, nil
	}
	k.aeads[n] = a
	return a, nil
}

// keyFor returns entity's current key, giving it one if it has none: the
// key of its newest event if that key still exists (Options.Latest), else
// a fresh one from the pool.
func (k *Keyring) keyFor(entity string) (*dataKey, error) {
	k.mu.RLock()
	dk := k.byEntity[entity]
	k.mu.RUnlock()
	if dk != nil {
		return dk, nil
	}
	k.growMu.Lock()
	defer k.growMu.Unlock()
	k.mu.RLock()
	dk = k.byEntity[entity]
	k.mu.RUnlock()
	if dk != nil {
		return dk, nil
	}
	if k.readOnly {
		return nil, errors.New("batpak: the keyset is open read-only")
	}
	if k.failed != nil {
		return nil, k.failed
	}
	var n uint64
	if k.latest != nil {
		key, ok, err := k.latest(entity)
		if err != nil {
			return nil, err
		}
		if ok {
			k.mu.RLock()
			_, live := k.wrapped[key]
			k.mu.RUnlock()
			if live {
				n = key
			}
		}
	}
	if n == 0 {
		if len(k.pool) == 0 {
			if err := k.grow(); err != nil {
				return nil, err
			}
		}
		n, k.pool = k.pool[0], k.pool[1:]
	}
	a, err := k.aead(n)
	if err != nil {
		return nil, err
	}
	dk = &dataKey{n: n, aead: a}
	k.mu.Lock()
	k.byEntity[entity] = dk
	k.mu.Unlock()
	return dk, nil
}

// grow makes a block of fresh keys, appends it to the keyset file and
// syncs it; only then do its keys join the pool, so no event is ever
// sealed with a key a crash could lose. Called with growMu held.
func (k *Keyring) grow() error {
	k.mu.RLock()
	first := k.next
	k.mu.RUnlock()
	count := k.block
	k.block = min(2*k.block, maxBlock)
	keys := make([]wrappedKey, count)
	plain := make([]byte, 32)
	for i := range keys {
		if _, err := rand.Read(plain); err != nil {
			return err
		}
		n := first + uint64(i)
		wrapped, err := k.w.Wrap(plain, wrappedKeyAAD(n))
		if err != nil {
			return fmt.Errorf("batpak: wrapping a data key: %w", err)
		}
		if len(wrapped) == 0 || len(wrapped) > maxWrapped {
			return fmt.Errorf("batpak: the wrapper made a wrapped key of %d bytes (1 … %d)", len(wrapped), maxWrapped)
		}
		keys[i] = wrappedKey{n: n, wrapped: wrapped}
	}
	clear(plain)
	next := first + uint64(count)
	frame := appendBlocks(nil, next, keys)
	if _, err := k.f.WriteAt(frame, k.size); err != nil {
		return k.fail(err)
	}
	if err := k.f.Sync(); err != nil {
		return k.fail(err)
	}
	k.size += int64(len(frame))
	k.mu.Lock()
	for _, wk := range keys {
		k.wrapped[wk.n] = wk.wrapped
		k.pool = append(k.pool, wk.n)
	}
	k.next = next
	k.mu.Unlock()
	return nil
}

// fail makes err sticky: after a failed write or sync the file's state is
// unknown, and no retry can be trusted (contract C5).
func (k *Keyring) fail(err error) error {
	if k.failed == nil {
		k.failed = fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return k.failed
}

// reload reads the keyset file again (read-only keyrings: another process
// writes it): keys made since join, keys shredded since go.
func (k *Keyring) reload() error {
	k.growMu.Lock()
	defer k.growMu.Unlock()
	b, err := readAll(k.fs, filepath.Join(k.dir, Name))
	if err != nil {
		return err
	}
	p, err := parse(b)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for n := range k.wrapped {
		if _, ok := p.keys[n]; !ok {
			delete(k.wrapped, n)
			delete(k.aeads, n)
		}
	}
	for n, w := range p.keys {
		if _, ok := k.wrapped[n]; !ok {
			k.wrapped[n] = w
		}
	}
	k.next = max(k.next, p.next)
	return nil
}

// Bytes returns the keyset file's synced bytes, for a copy of the store
// (a snapshot): every key given out so far is in them.
func (k *Keyring) Bytes() ([]byte, error) {
	k.growMu.Lock()
	defer k.growMu.Unlock()
	f, err := k.fs.Open(filepath.Join(k.dir, Name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := k.size
	if k.readOnly {
		if size, err = f.Size(); err != nil {
			return nil, err
		}
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}

// Keys reports how many keys the keyset holds.
func (k *Keyring) Keys() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.wrapped)
}

// aadPool holds scratch buffers for associated data, which an interface
// call (cipher.AEAD) would otherwise make escape on every seal and open.
var aadPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func getAAD() *[]byte  { return aadPool.Get().(*[]byte) }
func putAAD(b *[]byte) { aadPool.Put(b) }

func binaryLen(n uint64) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

func readAll(fsys vfs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > maxFile {
		return nil, fmt.Errorf("%w: %d bytes, more than a keyset can hold", ErrDamaged, size)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}
