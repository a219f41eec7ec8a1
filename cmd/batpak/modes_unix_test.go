//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inspect and verify report files and directories of the store that group
// or other users may use, and stay successful: it is a note, not damage.
func TestInspectAndVerifyReportLooseModes(t *testing.T) {
	f := writeFixture(t)
	require.NoError(t, os.Chmod(f.dir, 0o700)) // whatever the umask made of it
	out, _ := cli(t, exitOK, "inspect", f.dir)
	assert.True(t, hasLine(out, "modes", "private:"), out)
	out, _ = cli(t, exitOK, "verify", f.dir)
	assert.NotContains(t, out, "group or other users")

	require.NoError(t, os.Chmod(f.dir, 0o755))
	seg := filepath.Join(f.dir, "0000000000000001.seg")
	require.NoError(t, os.Chmod(seg, 0o644))

	out, _ = cli(t, exitOK, "inspect", f.dir)
	assert.True(t, hasLine(out, "modes", "2", "files", "or", "directories", "open", "to", "group", "or", "other", "users"), out)

	out, _ = cli(t, exitOK, "inspect", f.dir, "--json")
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	assert.True(t, sum.Modes.Checked)
	require.Len(t, sum.Modes.Loose, 2)
	assert.Equal(t, "directory "+f.dir+" has mode 0755, which grants group or other users group rx and others rx (expected at most 0700)", sum.Modes.Loose[0])
	assert.True(t, strings.HasPrefix(sum.Modes.Loose[1], "file "+seg+" has mode 0644"), sum.Modes.Loose[1])

	out, _ = cli(t, exitOK, "verify", f.dir)
	assert.Contains(t, out, "note: group or other users have access to 2 files or directories of the store")
	assert.Contains(t, out, "file "+seg+" has mode 0644")
	assert.True(t, strings.HasSuffix(out, "OK\n"), out)
}
