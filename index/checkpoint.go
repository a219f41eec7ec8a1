package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"unsafe"

	"github.com/batpak-go/batpak/event"
)

// Watermark is where a checkpointed index ends in the log: everything
// before Offset of Segment is in it, and nothing after.
type Watermark struct {
	Segment    uint64
	Offset     int64
	LastGlobal uint64
}

// ckptHeaderLen is the size of the magic and the nine counts after it.
const ckptHeaderLen = 8 + 9*8

// ErrBadCheckpoint marks checkpoint bytes that cannot be trusted.
var ErrBadCheckpoint = errors.New("index: bad checkpoint")

// checkpointMagic names the format and its version: 2 added the
// correlation index; 3 the clock readings and the links (correlation and
// causation) headers need, in place of version 2's correlation list. A
// checkpoint of another version is refused like a damaged one, and the
// store rebuilds its index by scanning (and writes a checkpoint of this
// version on its next close): a version 2 checkpoint lacks the clocks
// and causations, which only the frames hold.
var checkpointMagic = [8]byte{'B', 'P', 'K', 'C', 'K', 'P', 'T', '3'}

// entrySize is an Entry's in-memory size; checkpoints store entries in
// their in-memory layout, which is only a portable format on little-endian
// machines (the format's byte order): elsewhere no checkpoint is written or
// read, and stores open by scanning.
const entrySize = int(unsafe.Sizeof(Entry{}))

// CheckpointsSupported reports whether this machine reads and writes checkpoints.
var CheckpointsSupported = binary.NativeEndian.Uint16([]byte{1, 0}) == 1 && entrySize == 40 &&
	unsafe.Sizeof(clock{}) == clockSize

var ckptCRC = crc32.MakeTable(crc32.Castagnoli)

// MarshalCheckpoint encodes the index and its watermark (layout in
// docs/FORMAT.md): a header, the interned names, the entries, ids and
// clock readings as they are laid out in memory, the idempotency keys and
// out-of-order ids, the links (correlation, causation), and a CRC-32C of
// everything before it. The position lists and the correlation index are
// not stored: they are rebuilt from the entries and the links.
func (x *Index) MarshalCheckpoint(w Watermark) []byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n, nLinks := x.entries.n, x.links.n
	// Fresh memory for tens of megabytes: not zeroed, and in huge pages
	// where the kernel allows (see rawSlice and hugePages).
	b := rawSlice[byte](ckptHeaderLen + n*(entrySize+16+clockSize) + len(x.entityName)*24 + len(x.keys)*24 + nLinks*linkSize + 4)[:0]
	hugePages(b)
	b = append(b, checkpointMagic[:]...)
	for _, v := range []uint64{w.Segment, uint64(w.Offset), w.LastGlobal, uint64(n),
		uint64(len(x.entityName)), uint64(len(x.scopeName)), uint64(len(x.keys)), uint64(len(x.idOverflow)),
		uint64(nLinks)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	for _, names := range [][]string{x.entityName, x.scopeName} {
		for _, s := range names {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	ev := x.entries.view()
	for i := 0; i < n; i += chunkLen {
		chunk := ev.chunkAt(i, n)
		b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&chunk[0])), len(chunk)*entrySize)...)
	}
	iv := x.ids.view()
	for i := 0; i < n; i += chunkLen {
		chunk := iv.chunkAt(i, n)
		b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&chunk[0])), len(chunk)*16)...)
	}
	cv := x.clocks.view()
	for i := 0; i < n; i += chunkLen {
		chunk := cv.chunkAt(i, n)
		b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&chunk[0])), len(chunk)*clockSize)...)
	}
	for k, pos := range x.keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.LittleEndian.AppendUint32(b, pos)
	}
	for id, pos := range x.idOverflow {
		b = append(b, id[:]...)
		b = binary.LittleEndian.AppendUint32(b, pos)
	}
	lv := x.links.view()
	for i := range nLinks {
		l := lv.at(i)
		b = binary.LittleEndian.AppendUint32(b, l.pos)
		b = append(b, l.corr[:]...)
		b = append(b, l.cause[:]...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, ckptCRC))
}

