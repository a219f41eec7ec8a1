package writer

import (
	"sync"

	"github.com/batpak-go/batpak/event"
)

// Item is one event to append, its payload already encoded (and sealed,
// if the store encrypts).
type Item struct {
	Coord   event.Coordinate
	Kind    event.EventKind
	Codec   event.Codec
	Payload []byte
	// Version is the payload's version (event.StoredEvent.PayloadVersion;
	// 0: none).
	Version uint32
	// Sealed says Payload is sealed (docs/FORMAT.md, "Sealed payloads");
	// Plain is then the payload it seals, which an idempotent retry is
	// compared by.
	Sealed bool
	Plain  []byte
	Opts   event.AppendOptions
	Cause  event.Cause // batch items only
	// Import, set only by the facade's Importer, gives the event the id and
	// clock readings it had in the store it comes from (see Imported).
	Import *Imported
}

// Plaintext returns the item's payload as the caller encoded it (before
// sealing).
func (it *Item) Plaintext() []byte {
	if it.Sealed {
		return it.Plain
	}
	return it.Payload
}

// op is what a request asks of the writer. A request is made by the
// constructor of its op (NewAppend, NewBatch, NewSync, NewReload), which
// sets the fields that op reads and nothing else.
type op uint8

const (
	opAppend op = iota + 1 // one event
	opBatch                // events that commit together or not at all
	opSync                 // a barrier: answered once everything before it is durable
	opReload               // compaction rewrote the index: forget what it dropped
)

// Request is one command to the writer. The writer or the fsync actor fills
// Receipts or Err and sends the request back on its reply channel (buffered
// to one: each request is answered exactly once, so the answer never
// blocks).
type Request struct {
	op         op
	items      []Item           // opAppend (one item), opBatch
	durability event.Durability // opAppend, opBatch: resolved (Durable or OnWrite) by the facade
	reload     Reload           // opReload

	Receipts []event.Receipt
	Err      error

	one      [1]Item
	receipt1 [1]event.Receipt
	reply    chan *Request
}

var requestPool = sync.Pool{New: func() any { return &Request{reply: make(chan *Request, 1)} }}

func newRequest(o op) *Request {
	r := requestPool.Get().(*Request)
	r.op = o
	return r
}

// NewAppend returns a request to append one event, with no allocation
// (requests are pooled; see Release).
func NewAppend(it Item, d event.Durability) *Request {
	r := newRequest(opAppend)
	r.one[0] = it
	r.items, r.durability = r.one[:], d
	return r
}

// NewBatch returns a request to append items atomically. The request keeps
// items: the caller must not change them until the reply.
func NewBatch(items []Item, d event.Durability) *Request {
	r := newRequest(opBatch)
	r.items, r.durability = items, d
	return r
}

// NewSync returns a sync barrier: its reply comes once every request sent
// before it, in either durability mode, is on stable storage.
func NewSync() *Request {
	r := newRequest(opSync)
	r.durability = event.Durable
	return r
}

// NewReload returns a Reload command (see Reload).
func NewReload(rl Reload) *Request {
	r := newRequest(opReload)
	r.reload = rl
	return r
}

// Reply is the channel the result arrives on.
func (r *Request) Reply() <-chan *Request { return r.reply }

// Release returns a request whose reply has been received to the pool.
// Never release a request whose reply may still arrive.
func (r *Request) Release() {
	clear(r.one[:])
	r.op, r.items, r.durability, r.reload = 0, nil, 0, Reload{}
	r.Receipts, r.Err = nil, nil
	requestPool.Put(r)
}

// finish answers the request. Each request is answered exactly once, by
// whichever actor holds it then (see doc.go), so the send never blocks.
func (r *Request) finish(err error) {
	r.Err = err
	r.reply <- r
}

// receiptSlice returns a slice for n receipts: inline for one, else a new
// slice that a ticket may keep after the request is released.
func (r *Request) receiptSlice(n int) []event.Receipt {
	if n == 1 {
		return r.receipt1[:]
	}
	return make([]event.Receipt, n)
}
