package natsembed

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// freePorts finds n free loopback ports for servers that must know them
// before they start (a cluster's routes). A port the kernel hands out for
// a bind to port 0 lies in its ephemeral range, which is also where every
// outgoing connection of every process takes its local port: between the
// probe's release and the server's bind, a connection may be given it,
// and the server never listens (a fault cluster of the tests was seen
// never to become ready). So candidates are drawn below that range, where
// only a program naming a port takes one, and each is probed by binding it.
func freePorts(n int) ([]int, error) {
	lo, hi := 10000, ephemeralStart()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	seen := map[int]bool{}
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries == 100*n {
			return nil, fmt.Errorf("natsembed: no free loopback port among %d tried in [%d, %d)", tries, lo, hi)
		}
		p := lo + rand.IntN(hi-lo)
		if seen[p] {
			continue
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // taken
		}
		ls = append(ls, l)
		ports = append(ports, p)
	}
	return ports, nil
}

// ephemeralStart is the first port of the kernel's ephemeral range: Linux
// says it in ip_local_port_range; elsewhere 32768, below the range other
// systems use (49152 up, by default).
func ephemeralStart() int {
	const fallback = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fallback
	}
	v, err := strconv.Atoi(f[0])
	if err != nil || v <= 11000 {
		return fallback
	}
	return v
}
