package reader

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/segment"
	"github.com/batpak-go/batpak/vfs"
)

// maxForeignNames bounds event.ForeignDirError.Names.
const maxForeignNames = 5

// CheckDir refuses a directory that is not a batpak store's with a
// *event.ForeignDirError: one holding anything IsStoreFile does not recognise.
// A directory that does not exist, or is empty, passes. Open, OpenReadOnly
// and VerifyDir call it before they create or read anything.
func CheckDir(fs vfs.FS, dir string) error {
	names, err := fs.List(dir)
	if vfs.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("batpak: listing %s: %w", dir, err)
	}
	var rust, other []string
	for _, n := range names {
		switch {
		case isBatpakRustFile(n):
			rust = append(rust, n)
		case IsStoreFile(n):
		case n == "cursors" || n == "lost+found":
			if _, err := fs.List(filepath.Join(dir, n)); err != nil {
				other = append(other, n) // a file where the store keeps a directory
			}
		default:
			other = append(other, n)
		}
	}
	switch {
	case len(rust) > 0:
		return &event.ForeignDirError{Dir: dir, BatpakRust: true, Names: first(rust)}
	case len(other) > 0:
		return &event.ForeignDirError{Dir: dir, Names: first(other)}
	}
	return nil
}

func first(names []string) []string {
	if len(names) > maxForeignNames {
		return append(names[:maxForeignNames:maxForeignNames], fmt.Sprintf("… %d more", len(names)-maxForeignNames))
	}
	return names
}

// KeysetFile is an encrypted store's keyset (package keyring, which the
// reader does not import: the name is the format's).
const KeysetFile = "KEYS"

// IsStoreFile reports whether name is a file a batpak store directory may
// hold: LOCK; segments (0000000000000001.seg …) and compaction outputs not
// yet renamed into place (….compact); CHECKPOINT, SEQUENCE, KINDS.json
// (the kind names), MANIFEST.json (a snapshot's), SALVAGE.json (a salvaged
// store's report), STOREID and KEYS (an encrypted store's keyset) with the
// .tmp files of their atomic replacement; a projection file cache's entries (32 hex digits + .bpc)
// and temporary files, for a cache kept in the store directory; and
// hidden files (a leading dot: left by the operating system or editors).
// The subdirectories "cursors" (durable cursors) and "lost+found" (a file
// system's root) are allowed by CheckDir.
func IsStoreFile(name string) bool {
	switch name {
	case LockFile, CheckpointFile, CheckpointFile + ".tmp", "SEQUENCE", "SEQUENCE.tmp",
		"MANIFEST.json", "MANIFEST.json.tmp", "SALVAGE.json", "SALVAGE.json.tmp", kinds.FileName, kinds.FileName + ".tmp",
		StoreIDFile, StoreIDFile + ".tmp", KeysetFile, KeysetFile + ".tmp":
		return true
	}
	if strings.HasPrefix(name, ".") {
		return true
	}
	if _, ok := segment.ParseFileName(name); ok {
		return true
	}
	if stem, ok := strings.CutSuffix(name, segment.CompactTempSuffix); ok {
		return isHex(stem, 16)
	}
	if stem, ok := strings.CutSuffix(name, ".bpc"); ok {
		return isHex(stem, 32)
	}
	if stem, _, ok := strings.Cut(name, ".tmp-"); ok {
		return isHex(stem, 32)
	}
	return false
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isBatpakRustFile reports whether name is one batpak-rust 0.3.0 puts in
// its store directory: segments NNNNNN.fbat (six or more decimal digits)
// and index.ckpt.
func isBatpakRustFile(name string) bool {
	if name == "index.ckpt" {
		return true
	}
	stem, ok := strings.CutSuffix(name, ".fbat")
	if !ok || len(stem) < 6 {
		return false
	}
	for _, c := range stem {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
