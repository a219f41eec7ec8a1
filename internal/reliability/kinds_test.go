package reliability_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/kinds"
	"github.com/batpak-go/batpak/vfs"
)

type typedStep struct{ N int }

// A registry of the test's own: kinds.Default belongs to no test.
var (
	typedReg  = kinds.NewRegistry()
	typedKind = []*kinds.Kind[typedStep]{
		kinds.MustDefine[typedStep](typedReg, "crash.first", 0x3, 0x001),
		kinds.MustDefine[typedStep](typedReg, "crash.second", 0x3, 0x002, kinds.Version(2),
			kinds.Upcast(1, func(s typedStep) (typedStep, error) { return s, nil })),
		kinds.MustDefine[typedStep](typedReg, "crash.third", 0x3, 0x003),
	}
)

// TestReliabilityKindNamesCrash crashes a workload of typed and untyped
// appends after every file-system operation (strictly, and keeping half of
// what was not synced) and checks the image: the kind names file reads back
// intact, every event of a typed kind in the recovered log has its name
// kept (a name is durable before its first event is written), and every
// acknowledged typed append is there with its payload version.
func TestReliabilityKindNamesCrash(t *testing.T) {
	workload := func(s *batpak.Store) []batpak.Receipt {
		var acked []batpak.Receipt
		for i := range 9 {
			c := coord(t, fmt.Sprintf("e%d", i%2), "s")
			k := typedKind[i%3]
			r, err := batpak.AppendTyped(bg, s, k, c, typedStep{N: i})
			if err != nil {
				return acked
			}
			acked = append(acked, r)
			if _, err := s.Append(bg, c, kindMoved, payload{N: i}); err != nil {
				return acked
			}
		}
		return acked
	}
	probe := vfs.NewMem()
	s, err := tryOpen(memDir, batpak.WithFS(probe))
	require.NoError(t, err)
	require.Len(t, workload(s), 9)
	require.NoError(t, s.Close())
	total := probe.Ops()

	points := 0
	for _, crash := range []vfs.CrashOptions{{}, {KeepUnsyncedFraction: 0.5, Seed: 7}} {
		for k := 0; k <= total; k++ {
			label := fmt.Sprintf("crash %+v after op %d of %d", crash, k, total)
			mem := vfs.NewMem()
			mem.SetCrashAfter(k, crash, nil)
			var acked []batpak.Receipt
			if s, err := tryOpen(memDir, batpak.WithFS(mem)); err == nil {
				acked = workload(s)
				_ = s.Close()
			}
			img := mem.Crashed()
			require.NotNil(t, img, label)
			points++
			names, err := kinds.ReadFile(img, memDir)
			require.NoError(t, err, label)
			s, err := tryOpen(memDir, batpak.WithFS(img))
			require.NoError(t, err, label)
			got := map[batpak.ID]uint32{}
			for _, ev := range all(t, s) {
				got[ev.ID] = ev.PayloadVersion
				if info, typed := typedReg.Lookup(ev.Kind); typed {
					require.Equal(t, info.Name, names[ev.Kind], "%s: event %d has no kind name kept", label, ev.Global)
				}
			}
			for _, r := range acked {
				v, ok := got[r.ID]
				require.True(t, ok, "%s: acknowledged event %d lost", label, r.Global)
				info, _ := typedReg.Lookup(r.Kind)
				require.Equal(t, info.Version, v, "%s: event %d's payload version", label, r.Global)
			}
			require.NoError(t, s.Close())
		}
	}
	figure(t, "kind names: crash points exercised: %d (%d operations × 2 modes); violations: 0", points, total+1)
}
