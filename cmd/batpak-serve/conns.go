package main

import (
	"net"
	"net/http"
	"sync"
)

// unusedConns tracks the connections that have not sent a request yet, so
// that a stopping server can close them at once. http.Server.Shutdown
// waits for such a connection until its first request is five seconds
// late, and browsers open them ahead of need (Chromium preconnects a
// socket or two to a page's origin): without this, every Ctrl-C after a
// browser visit would wait out those seconds, or exceed serve's own wait.
type unusedConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// track is an http.Server ConnState hook.
func (u *unusedConns) track(c net.Conn, state http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if state == http.StateNew {
		if u.conns == nil {
			u.conns = make(map[net.Conn]struct{})
		}
		u.conns[c] = struct{}{}
		return
	}
	delete(u.conns, c) // active, idle, hijacked or closed: no longer unused
}

// closeAll closes the connections that never sent a request; Shutdown
// closes the idle ones itself and waits for the active ones only.
func (u *unusedConns) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns {
		_ = c.Close()
		delete(u.conns, c)
	}
}
