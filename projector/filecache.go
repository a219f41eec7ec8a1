package projector

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/batpak-go/batpak/vfs"
)

// FileCache keeps projected states in files, one per key, so they survive a
// restart. It is safe for concurrent use, and meant for one process at a time
// (like the store it serves).
//
// An entry is written to a temporary file and renamed over the old one, so a
// reader sees the old entry or the new one, never a mix. Entries are not
// fsynced: the log is the truth, and an entry torn by a power loss fails its
// checksum on the next read and is replayed from the log (and rewritten).
//
// Each file holds, little-endian:
//
//	magic     "BPPC"
//	format    u8      = 1
//	version   u32     the projection's schema version
//	watermark u64
//	cachedAt  i64     microseconds since the Unix epoch
//	name      uvarint length + bytes
//	subject   uvarint length + bytes
//	state     uvarint length + bytes
//	crc       u32     CRC-32C of everything before it
//
// and is named after a 128-bit FNV-1a hash of the key; the key stored inside
// is compared on every read, so a hash collision is a miss, never a wrong state.
//
// By default the most recently used entries are also kept in memory (see
// WithMemoryFront), so a hit usually costs no system call.
type FileCache struct {
	fs     vfs.FS
	dir    string
	front  *MemoryCache // nil when disabled
	prefix string       // for this instance's temporary files
	seq    atomic.Uint64

	hits, misses, puts, corrupt, errs atomic.Uint64
}

// FileCacheOption configures OpenFileCache.
type FileCacheOption func(*FileCache)

// WithFS sets the file system (default the real one).
func WithFS(fs vfs.FS) FileCacheOption { return func(c *FileCache) { c.fs = fs } }

// WithMemoryFront keeps up to n recently used entries in memory in front of
// the files (default 1024; 0 disables it, so every Get reads its file).
func WithMemoryFront(n int) FileCacheOption {
	return func(c *FileCache) {
		c.front = nil
		if n > 0 {
			c.front = NewMemoryCache(n)
		}
	}
}

const (
	fileMagic   = "BPPC"
	fileFormat  = 1
	fileSuffix  = ".bpc"
	tmpInfix    = ".tmp-"
	fileFixed   = 4 + 1 + 4 + 8 + 8 // magic … cachedAt
	fileCRCSize = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenFileCache opens (creating if needed) a file cache in dir and removes
// temporary files that an interrupted write left behind.
func OpenFileCache(dir string, opts ...FileCacheOption) (*FileCache, error) {
	c := &FileCache{fs: vfs.OS, dir: dir, front: NewMemoryCache(1024)}
	for _, o := range opts {
		o(c)
	}
	if c.fs == nil {
		return nil, errors.New("projector: nil file system")
	}
	var rnd [6]byte
	_, _ = crand.Read(rnd[:])
	c.prefix = hex.EncodeToString(rnd[:])
	if err := c.fs.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("projector: creating cache directory %s: %w", dir, err)
	}
	names, err := c.fs.List(dir)
	if err != nil {
		return nil, fmt.Errorf("projector: listing cache directory %s: %w", dir, err)
	}
	for _, n := range names {
		if strings.Contains(n, tmpInfix) {
			if err := c.fs.Remove(filepath.Join(dir, n)); err != nil && !vfs.IsNotExist(err) {
				return nil, fmt.Errorf("projector: removing stale %s: %w", n, err)
			}
		}
	}
	return c, nil
}

// Dir is the cache's directory.
func (c *FileCache) Dir() string { return c.dir }

// Path is the file that holds k's entry.
func (c *FileCache) Path(k Key) string { return filepath.Join(c.dir, fileStem(k)+fileSuffix) }

func fileStem(k Key) string {
	h := fnv.New128a()
	h.Write([]byte(k.Name))
	var v [5]byte
	binary.LittleEndian.PutUint32(v[1:], k.Version)
	h.Write(v[:]) // the 0 byte separates name from version
	h.Write([]byte(k.Subject))
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns k's entry. A damaged file yields an error wrapping
// ErrCorruptEntry; the caller replays and its Put replaces the file.
func (c *FileCache) Get(k Key) (Entry, bool, error) {
	if c.front != nil {
		if e, ok, _ := c.front.Get(k); ok {
			c.hits.Add(1)
			return e, true, nil
		}
	}
	e, ok, err := c.read(k)
	switch {
	case err != nil && errors.Is(err, ErrCorruptEntry):
		c.corrupt.Add(1)
	case err != nil:
		c.errs.Add(1)
	case ok:
		c.hits.Add(1)
		if c.front != nil {
			_ = c.front.Put(k, e)
		}
	default:
		c.misses.Add(1)
	}
	return e, ok, err
}

func (c *FileCache) read(k Key) (Entry, bool, error) {
	path := c.Path(k)
	f, err := c.fs.Open(path)
	if vfs.IsNotExist(err) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("projector: opening %s: %w", path, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return Entry{}, false, fmt.Errorf("projector: sizing %s: %w", path, err)
	}
	if size > 1<<31 {
		return Entry{}, false, fmt.Errorf("%w: %s: %d bytes", ErrCorruptEntry, path, size)
	}
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return Entry{}, false, fmt.Errorf("projector: reading %s: %w", path, err)
	}
	e, key, err := decodeFile(buf)
	if err != nil {
		return Entry{}, false, fmt.Errorf("%w: %s: %v", ErrCorruptEntry, path, err)
	}
	if key != k {
		return Entry{}, false, nil // another key with the same hash: a miss
	}
	return e, true, nil
}

