//go:build !linux

package writer

func populate(base uintptr, off, n int64) {}

func mappingBase(m []byte) uintptr { return 0 }
