package natsembed

import (
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// The ports StartCluster picks are distinct, free, and below the range
// the kernel gives to port 0 binds and outgoing connections.
func TestFreePortsLieBelowTheEphemeralRange(t *testing.T) {
	ports, err := freePorts(6)
	require.NoError(t, err)
	require.Len(t, ports, 6)
	seen := map[int]bool{}
	for _, p := range ports {
		require.False(t, seen[p], "port %d twice", p)
		seen[p] = true
		require.GreaterOrEqual(t, p, 10000)
		require.Less(t, p, ephemeralStart())
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		require.NoError(t, err, "port %d must be free", p)
		require.NoError(t, l.Close())
	}
	// A port a bind to 0 gets is never among them: it lies in the range.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	require.GreaterOrEqual(t, l.Addr().(*net.TCPAddr).Port, ephemeralStart())
}
