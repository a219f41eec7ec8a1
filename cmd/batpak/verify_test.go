package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/segment"
)

func TestVerifyCleanStoreExitsZero(t *testing.T) {
	f := writeFixture(t)
	out, errOut := cli(t, exitOK, "verify", f.dir)
	for _, want := range []string{"2 segments", "206 events", "9 entities", "206 hash links", "OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr is not a terminal, yet verify wrote to it: %q", errOut)
	}
}

func TestVerifyProgressOnRequest(t *testing.T) {
	f := writeFixture(t)
	_, errOut := cli(t, exitOK, "verify", "--progress", f.dir)
	if !strings.Contains(errOut, "verify: 100%") {
		t.Errorf("no progress on stderr:\n%s", errOut)
	}
}

// firstFrame returns the first segment's bytes and its first frame's body
// bounds.
func firstFrame(t *testing.T, dir string) (path string, data []byte, body, end int) {
	t.Helper()
	path = filepath.Join(dir, segment.FileName(1))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(data[segment.HeaderSize:]))
	body = segment.HeaderSize + 8
	return path, data, body, body + n
}

func TestVerifyFlippedByteExitsOneNamingSegmentAndOffset(t *testing.T) {
	f := writeFixture(t)
	path, data, body, _ := firstFrame(t, f.dir)
	data[body+100] ^= 0x40
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut := cli(t, exitFailure, "verify", f.dir)
	for _, want := range []string{"PROBLEM at segment 0000000000000001", fmt.Sprintf("offset %d\n", segment.HeaderSize)} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "problems found: first at segment 0000000000000001") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// An altered event whose frame CRC was recomputed passes the CRC check;
// its entity's hash chain still catches it.
func TestVerifyAlteredEventWithValidCRCBreaksTheChain(t *testing.T) {
	f := writeFixture(t)
	path, data, body, end := firstFrame(t, f.dir)
	data[end-5] ^= 0x01 // inside the payload's padding
	crc := crc32.Checksum(data[body:end], crc32.MakeTable(crc32.Castagnoli))
	binary.LittleEndian.PutUint32(data[segment.HeaderSize+4:], crc)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := cli(t, exitFailure, "verify", f.dir)
	for _, want := range []string{"PROBLEM at segment 0000000000000001", fmt.Sprintf("offset %d\n", segment.HeaderSize), "hash chain"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestProgressBarDrawsInPlaceAndClears(t *testing.T) {
	var b strings.Builder
	p := &progressBar{w: &b, inPlace: true, every: time.Hour}
	p.update(50, 100)
	p.update(60, 100) // within the hour: skipped
	p.update(100, 100)
	p.finish()
	got := b.String()
	if strings.Count(got, "\r") != 3 || !strings.Contains(got, " 50%") || strings.Contains(got, " 60%") ||
		!strings.Contains(got, "100%") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("bar output %q", got)
	}
	var none *progressBar
	none.update(1, 2) // a nil bar does nothing
	none.finish()
}

// A trailing segment file with no header yet (a writer creating it, or a
// crash while it did) holds no event: verify says so and exits 0.
func TestVerifyNotesASegmentBeingCreated(t *testing.T) {
	f := writeFixture(t)
	segs, err := listSegmentFiles(f.dir)
	require.NoError(t, err)
	id, ok := segment.ParseFileName(segs[len(segs)-1].Name)
	require.True(t, ok)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, segment.FileName(id+1)), nil, 0o644))
	out, _ := cli(t, exitOK, "verify", f.dir)
	assert.Contains(t, out, "1 segment file at the end without a valid header")
	assert.Contains(t, out, "OK")
}
