// Command erasure shows crypto-shredding: a store that encrypts every
// payload with its entity's own key, and forgets one customer — the right
// to erasure — by destroying her key, while the log, its hash chains and
// every other customer's history stay whole.
//
//	go run ./examples/erasure
//
// The master key comes from BATPAK_MASTER_KEY (64 hex digits) when set;
// otherwise a random one is made for the run. In production keep it in a
// secret manager, never next to the store.
//
// It runs on the embedded store only, with no -backend flag: encryption
// and Shred are the embedded store's, because a destroyed key must be gone
// from every copy, and a JetStream key-value bucket keeps deleted values
// in its servers' blocks, replicas and backups (docs/SCALE-OUT.md).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
	"github.com/batpak-go/batpak/projector"
)

var (
	kindRegistered = event.MustCustom(0x1, 0x001)
	kindOrdered    = event.MustCustom(0x1, 0x002)
)

// Registered and Ordered are the payloads: personal data, encrypted.
type Registered struct {
	Name  string `msgpack:"name"`
	Email string `msgpack:"email"`
}

type Ordered struct {
	Item  string `msgpack:"item"`
	Cents int    `msgpack:"cents"`
}

// Revenue is a read model over every customer: what was sold, and to whom
// by name. Over an erased customer's events it still counts the orders
// (the events happened; their headers stay) but can no longer say what
// they were: Decode returns batpak.ErrShredded, and Apply skips.
type Revenue struct {
	Orders int
	Cents  int
	Names  []string
	Erased int // events whose payload was shredded
}

func (r *Revenue) Projection() projector.Spec {
	return projector.Spec{Name: "revenue", Version: 1, Kinds: []event.EventKind{kindRegistered, kindOrdered}}
}

func (r *Revenue) Apply(ev *event.StoredEvent) error {
	if ev.Kind == kindOrdered {
		r.Orders++
	}
	if errors.Is(ev.PayloadErr, batpak.ErrShredded) {
		r.Erased++
		return nil
	}
	switch ev.Kind {
	case kindRegistered:
		p, err := batpak.Decode[Registered](ev)
		if err != nil {
			return err
		}
		r.Names = append(r.Names, p.Name)
	case kindOrdered:
		p, err := batpak.Decode[Ordered](ev)
		if err != nil {
			return err
		}
		r.Cents += p.Cents
	}
	return nil
}

func main() {
	dir, err := os.MkdirTemp("", "batpak-erasure-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), dir, 2000, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// masterKey reads BATPAK_MASTER_KEY, or makes a random key for this run.
func masterKey() ([32]byte, error) {
	var key [32]byte
	if s := os.Getenv("BATPAK_MASTER_KEY"); s != "" {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != len(key) {
			return key, errors.New("BATPAK_MASTER_KEY must be 64 hex digits")
		}
		copy(key[:], b)
		return key, nil
	}
	_, err := rand.Read(key[:])
	return key, err
}

func run(ctx context.Context, dir string, orders int, out io.Writer) error {
	key, err := masterKey()
	if err != nil {
		return err
	}
	encrypt := batpak.WithEncryption(keyring.MasterKey(key))
	store, err := batpak.Open(dir, encrypt, batpak.WithSegmentSize(64<<10))
	if err != nil {
		return err
	}
	defer store.Close()

	customers := []Registered{
		{"Alice Liddell", "alice@example.com"},
		{"Bob Marley", "bob@example.com"},
		{"Carol Danvers", "carol@example.com"},
	}
	var aliceFirst batpak.ID
	for i, c := range customers {
		r, err := store.Append(ctx, customer(i), kindRegistered, c)
		if err != nil {
			return err
		}
		if i == 0 {
			aliceFirst = r.ID
		}
	}
	for i := range orders {
		o := Ordered{Item: fmt.Sprintf("book #%d", i), Cents: 100 + i%900}
		if _, err := store.Append(ctx, customer(i%len(customers)), kindOrdered, o); err != nil {
			return err
		}
	}
	rev, err := batpak.ProjectRegion[Revenue](ctx, store, event.ForEntity("customer:*"), batpak.Consistent)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "before: %d orders, %d cents, customers %v\n", rev.Orders, rev.Cents, rev.Names)

	// Nothing personal is in the files, even before any erasure: every
	// payload is sealed on the appending goroutine.
	if err := store.Sync(ctx); err != nil {
		return err
	}
	if leak, err := search(dir, "alice@example.com"); err != nil || leak != "" {
		return fmt.Errorf("plaintext in %q (%v)", leak, err)
	}
	fmt.Fprintln(out, "files: no plaintext (alice@example.com appears in none)")

	// Alice asks to be forgotten.
	if err := store.Shred(ctx, "customer:alice"); err != nil {
		return err
	}
	ev, err := store.Get(ctx, aliceFirst)
	if err != nil {
		return err
	}
	_, err = batpak.Decode[Registered](ev)
	fmt.Fprintf(out, "alice's registration: %s at sequence %d, kind %v: %v\n",
		ev.Coordinate, ev.Sequence, ev.Kind, err)

	rev, err = batpak.ProjectRegion[Revenue](ctx, store, event.ForEntity("customer:*"), batpak.Consistent)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "after: %d orders, %d cents of readable orders, customers %v, %d events erased\n",
		rev.Orders, rev.Cents, rev.Names, rev.Erased)

	// The log is still whole: every hash chain verifies over the
	// ciphertext, which no key can open any more.
	vr, err := store.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: ok=%v, %d events, %d chain links checked\n", vr.OK(), vr.Events, vr.ChainsVerified)

	// Compaction drops the useless ciphertext from the sealed segments;
	// the events stay, still shredded, and Verify still passes.
	cr, err := store.Compact(ctx, batpak.CompactOptions{})
	if err != nil {
		return err
	}
	vr, err = store.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "compact: %d shredded payloads dropped; verify ok=%v\n", cr.Shredded, vr.OK())
	return nil
}

func customer(i int) event.Coordinate {
	return event.MustCoordinate([]string{"customer:alice", "customer:bob", "customer:carol"}[i], "shop")
}

// search returns the first file under dir holding needle.
func search(dir, needle string) (string, error) {
	found := ""
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(needle)) {
			found = path
		}
		return err
	})
	return found, err
}