// Put writes k's entry to a temporary file and renames it into place.
func (c *FileCache) Put(k Key, e Entry) error {
	c.puts.Add(1)
	if c.front != nil {
		_ = c.front.Put(k, e)
	}
	stem := fileStem(k)
	tmp := filepath.Join(c.dir, fmt.Sprintf("%s%s%s-%d", stem, tmpInfix, c.prefix, c.seq.Add(1)))
	if err := c.write(tmp, encodeFile(k, e)); err != nil {
		c.errs.Add(1)
		_ = c.fs.Remove(tmp)
		return err
	}
	if err := c.fs.Rename(tmp, filepath.Join(c.dir, stem+fileSuffix)); err != nil {
		c.errs.Add(1)
		_ = c.fs.Remove(tmp)
		return fmt.Errorf("projector: renaming %s: %w", tmp, err)
	}
	return nil
}

func (c *FileCache) write(name string, b []byte) error {
	f, err := c.fs.Create(name)
	if err != nil {
		return fmt.Errorf("projector: creating %s: %w", name, err)
	}
	_, err = f.WriteAt(b, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("projector: writing %s: %w", name, err)
	}
	return nil
}

// Stats returns the cache's counters. Entries counts the memory front only.
func (c *FileCache) Stats() CacheStats {
	s := CacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Puts: c.puts.Load(),
		Corrupt: c.corrupt.Load(), Errors: c.errs.Load(),
	}
	if c.front != nil {
		fs := c.front.Stats()
		s.Entries, s.Evictions = fs.Entries, fs.Evictions
	}
	return s
}

func encodeFile(k Key, e Entry) []byte {
	b := make([]byte, 0, fileFixed+3*binary.MaxVarintLen32+len(k.Name)+len(k.Subject)+len(e.State)+fileCRCSize)
	b = append(b, fileMagic...)
	b = append(b, fileFormat)
	b = binary.LittleEndian.AppendUint32(b, k.Version)
	b = binary.LittleEndian.AppendUint64(b, e.Watermark)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.CachedAt.UnixMicro()))
	for _, s := range [][]byte{[]byte(k.Name), []byte(k.Subject), e.State} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeFile(b []byte) (Entry, Key, error) {
	if len(b) < fileFixed+3+fileCRCSize {
		return Entry{}, Key{}, fmt.Errorf("%d bytes is too short", len(b))
	}
	body, sum := b[:len(b)-fileCRCSize], binary.LittleEndian.Uint32(b[len(b)-fileCRCSize:])
	if crc32.Checksum(body, castagnoli) != sum {
		return Entry{}, Key{}, errors.New("checksum mismatch")
	}
	if !bytes.Equal(body[:4], []byte(fileMagic)) || body[4] != fileFormat {
		return Entry{}, Key{}, fmt.Errorf("unknown magic %q or format %d", body[:4], body[4])
	}
	var k Key
	var e Entry
	k.Version = binary.LittleEndian.Uint32(body[5:])
	e.Watermark = binary.LittleEndian.Uint64(body[9:])
	e.CachedAt = time.UnixMicro(int64(binary.LittleEndian.Uint64(body[17:])))
	rest := body[fileFixed:]
	var parts [3][]byte
	for i := range parts {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return Entry{}, Key{}, fmt.Errorf("field %d: bad length", i)
		}
		parts[i], rest = rest[w:w+int(n)], rest[w+int(n):]
	}
	if len(rest) != 0 {
		return Entry{}, Key{}, fmt.Errorf("%d trailing bytes", len(rest))
	}
	k.Name, k.Subject = string(parts[0]), string(parts[1])
	e.State = parts[2]
	return e, k, nil
}
