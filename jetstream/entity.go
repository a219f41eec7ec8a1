package jetstream

import (
	"context"
	"errors"
	"sync"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/nats-io/nats.go"
)

// entityState is what the store knows of an entity's newest event: the
// basis of its next append's sequence, chain hash and sequence check. Its
// mutex is held across an append, so one client never races itself on an
// entity; other clients are caught by the server's check.
type entityState struct {
	mu    sync.Mutex
	known bool     // false: load from the leader before use
	last  uint64   // stream sequence of the newest event, 0 for none
	next  uint64   // its next per-entity sequence
	hash  [32]byte // its newest chain hash
	// links are what the next event links to (links.go), in
	// linkSeqs(next) order; linked is false when they are unknown (the
	// newest event carries none), and then the next event carries none.
	links  []link
	linked bool
	refs   int // holders and waiters, guarded by Store.entMu
}

// maxCachedEntities bounds the states kept between appends; past it, idle
// ones are dropped (and reloaded from the leader when next used).
const maxCachedEntities = 1 << 16

// acquire returns entity's state, locked.
func (s *Store) acquire(entity string) *entityState {
	s.entMu.Lock()
	st := s.entities[entity]
	if st == nil {
		if len(s.entities) >= maxCachedEntities {
			for k, v := range s.entities {
				if v.refs == 0 {
					delete(s.entities, k)
				}
				if len(s.entities) < maxCachedEntities/2 {
					break
				}
			}
		}
		st = &entityState{}
		s.entities[entity] = st
	}
	st.refs++
	s.entMu.Unlock()
	st.mu.Lock()
	return st
}

func (s *Store) release(st *entityState) {
	st.mu.Unlock()
	s.entMu.Lock()
	st.refs--
	s.entMu.Unlock()
}

// load reads entity's newest event into st: from the stream leader if
// leader is set, else with a direct get, which on a replicated stream a
// lagging follower may answer. A stale answer is safe: the append built on
// it fails the server's sequence check, and the retry loads from the
// leader.
func (s *Store) load(ctx context.Context, entity string, st *entityState, leader bool) error {
	var (
		m   *storedMsg
		hdr nats.Header
		err error
	)
	if leader && s.opts.Replicas > 1 {
		m, hdr, err = s.getMsg(ctx, msgGetRequest{LastFor: s.subj.entity(entity)})
	} else { // a single server is the leader: its direct get is the cheap form
		m, err = s.directGet(ctx, msgGetRequest{LastFor: s.subj.entity(entity)})
		if m != nil {
			hdr = m.hdr
		}
	}
	if errors.Is(err, batpak.ErrNotFound) {
		st.known, st.last, st.next, st.hash = true, 0, 0, [32]byte{}
		st.links, st.linked = nil, true
		return nil
	}
	if err != nil {
		return err
	}
	d, err := decode(m.Seq, m.Data)
	if err != nil {
		return err
	}
	k := d.ev.Sequence
	st.known, st.last, st.next, st.hash = true, m.Seq, k+1, d.ev.Hash.Self
	// The next event links to this one and to what this one links to.
	st.links, st.linked = nil, false
	if prev, err := parseLinks(hdr.Get(hdrPrev), m.Seq, k); err == nil {
		st.links, st.linked = nextLinks(k, link{seq: m.Seq, item: -1}, absLinks(prev))
	}
	return nil
}

// advance records that the event st.next was stored at stream sequence seq
// with chain hash self.
func (st *entityState) advance(seq uint64, self [32]byte) {
	if st.linked {
		st.links, st.linked = nextLinks(st.next, link{seq: seq, item: -1}, st.links)
	}
	st.last, st.next, st.hash = seq, st.next+1, self
}

// linkHeader is the Bp-Prev value of the next event ("" when unlinked or
// the entity's first).
func (st *entityState) linkHeader() string {
	if !st.linked || len(st.links) == 0 {
		return ""
	}
	return formatLinks(st.links, -1)
}

// committedAfter looks for the event with id right after stream sequence
// base among entity's events: where an append based on base landed if an
// attempt whose answer was lost committed it. It returns the event or nil.
func (s *Store) committedAfter(ctx context.Context, entity string, base uint64, id event.ID) (*event.StoredEvent, error) {
	m, _, err := s.getMsg(ctx, msgGetRequest{Seq: base + 1, NextFor: s.subj.entity(entity)})
	if errors.Is(err, batpak.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d, err := decode(m.Seq, m.Data)
	if err != nil {
		return nil, err
	}
	if d.ev.ID != id {
		return nil, nil
	}
	return d.ev, nil
}
