package batpak_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/segment"
)

// A store damaged in acknowledged bytes does not open; the error says so
// as before (a *CorruptionError naming segment and offset, or a missing
// segment) and names the tool that gets the intact events back.
func TestOpenOfADamagedStoreNamesSalvage(t *testing.T) {
	write := func(t *testing.T) (string, []string) {
		dir := t.TempDir()
		s, err := batpak.Open(dir, batpak.WithSegmentSize(64<<10))
		require.NoError(t, err)
		pad := strings.Repeat("x", 3000)
		for i := range 60 {
			_, err := s.Append(bg, event.MustCoordinate(fmt.Sprintf("e:%d", i%3), "s"), kindMoved, map[string]any{"i": i, "pad": pad})
			require.NoError(t, err)
		}
		require.NoError(t, s.Close())
		require.NoError(t, os.Remove(filepath.Join(dir, "CHECKPOINT"))) // so that Open reads every frame
		segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(segs), 3)
		return dir, segs
	}
	hint := func(dir string) string { return fmt.Sprintf("\"batpak salvage %s NEWDIR\"", dir) }

	t.Run("corrupt frame", func(t *testing.T) {
		dir, segs := write(t)
		b, err := os.ReadFile(segs[0])
		require.NoError(t, err)
		b[segment.HeaderSize+5000] ^= 0x08
		require.NoError(t, os.WriteFile(segs[0], b, 0o644))
		for name, open := range map[string]func(string, ...batpak.Option) (*batpak.Store, error){
			"Open": batpak.Open, "OpenReadOnly": batpak.OpenReadOnly,
		} {
			_, err := open(dir)
			require.ErrorIs(t, err, batpak.ErrCorrupt, name)
			var ce *batpak.CorruptionError
			require.ErrorAs(t, err, &ce, name)
			require.EqualValues(t, 1, ce.Segment)
			require.Contains(t, err.Error(), hint(dir), name)
		}
	})
	t.Run("missing segment", func(t *testing.T) {
		dir, segs := write(t)
		require.NoError(t, os.Remove(segs[1]))
		_, err := batpak.Open(dir)
		require.ErrorContains(t, err, "segment file missing")
		require.Contains(t, err.Error(), hint(dir))
	})
	t.Run("other errors say nothing of it", func(t *testing.T) {
		_, err := batpak.Open(t.TempDir(), batpak.WithSegmentSize(-1))
		require.Error(t, err)
		require.NotContains(t, err.Error(), "salvage")
	})
}