// UnmarshalCheckpoint rebuilds an index from MarshalCheckpoint's bytes. Every
// count is checked against the bytes present before anything is allocated,
// and every entry against the names and its predecessor, so damaged or
// hostile bytes give ErrBadCheckpoint, never a wrong index or a panic.
func UnmarshalCheckpoint(b []byte) (*Index, Watermark, error) {
	bad := func(format string, args ...any) (*Index, Watermark, error) {
		return nil, Watermark{}, fmt.Errorf("%w: "+format, append([]any{ErrBadCheckpoint}, args...)...)
	}
	const headerLen = ckptHeaderLen
	if !CheckpointsSupported || len(b) < headerLen+4 || [8]byte(b[:8]) != checkpointMagic {
		return bad("no checkpoint header")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, ckptCRC) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return bad("checksum mismatch")
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(body[8+8*i:]) }
	w := Watermark{Segment: u(0), Offset: int64(u(1)), LastGlobal: u(2)}
	n, nEnt, nScope, nKeys, nOver, nLinks := u(3), u(4), u(5), u(6), u(7), u(8)
	rest := uint64(len(body) - headerLen)
	if n > rest/uint64(entrySize+16+clockSize) || nEnt > rest || nScope > rest || nKeys > rest || nOver > rest ||
		nLinks > rest/linkSize {
		return bad("counts exceed the file")
	}
	r := ckptReader{b: body, i: headerLen}
	x := New()
	for _, dst := range []struct {
		names *[]string
		num   map[string]uint32
		count uint64
	}{{&x.entityName, x.entityNum, nEnt}, {&x.scopeName, x.scopeNum, nScope}} {
		for i := uint64(0); i < dst.count; i++ {
			s := string(r.bytes(int(r.uvarint())))
			if r.err != nil || event.ValidatePart("name", s) != nil {
				return bad("name %d unreadable or invalid", i)
			}
			if _, dup := dst.num[s]; dup {
				return bad("name %q twice", s)
			}
			dst.num[s] = uint32(len(*dst.names))
			*dst.names = append(*dst.names, s)
		}
	}
	x.streams = make([]chunked[uint32], nEnt)
	x.entityCoord = make([]event.Coordinate, nEnt)
	x.scopes = make([]chunked[uint32], nScope)
	entries := r.bytes(int(n) * entrySize)
	ids := r.bytes(int(n) * 16)
	clocks := r.bytes(int(n) * clockSize)
	if r.err != nil {
		return bad("entries cut short")
	}
	if err := x.restoreEntries(int(n), entries, ids, clocks, w, nEnt, nScope); err != nil {
		return bad("%v", err)
	}
	for i := uint64(0); i < nKeys; i++ {
		k := string(r.bytes(int(r.uvarint())))
		pos := r.u32()
		if r.err != nil || uint64(pos) >= n {
			return bad("idempotency key %d unreadable", i)
		}
		x.keys[k] = pos
	}
	for i := uint64(0); i < nOver; i++ {
		id := r.bytes(16)
		pos := r.u32()
		if r.err != nil || uint64(pos) >= n {
			return bad("id %d unreadable", i)
		}
		x.idOverflow[event.ID(id)] = pos
		x.overPos[pos] = event.ID(id)
	}
	if len(x.overPos) != len(x.idOverflow) {
		return bad("two out-of-order ids at one position")
	}
	for i := uint64(0); i < nLinks; i++ {
		pos := r.u32()
		corr, cause := r.bytes(16), r.bytes(16)
		if r.err != nil || uint64(pos) >= n {
			return bad("link %d unreadable", i)
		}
		l := link{pos: pos, corr: event.ID(corr), cause: event.ID(cause)}
		if l.corr.IsZero() && l.cause.IsZero() {
			return bad("link %d links nothing", i)
		}
		if x.links.n > 0 && x.links.last().pos >= pos {
			return bad("link %d out of order", i)
		}
		x.links.push(l)
		if !l.corr.IsZero() {
			x.addCorrelation(pos, l.corr)
		}
	}
	if r.i != len(body) {
		return bad("%d trailing bytes", len(body)-r.i)
	}
	return x, w, nil
}

