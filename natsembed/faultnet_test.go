package natsembed_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak/natsembed"
)

// A cluster whose network the test controls. Every route between two
// servers runs through a loopback proxy per direction (linkProxy), so a
// test can cut a server off from the others (a partition: the proxies
// close what is open and refuse what comes) or slow its links (a slow
// follower: each chunk forwarded late). Servers can be shut down and
// started again on the same ports, with their store or with none.
//
// Servers learn each other's route addresses from one another and may
// connect to them directly, around the proxies ("implicit" routes). To
// keep every route on a proxy, each server advertises as its route
// address a listener that accepts and at once closes connections: an
// implicit route never forms, and the configured ones, through the
// proxies, are the mesh.

// linkProxy forwards the connections it accepts to target.
type linkProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // both ends of every open pair, guarded by mu
	cut   bool                  // guarded by mu
	delay time.Duration         // guarded by mu
}

func newLinkProxy(t *testing.T, target string) *linkProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &linkProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

func (p *linkProxy) addr() string { return p.ln.Addr().String() }

func (p *linkProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			_ = c.Close()
			continue
		}
		d, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			_ = d.Close()
			continue
		}
		p.conns[c], p.conns[d] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(d, c)
		go p.pipe(c, d)
	}
}

// pipe copies src to dst until either ends, each chunk after the link's
// delay: the delay is the fault a slow link is, not a synchronisation.
func (p *linkProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.delay
			p.mu.Unlock()
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// setCut cuts the link (closing every connection on it and refusing new
// ones) or restores it.
func (p *linkProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

func (p *linkProxy) setDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

func (p *linkProxy) close() {
	_ = p.ln.Close()
	p.setCut(true)
	p.wg.Wait()
}

// faultCluster is n servers meshed through linkProxies.
type faultCluster struct {
	t       *testing.T
	dir     string
	client  []int                 // client ports
	cluster []int                 // route ports
	links   map[[2]int]*linkProxy // links[{i, j}]: i's route to j
	refuser net.Listener
	refuseW sync.WaitGroup
	srvs    []*server.Server // nil while stopped
}

func startFaultCluster(t *testing.T, n int) *faultCluster {
	c := &faultCluster{t: t, dir: t.TempDir(), links: map[[2]int]*linkProxy{}, srvs: make([]*server.Server, n)}
	ports := loopbackPorts(t, 2*n)
	c.client, c.cluster = ports[:n], ports[n:]
	var err error
	c.refuser, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c.refuseW.Add(1)
	go func() {
		defer c.refuseW.Done()
		for {
			conn, err := c.refuser.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	for i := range n {
		for j := range n {
			if i != j {
				c.links[[2]int{i, j}] = newLinkProxy(t, fmt.Sprintf("127.0.0.1:%d", c.cluster[j]))
			}
		}
	}
	t.Cleanup(c.shutdown)
	for i := range n {
		c.srvs[i] = c.newServer(i)
	}
	for i := range n {
		c.srvs[i].Start()
	}
	for i := range n {
		c.requireReady(i, "")
	}
	c.waitMeta()
	return c
}

// requireReady fails the test unless server i accepts connections within
// 20 s, naming the listeners that are not up (the servers log nothing).
func (c *faultCluster) requireReady(i int, when string) {
	c.t.Helper()
	s := c.srvs[i]
	if s.ReadyForConnections(20 * time.Second) {
		return
	}
	c.t.Fatalf("server %d not ready%s: client listener %v (port %d), route listener %v (port %d), running %v",
		i, when, s.Addr(), c.client[i], s.ClusterAddr(), c.cluster[i], s.Running())
}

// loopbackPorts finds n free loopback ports, as StartCluster does: below
// the ephemeral range, where no connection is given one between the probe
// and a server's bind (nor between a server's stop and its restart).
func loopbackPorts(t *testing.T, n int) []int {
	ports, err := natsembed.FreePorts(n)
	require.NoError(t, err)
	return ports
}

func (c *faultCluster) name(i int) string { return fmt.Sprintf("batpak-%d", i) }

func (c *faultCluster) newServer(i int) *server.Server {
	var routes []string
	for j := range c.srvs {
		if j != i {
			routes = append(routes, "nats://"+c.links[[2]int{i, j}].addr())
		}
	}
	o := &server.Options{
		ServerName: c.name(i), Host: "127.0.0.1", Port: c.client[i],
		JetStream: true, StoreDir: filepath.Join(c.dir, c.name(i)),
		NoSigs: true, NoLog: true, JetStreamMaxMemory: -1, JetStreamMaxStore: -1,
		Cluster: server.ClusterOpts{
			Name: "faults", Host: "127.0.0.1", Port: c.cluster[i],
			Advertise: c.refuser.Addr().String(),
		},
		Routes: server.RoutesFromStr(strings.Join(routes, ",")),
	}
	s, err := server.NewServer(o)
	require.NoError(c.t, err)
	return s
}

func (c *faultCluster) url(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.client[i]) }

// connectTo connects a client to server i alone: it does not move to the
// other servers it hears of, and reconnects to i when i comes back.
func (c *faultCluster) connectTo(i int) *nats.Conn {
	nc, err := nats.Connect(c.url(i), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.IgnoreDiscoveredServers())
	require.NoError(c.t, err)
	c.t.Cleanup(nc.Close)
	return nc
}

// connectAll connects a client to any of the servers.
func (c *faultCluster) connectAll() *nats.Conn {
	var urls []string
	for i := range c.srvs {
		urls = append(urls, c.url(i))
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(c.t, err)
	c.t.Cleanup(nc.Close)
	return nc
}

// stop shuts server i down and waits for it.
func (c *faultCluster) stop(i int) {
	c.srvs[i].Shutdown()
	c.srvs[i].WaitForShutdown()
	c.srvs[i] = nil
}

// restart starts server i again on its ports, with its store, or with an
// empty one (its directory deleted first).
func (c *faultCluster) restart(i int, empty bool) {
	if empty {
		require.NoError(c.t, os.RemoveAll(filepath.Join(c.dir, c.name(i))))
	}
	c.srvs[i] = c.newServer(i)
	c.srvs[i].Start()
	c.requireReady(i, " after restart")
}

// isolate cuts server i off from the others, or, with cut false, joins
// it again.
func (c *faultCluster) isolate(i int, cut bool) {
	for k, p := range c.links {
		if k[0] == i || k[1] == i {
			p.setCut(cut)
		}
	}
}

// slow delays every chunk on server i's links by d (0: no delay).
func (c *faultCluster) slow(i int, d time.Duration) {
	for k, p := range c.links {
		if k[0] == i || k[1] == i {
			p.setDelay(d)
		}
	}
}

// leader returns the index of the running server that leads stream, or
// -1.
func (c *faultCluster) leader(stream string) int {
	for i, s := range c.srvs {
		if s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// waitFor waits until cond holds; a minute without is a failure.
func (c *faultCluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	if !c.poll(time.Minute, cond) {
		c.t.Fatalf("waited a minute for %s", what)
	}
}

// waitMeta waits until the running servers agree on one JetStream meta
// leader, are current with it, and it counts them all as online peers
// (until then a replicated stream cannot be placed).
func (c *faultCluster) waitMeta() {
	c.waitFor("a JetStream meta leader", func() bool {
		leaders, running, peers := 0, 0, 0
		for _, s := range c.srvs {
			if s == nil {
				continue
			}
			running++
			if !s.JetStreamIsCurrent() {
				return false
			}
			if s.JetStreamIsLeader() {
				leaders++
				peers = len(s.JetStreamClusterPeers())
			}
		}
		return leaders == 1 && peers == running
	})
}

// waitLeader waits until a running server other than not leads stream
// (not -1: any) and returns it.
func (c *faultCluster) waitLeader(stream string, not int) int {
	l := -1
	c.waitFor("a stream leader", func() bool {
		l = c.leader(stream)
		return l >= 0 && l != not
	})
	return l
}

// waitCurrent waits until server i's replica of stream is current with
// its leader.
func (c *faultCluster) waitCurrent(i int, stream string) {
	c.waitFor(fmt.Sprintf("%s current on %s", stream, c.name(i)), func() bool {
		return c.srvs[i].JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, stream)
	})
}

// stepDownTo asks the stream's leader to hand leadership to server i
// until i leads (an election can pick another; then it asks again).
func (c *faultCluster) stepDownTo(nc *nats.Conn, stream string, i int) {
	c.t.Helper()
	req := fmt.Sprintf(`{"placement":{"preferred":%q}}`, c.name(i))
	for range 10 {
		if c.leader(stream) == i {
			return
		}
		_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+stream, []byte(req), 2*time.Second)
		if c.poll(10*time.Second, func() bool { return c.leader(stream) == i }) {
			return
		}
	}
	c.t.Fatalf("%s never took the lead of %s", c.name(i), stream)
}

// poll reports whether cond held within d, checking it every 20 ms.
func (c *faultCluster) poll(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}

func (c *faultCluster) shutdown() {
	for i, s := range c.srvs {
		if s != nil {
			s.Shutdown()
			s.WaitForShutdown()
			c.srvs[i] = nil
		}
	}
	for _, p := range c.links {
		p.close()
	}
	_ = c.refuser.Close()
	c.refuseW.Wait()
}
