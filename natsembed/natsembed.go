package natsembed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options configure an embedded server.
type Options struct {
	// Dir is where JetStream keeps its files; required. A cluster puts
	// each server in a subdirectory named after it.
	Dir string
	// Name is the server's name (default "batpak-0").
	Name string
	// SyncAlways makes JetStream fsync every write before acknowledging it
	// (default: the server's periodic sync, every 2 minutes).
	SyncAlways bool
	// ReadyTimeout bounds the wait for the server (and a cluster's
	// JetStream leader) to be ready (default 20 s).
	ReadyTimeout time.Duration
	// Logs turns the server's own logging on (to standard error).
	Logs bool
}

// ErrNotReady is returned when a server or cluster did not become ready
// in time.
var ErrNotReady = errors.New("natsembed: server not ready")

// Server is one embedded server.
type Server struct {
	*server.Server
	opts *server.Options
}

// Start starts one server with JetStream on a free loopback port.
func Start(o Options) (*Server, error) {
	if o.Name == "" {
		o.Name = "batpak-0"
	}
	so, err := serverOptions(o, o.Dir)
	if err != nil {
		return nil, err
	}
	s, err := startServer(so, o)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func serverOptions(o Options, dir string) (*server.Options, error) {
	if o.Dir == "" {
		return nil, fmt.Errorf("natsembed: Options.Dir is required")
	}
	return &server.Options{
		ServerName: o.Name,
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: o.SyncAlways,
		NoSigs:     true, // the process's signals are its own, not the server's
		NoLog:      !o.Logs,
		Debug:      false,
		// JetStream's own limits: none beyond the machine's.
		JetStreamMaxMemory: -1,
		JetStreamMaxStore:  -1,
	}, nil
}

func startServer(so *server.Options, o Options) (*Server, error) {
	s, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	if o.Logs {
		s.ConfigureLogger()
	}
	s.Start()
	wait := o.ReadyTimeout
	if wait == 0 {
		wait = 20 * time.Second
	}
	if !s.ReadyForConnections(wait) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("%w: %s after %v", ErrNotReady, so.ServerName, wait)
	}
	return &Server{Server: s, opts: so}, nil
}

// URL is the server's client URL.
func (s *Server) URL() string { return s.ClientURL() }

// Connect connects a client to the server. The options given are applied
// after the package's defaults (a name, unlimited reconnects).
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return connect(s.URL(), opts...)
}

func connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	all := append([]nats.Option{
		nats.Name("batpak"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
	}, opts...)
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("natsembed: connect %s: %w", url, err)
	}
	return nc, nil
}

// Shutdown stops the server and waits until it has stopped. It is
// idempotent.
func (s *Server) Shutdown() {
	s.Server.Shutdown()
	s.WaitForShutdown()
}

// Cluster is several embedded servers forming one JetStream cluster.
type Cluster struct {
	Servers []*Server
}

// StartCluster starts n servers (3 for a cluster that survives the loss of
// one) named batpak-0…, clustered over loopback routes on free ports, each
// storing under o.Dir/<name>, and waits until JetStream has a leader.
//
// The route ports are picked before the servers start (every server must
// know every other's route address up front, so a JetStream cluster of the
// right size forms at once): free ports below the kernel's ephemeral range
// (see freePorts).
func StartCluster(o Options, n int) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("natsembed: a cluster of %d servers", n)
	}
	ports, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	c := &Cluster{}
	var servers []*server.Server
	var opts []*server.Options
	for i := range n {
		name := fmt.Sprintf("batpak-%d", i)
		so, err := serverOptions(o, filepath.Join(o.Dir, name))
		if err != nil {
			return nil, err
		}
		so.ServerName = name
		so.Cluster = server.ClusterOpts{Name: "batpak", Host: "127.0.0.1", Port: ports[i]}
		so.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		s, err := server.NewServer(so)
		if err != nil {
			return nil, fmt.Errorf("natsembed: %w", err)
		}
		if o.Logs {
			s.ConfigureLogger()
		}
		servers = append(servers, s)
		opts = append(opts, so)
	}
	for _, s := range servers {
		s.Start()
	}
	wait := o.ReadyTimeout
	if wait == 0 {
		wait = 20 * time.Second
	}
	for i, s := range servers {
		c.Servers = append(c.Servers, &Server{Server: s, opts: opts[i]})
	}
	for _, s := range servers {
		if !s.ReadyForConnections(wait) {
			c.Shutdown()
			return nil, fmt.Errorf("%w: %s after %v", ErrNotReady, s.Name(), wait)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// URLs is the client URLs of the running servers, comma-separated, as
// nats.Connect takes them.
func (c *Cluster) URLs() string {
	var urls []string
	for _, s := range c.Servers {
		if s.Running() {
			urls = append(urls, s.URL())
		}
	}
	return strings.Join(urls, ",")
}

// Connect connects a client to the cluster (any running server; it
// reconnects to another if that one goes).
func (c *Cluster) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return connect(c.URLs(), opts...)
}

// WaitReady waits until every running server sees the same JetStream
// leader and that leader counts every running server as an online peer,
// polling, or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if c.ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: no JetStream meta leader: %v", ErrNotReady, ctx.Err())
		case <-tick.C:
		}
	}
}

func (c *Cluster) ready() bool {
	leaders, running, peers := 0, 0, 0
	for _, s := range c.Servers {
		if !s.Running() {
			continue
		}
		running++
		if s.JetStreamIsLeader() {
			leaders++
			peers = len(s.JetStreamClusterPeers())
		}
		if !s.JetStreamIsCurrent() {
			return false
		}
	}
	// The leader must also count every running server as an online peer:
	// until it does, creating a replicated stream fails ("no suitable
	// peers for placement").
	return running > 0 && leaders == 1 && peers == running
}

// StreamLeader returns the running server that leads stream (in the global
// account), or nil if none does now.
func (c *Cluster) StreamLeader(stream string) *Server {
	for _, s := range c.Servers {
		if s.Running() && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return s
		}
	}
	return nil
}

// Shutdown stops every server and waits for them.
func (c *Cluster) Shutdown() {
	for _, s := range c.Servers {
		s.Shutdown()
	}
}