// restoreEntries fills the entries, ids and position lists of a fresh
// index from a checkpoint's n entries and ids, checking every entry
// against the names, the watermark and its predecessor. The storage of
// each kind of list is allocated at once and hinted to huge pages (see
// hugePages): the entries and ids are copied in bulk, then the position
// lists, whose sizes a first pass counts, are filled in one more. The
// pools are not zeroed (rawSlice): every element is written before the
// index is used.
func (x *Index) restoreEntries(n int, entries, ids, clocks []byte, w Watermark, nEnt, nScope uint64) error {
	entryPool := rawSlice[Entry](storageLen(n))
	idPool := rawSlice[event.ID](storageLen(n))
	clockPool := rawSlice[clock](storageLen(n))
	hugePages(entryPool)
	hugePages(idPool)
	hugePages(clockPool)
	x.entries.reserve(&entryPool, n)
	x.ids.reserve(&idPool, n)
	x.clocks.reserve(&clockPool, n)
	for i := 0; i < n; i += chunkLen {
		m := min(chunkLen, n-i)
		es, is, cs := x.entries.storage(i, m), x.ids.storage(i, m), x.clocks.storage(i, m)
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&es[0])), m*entrySize), entries[i*entrySize:])
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&is[0])), m*16), ids[i*16:])
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&cs[0])), m*clockSize), clocks[i*clockSize:])
	}
	x.entries.setFilled(n)
	x.ids.setFilled(n)
	x.clocks.setFilled(n)

	streamLen, scopeLen := make([]int, nEnt), make([]int, nScope)
	kindLen := map[event.EventKind]int{}
	lastKind, lastKindLen := event.EventKind(0), 0 // a run of one kind counts without the map
	var prev uint64
	ev, iv := x.entries.view(), x.ids.view()
	for i := 0; i < n; i++ {
		e := ev.at(i)
		if e.Global <= prev || uint64(e.Entity) >= nEnt || uint64(e.Scope) >= nScope ||
			uint64(e.Segment) > w.Segment || e.Global > w.LastGlobal {
			return fmt.Errorf("entry %d does not fit the checkpoint", i)
		}
		prev = e.Global
		id := iv.at(i)
		if id.Compare(x.lastID) < 0 {
			return fmt.Errorf("ids out of order at entry %d", i)
		}
		x.lastID = *id
		if streamLen[e.Entity] == 0 {
			x.entityCoord[e.Entity], _ = event.NewCoordinate(x.entityName[e.Entity], x.scopeName[e.Scope])
		}
		streamLen[e.Entity]++
		scopeLen[e.Scope]++
		if e.Kind != lastKind {
			if lastKindLen > 0 {
				kindLen[lastKind] += lastKindLen
			}
			lastKind, lastKindLen = e.Kind, 0
		}
		lastKindLen++
	}
	if lastKindLen > 0 {
		kindLen[lastKind] += lastKindLen
	}

	total := 0
	for _, lens := range [][]int{streamLen, scopeLen} {
		for _, l := range lens {
			total += storageLen(l)
		}
	}
	for _, l := range kindLen {
		total += storageLen(l)
	}
	total += storageLen(n) // prev
	pool := rawSlice[uint32](total)
	hugePages(pool)
	x.prev.reserve(&pool, n)
	for en, l := range streamLen {
		x.streams[en].reserve(&pool, l)
	}
	for sn, l := range scopeLen {
		x.scopes[sn].reserve(&pool, l)
	}
	for k, l := range kindLen {
		kl := &chunked[uint32]{}
		kl.reserve(&pool, l)
		x.kinds[k] = kl
	}
	var kl *chunked[uint32]
	for i := 0; i < n; i++ {
		e := ev.at(i)
		x.pushStream(e.Entity, uint32(i))
		x.scopes[e.Scope].push(uint32(i))
		if kl == nil || e.Kind != lastKind {
			lastKind, kl = e.Kind, x.kinds[e.Kind]
		}
		kl.push(uint32(i))
	}
	return nil
}

type ckptReader struct {
	b   []byte
	i   int
	err error
}

func (r *ckptReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || r.i+n > len(r.b) {
		r.err = ErrBadCheckpoint
		return nil
	}
	s := r.b[r.i : r.i+n]
	r.i += n
	return s
}

func (r *ckptReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b[r.i:])
	if k <= 0 {
		r.err = ErrBadCheckpoint
		return 0
	}
	r.i += k
	return v
}

func (r *ckptReader) u32() uint32 {
	s := r.bytes(4)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(s)
}
