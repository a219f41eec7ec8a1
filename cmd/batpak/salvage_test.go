package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/salvage"
	"github.com/batpak-go/batpak/segment"
)

// damagedFixture is the fixture with one byte flipped inside the frame of
// its second event (global 2, player:1) and its checkpoint removed, so
// that the store does not open. It returns the dump of the intact store.
func damagedFixture(t *testing.T) (f fixture, intact []string, frameAt int64) {
	t.Helper()
	f = writeFixture(t)
	all, _ := cli(t, exitOK, "dump", f.dir)
	intact = lines(all)
	path := filepath.Join(f.dir, segment.FileName(1))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, size, err := segment.ReadFrame(data[segment.HeaderSize:])
	require.NoError(t, err)
	frameAt = int64(segment.HeaderSize + size)
	data[frameAt+60] ^= 0x20
	require.NoError(t, os.WriteFile(path, data, 0o644))
	require.NoError(t, os.Remove(filepath.Join(f.dir, "CHECKPOINT")))
	require.True(t, strings.HasPrefix(intact[1], "#2 "))
	return f, intact, frameAt
}

func TestSalvageCommandRescuesAndReports(t *testing.T) {
	f, intact, at := damagedFixture(t)
	dst := filepath.Join(t.TempDir(), "rescued")
	out, errOut := cli(t, exitFailure, "salvage", f.dir, dst)

	damage := fmt.Sprintf("0000000000000001.seg bytes %d-", at)
	for _, want := range []string{
		"salvaged " + f.dir + " into " + dst,
		"205 event(s) kept",
		"events lost: 1 known",
		`entities affected: "player:1"`,
		damage,
		"unreadable bytes: frame checksum mismatch; events lost: 1 (exact: the segment's footer lists them); globals 2",
		`"player:1": sequence 0 missing (its first events), before global 5`,
		"report: " + filepath.Join(dst, "SALVAGE.json"),
	} {
		assert.Contains(t, out, want)
	}
	assert.Contains(t, errOut, "events lost: 1 known")

	// The new store holds every other event, identical, and verifies.
	got, _ := cli(t, exitOK, "dump", dst)
	assert.Equal(t, slices.Delete(slices.Clone(intact), 1, 2), lines(got))
	vout, _ := cli(t, exitOK, "verify", dst)
	assert.Contains(t, vout, "OK")

	// The report left in the new store is the --json one.
	b, err := os.ReadFile(filepath.Join(dst, "SALVAGE.json"))
	require.NoError(t, err)
	var rep salvage.Report
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Equal(t, []uint64{2}, rep.Damage[0].Globals)
	assert.Equal(t, []string{"player:1"}, rep.Entities)
	again := filepath.Join(t.TempDir(), "again")
	jout, _ := cli(t, exitFailure, "salvage", "--json", f.dir, again)
	var rep2 salvage.Report
	require.NoError(t, json.Unmarshal([]byte(jout), &rep2))
	rep2.Dest = rep.Dest
	assert.Equal(t, rep, rep2)
}

func TestSalvageCommandOfAnUndamagedStoreLosesNothing(t *testing.T) {
	f := writeFixture(t)
	dst := filepath.Join(t.TempDir(), "copy")
	out, _ := cli(t, exitOK, "salvage", f.dir, dst)
	assert.Contains(t, out, "206 event(s) kept (0 in 0 atomic batch(es))")
	assert.Contains(t, out, "nothing was lost.")
	want, _ := cli(t, exitOK, "dump", f.dir)
	got, _ := cli(t, exitOK, "dump", dst)
	assert.Equal(t, want, got)
}

