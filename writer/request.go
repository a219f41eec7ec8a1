package writer

import (
	"sync"

	"github.com/batpak-go/batpak/event"
)

// Item is one event to append, its payload already encoded.
type Item struct {
	Coord   event.Coordinate
	Kind    event.EventKind
	Codec   event.Codec
	Payload []byte
	Opts    event.AppendOptions
	Cause   event.Cause // batch items only
}

// Request is one command to the writer: a single append, an atomic batch,
// or (with no items) a sync barrier. The writer or the fsync actor fills
// Receipts or Err and sends the request back on its reply channel.
type Request struct {
	Items  []Item
	Atomic bool // all items commit together or not at all
	// Durability is resolved (Durable or OnWrite) by the facade.
	Durability event.Durability

	// Reload, if set, makes the request a Reload command (no items).
	Reload *Reload

	Receipts []event.Receipt
	Err      error

	one      [1]Item
	receipt1 [1]event.Receipt
	reply    chan *Request
}

var requestPool = sync.Pool{New: func() any { return &Request{reply: make(chan *Request, 1)} }}

// NewRequest returns a request, reused from a pool when possible.
func NewRequest() *Request { return requestPool.Get().(*Request) }

// SetSingle makes r a single append of it, with no allocation.
func (r *Request) SetSingle(it Item) {
	r.one[0] = it
	r.Items = r.one[:]
	r.Atomic = false
}

// Reply is the channel the result arrives on.
func (r *Request) Reply() <-chan *Request { return r.reply }

// Release returns a request whose reply has been received to the pool.
// Never release a request whose reply may still arrive.
func (r *Request) Release() {
	clear(r.one[:])
	r.Items, r.Receipts, r.Err, r.Reload = nil, nil, nil, nil
	r.Atomic, r.Durability = false, 0
	requestPool.Put(r)
}

func (r *Request) finish(err error) {
	r.Err = err
	r.reply <- r
}

// receipts returns a slice for n receipts, inline for one.
func (r *Request) receiptSlice(n int) []event.Receipt {
	if n == 1 {
		return r.receipt1[:]
	}
	return make([]event.Receipt, n)
}
