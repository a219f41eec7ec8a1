package reader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/vfs"
)

// StoreIDFile holds the store's id (docs/FORMAT.md, "Store id"): 24 bytes,
// magic "BPID", the id (a UUIDv7, big-endian), CRC-32C of the first 20
// bytes. It is made once, at the first writable open, and never changed;
// a copy of the store (Snapshot, salvage) gets an id of its own.
const StoreIDFile = "STOREID"

const storeIDSize = 24

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var storeIDMagic = [4]byte{'B', 'P', 'I', 'D'}

// ReadStoreID returns the id of the store in dir, or the zero id if it has
// none yet.
func ReadStoreID(fs vfs.FS, dir string) (event.ID, error) {
	f, err := fs.Open(filepath.Join(dir, StoreIDFile))
	if vfs.IsNotExist(err) {
		return event.ID{}, nil
	}
	if err != nil {
		return event.ID{}, err
	}
	defer f.Close()
	var b [storeIDSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return event.ID{}, err
	}
	if [4]byte(b[:4]) != storeIDMagic || crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:]) {
		return event.ID{}, fmt.Errorf("%w: store id file %s is damaged", event.ErrCorrupt, StoreIDFile)
	}
	return event.ID(b[4:20]), nil
}

// StoreID returns the id of the store in dir, making one (a new UUIDv7,
// written atomically: temporary file, fsync, rename, directory fsync) if
// it has none.
func StoreID(fs vfs.FS, dir string) (event.ID, error) {
	id, err := ReadStoreID(fs, dir)
	if err != nil || !id.IsZero() {
		return id, err
	}
	id = event.NewID()
	var b [storeIDSize]byte
	copy(b[:4], storeIDMagic[:])
	copy(b[4:20], id[:])
	binary.LittleEndian.PutUint32(b[20:], crc32.Checksum(b[:20], castagnoli))
	if err := vfs.WriteFileAtomic(fs, dir, StoreIDFile, b[:]); err != nil {
		return event.ID{}, fmt.Errorf("batpak: writing the store id: %w", err)
	}
	return id, nil
}