func TestSalvageCommandRefusesBadArguments(t *testing.T) {
	f := writeFixture(t)
	cli(t, exitUsage, "salvage", f.dir)
	cli(t, exitUsage, "salvage", f.dir, "a", "b")
	_, errOut := cli(t, exitFailure, "salvage", f.dir, f.dir)
	assert.Contains(t, errOut, "is the source")
	full := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o644))
	_, errOut = cli(t, exitFailure, "salvage", f.dir, full)
	assert.Contains(t, errOut, "must be a new or empty directory")
	_, errOut = cli(t, exitFailure, "salvage", t.TempDir(), filepath.Join(t.TempDir(), "x"))
	assert.Contains(t, errOut, "not a batpak store")
}

// inspect, dump and tail go on past damage: they show what is intact,
// say what they skipped, and exit 1.
func TestReadingCommandsGoOnPastDamage(t *testing.T) {
	f, intact, at := damagedFixture(t)
	damage := fmt.Sprintf("0000000000000001.seg bytes %d-", at)

	out, errOut := cli(t, exitFailure, "inspect", f.dir)
	squeezed := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"events 205 (last global sequence 206)", "entities 9",
		"recovery damaged: batpak: corrupt segment 0000000000000001 at offset " + fmt.Sprint(at),
		"DAMAGED: the counts above are of the intact events; events lost: 1 known", damage} {
		assert.Contains(t, squeezed, want)
	}
	assert.Contains(t, errOut, "problems found: the store is damaged; \"batpak salvage "+f.dir+" NEWDIR\"")
	jout, _ := cli(t, exitFailure, "inspect", "--json", f.dir)
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(jout), &sum))
	require.NotNil(t, sum.Damage)
	assert.Equal(t, 205, sum.Events)
	assert.Equal(t, []uint64{2}, sum.Damage.Damage[0].Globals)

	out, errOut = cli(t, exitFailure, "dump", f.dir)
	assert.Equal(t, slices.Delete(slices.Clone(intact), 1, 2), lines(out))
	assert.Contains(t, errOut, "skipped 1 damaged range(s)")
	assert.Contains(t, errOut, damage)

	out, _ = cli(t, exitFailure, "dump", "--entity", "player:1", f.dir)
	for _, l := range lines(out) {
		assert.Contains(t, l, " player:1@")
	}
	assert.NotEmpty(t, lines(out))

	out, errOut = cli(t, exitFailure, "tail", "-n", "3", f.dir)
	assert.Equal(t, intact[len(intact)-3:], lines(out))
	assert.Contains(t, errOut, "skipped 1 damaged range(s)")
	_, errOut = cli(t, exitFailure, "tail", "--follow", f.dir)
	assert.Contains(t, errOut, "not following")

	out, errOut = cli(t, exitFailure, "verify", "--all", f.dir)
	assert.Contains(t, out, fmt.Sprintf("PROBLEM at segment 0000000000000001 (file 0000000000000001.seg), offset %d\n", at))
	assert.Contains(t, out, "sequence 1 where 0 was next", "the lost event breaks its entity's sequence")
	assert.Contains(t, out, "2 problems found.")
	assert.Contains(t, errOut, "problems found: 2, the first at segment 0000000000000001")
}

// A checkpoint lets a read-only open skip the damaged frame; a dump that
// reads it then goes on past it like one of a store that does not open.
func TestDumpGoesOnPastDamageMetWhileReading(t *testing.T) {
	f := writeFixture(t)
	all, _ := cli(t, exitOK, "dump", f.dir)
	intact := lines(all)
	path := filepath.Join(f.dir, segment.FileName(1))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, size, err := segment.ReadFrame(data[segment.HeaderSize:])
	require.NoError(t, err)
	data[segment.HeaderSize+size+60] ^= 0x20
	require.NoError(t, os.WriteFile(path, data, 0o644))

	out, errOut := cli(t, exitFailure, "dump", f.dir)
	assert.Equal(t, slices.Delete(slices.Clone(intact), 1, 2), lines(out), "each intact event once, in order")
	assert.Contains(t, errOut, "skipped 1 damaged range(s)")
	out, _ = cli(t, exitFailure, "inspect", f.dir)
	assert.Contains(t, out, "DAMAGED")
}
