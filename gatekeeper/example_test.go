package gatekeeper_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
)

// loot is the payload of a "loot taken" event.
type loot struct {
	Player string
	Gold   int
}

// lootCheck is the gate context: the proposal plus the facts the gates judge it by.
type lootCheck struct {
	Loot     loot
	InParty  bool
	Treasury int
}

var lootGates = gatekeeper.MustGateSet(
	gatekeeper.Gate[lootCheck]{
		Name:        "party-member",
		Description: "only party members share the loot",
		Check: func(c lootCheck) *gatekeeper.Denial {
			if !c.InParty {
				return gatekeeper.Deny("not_in_party", "player is not in the party").With("player", c.Loot.Player)
			}
			return nil
		},
	},
	gatekeeper.Gate[lootCheck]{
		Name:        "treasury",
		Description: "the treasury covers the share",
		Check: func(c lootCheck) *gatekeeper.Denial {
			if c.Loot.Gold > c.Treasury {
				return gatekeeper.Deny("insufficient_gold", "not enough gold in the treasury").
					With("treasury", c.Treasury).With("asked", c.Loot.Gold)
			}
			return nil
		},
	},
)

var (
	lootCoord = event.MustCoordinate("party:red", "room:dungeon")
	lootTaken = event.MustCustom(0x2, 0x001)
)

func Example() {
	ctx := context.Background()
	store := newFakeStore() // a *batpak.Store in a real program

	want := loot{Player: "alice", Gold: 30}
	r, err := gatekeeper.Evaluate(lootGates, lootCheck{Loot: want, InParty: true, Treasury: 100},
		gatekeeper.Propose(lootCoord, lootTaken, want))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := gatekeeper.Commit(ctx, store, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("committed %+v at sequence %d, gates passed: %v\n", c.Payload, c.Sequence, c.Audit.Gates)

	// The receipt is spent.
	_, err = gatekeeper.Commit(ctx, store, r)
	fmt.Println(err)
	// Output:
	// committed {Player:alice Gold:30} at sequence 0, gates passed: [party-member treasury]
	// gatekeeper: receipt already used
}

func ExampleEvaluate_denied() {
	greedy := loot{Player: "mallory", Gold: 500}
	_, err := gatekeeper.Evaluate(lootGates, lootCheck{Loot: greedy, InParty: true, Treasury: 100},
		gatekeeper.Propose(lootCoord, lootTaken, greedy))

	var d *gatekeeper.Denial
	if errors.As(err, &d) {
		asked, _ := d.Lookup("asked")
		fmt.Println(d.Gate, d.Code, asked)
	}
	fmt.Println(err)
	// Output:
	// treasury insufficient_gold 500
	// gatekeeper: gate "treasury" denied (insufficient_gold): not enough gold in the treasury [treasury=100 asked=500]
}

func ExampleGateSet_EvaluateAll() {
	stranger := lootCheck{Loot: loot{Player: "eve", Gold: 500}, InParty: false, Treasury: 100}
	for _, d := range lootGates.EvaluateAll(stranger) {
		fmt.Printf("%s: %s\n", d.Gate, d.Message)
	}
	// Output:
	// party-member: player is not in the party
	// treasury: not enough gold in the treasury
}

func ExampleBypass() {
	ctx := context.Background()
	store := newFakeStore()

	refund := loot{Player: "bob", Gold: 500}
	r, err := gatekeeper.Bypass(lootGates, gatekeeper.Propose(lootCoord, lootTaken, refund), gatekeeper.BypassReason{
		Reason:        "support-refund",
		Justification: "TICKET-12: loot lost to a server crash",
		By:            "gm:zed",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := gatekeeper.Commit(ctx, store, r); err != nil {
		fmt.Println(err)
		return
	}

	// Later, an auditor reads the log.
	for _, e := range store.all() {
		a, err := gatekeeper.ReadAudit(e)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if a.Bypassed() {
			fmt.Printf("#%d bypassed by %s (%s): %s; skipped %v\n", e.Sequence,
				a.Bypass.By, a.Bypass.Reason, a.Bypass.Justification, a.Bypass.GatesSkipped)
		}
	}
	// Output:
	// #0 bypassed by gm:zed (support-refund): TICKET-12: loot lost to a server crash; skipped [party-member treasury]
}

func ExampleDecode() {
	ctx := context.Background()
	store := newFakeStore()
	l := loot{Player: "alice", Gold: 10}
	r, _ := gatekeeper.Evaluate(lootGates, lootCheck{Loot: l, InParty: true, Treasury: 10},
		gatekeeper.Propose(lootCoord, lootTaken, l))
	_, _ = gatekeeper.Commit(ctx, store, r)

	// A projection decodes gated events with Decode, bypassed or not.
	for _, e := range store.all() {
		got, audit, err := gatekeeper.Decode[loot](e)
		fmt.Println(got.Player, got.Gold, audit.Bypassed(), err)
	}
	// Output:
	// alice 10 false <nil>
}
