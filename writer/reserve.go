package writer

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

// The global sequence reservation keeps sequence numbers from being reused
// after a crash loses the log's tail (contract C4). Before the writer
// writes a frame whose global sequence lies above the reserved mark, it
// durably raises the mark to reserveBlock past the drain's last sequence
// (core.reservation decides, Writer.write does it); after a crash,
// numbering resumes above the mark, so a number that an on-write reader
// saw, or a cursor saved, is never given to another event. A clean close
// records the exact end, so normal restarts leave no gap.
const (
	reserveFile  = "SEQUENCE"
	reserveBlock = 1 << 20
	reserveSize  = 16
)

var reserveMagic = [4]byte{'B', 'P', 'S', 'Q'}

// ReadReservation returns the reserved mark of the store in dir: every
// global sequence at or below it may have been used. 0 if none was written.
func ReadReservation(fs vfs.FS, dir string) (uint64, error) {
	f, err := fs.Open(filepath.Join(dir, reserveFile))
	if vfs.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var b [reserveSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if [4]byte(b[:4]) != reserveMagic || crc32.Checksum(b[:12], crcTable) != binary.LittleEndian.Uint32(b[12:]) {
		return 0, fmt.Errorf("%w: sequence reservation file %s is damaged", event.ErrCorrupt, reserveFile)
	}
	return binary.LittleEndian.Uint64(b[4:]), nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// writeReservation replaces the mark atomically (vfs.WriteFileAtomic).
func writeReservation(fs vfs.FS, dir string, mark uint64) error {
	var b [reserveSize]byte
	copy(b[:4], reserveMagic[:])
	binary.LittleEndian.PutUint64(b[4:], mark)
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:12], crcTable))
	return vfs.WriteFileAtomic(fs, dir, reserveFile, b[:])
}
