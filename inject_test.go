package batpak

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/writer"
)

// TestInjectionPointsNameTheWritersPoints pins each of the store's
// injection points to the writer's point of the same place: the function
// given to WithInjection is called with the writer's point converted.
func TestInjectionPointsNameTheWritersPoints(t *testing.T) {
	for mine, its := range map[InjectionPoint]writer.Point{
		InjectBeforeWrite:   writer.PointBeforeWrite,
		InjectBatchBegin:    writer.PointBatchBegin,
		InjectBatchItem:     writer.PointBatchItem,
		InjectBatchCommit:   writer.PointBatchCommit,
		InjectBeforeHandoff: writer.PointBeforeHandoff,
		InjectBeforeFsync:   writer.PointBeforeFsync,
		InjectBeforePublish: writer.PointBeforePublish,
		InjectRotate:        writer.PointRotate,
	} {
		var got InjectionPoint
		c := config{inject: func(p InjectionPoint) error { got = p; return nil }}
		require.NoError(t, c.writerInject()(its))
		require.Equal(t, mine, got, "writer point %q", its)
	}
}
