// Command policy_gates shows batpak's policy layer on a guild vault. Gates
// judge each withdrawal on the caller's goroutine before it is committed;
// denials come back to the caller with their context and are never logged;
// a receipt commits once; and a guild master's bypass is written to the log
// with who did it and why, where an auditor can read it back. -backend
// jetstream runs it over a NATS server started in-process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
	"github.com/batpak-go/batpak/gatekeeper"
)

var backendName = backend.Flag()

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "batpak-policy-gates-*")
	if err != nil {
		log.Fatal(err)
	}
	err = run(context.Background(), *backendName, dir, os.Stdout)
	if rmErr := os.RemoveAll(dir); err == nil {
		err = rmErr
	}
	if err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, kind, dir string, w io.Writer) (err error) {
	st, err := backend.Open(ctx, kind, dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	fmt.Fprintln(w, "== a deposit and a withdrawal that pass every gate")
	if _, err := depositGold(ctx, st, deposit{Member: "dora", Amount: 500}); err != nil {
		return err
	}
	alice := withdrawal{Member: "alice", Amount: 120, Purpose: "arrows"}
	r, err := evaluate(ctx, st, alice)
	if err != nil {
		return err
	}
	c, err := gatekeeper.Commit(ctx, st, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "alice withdrew %d at #%d, gates passed: %v\n", c.Payload.Amount, c.Sequence, c.Audit.Gates)

	fmt.Fprintln(w, "\n== a receipt commits once")
	_, err = gatekeeper.Commit(ctx, st, r)
	fmt.Fprintln(w, "committing alice's receipt again:", err)

	fmt.Fprintln(w, "\n== a denial, with its context")
	_, err = evaluate(ctx, st, withdrawal{Member: "bob", Amount: 150, Purpose: "a horse"})
	var d *gatekeeper.Denial
	if !errors.As(err, &d) {
		return fmt.Errorf("bob's withdrawal should be denied, got %v", err)
	}
	fmt.Fprintf(w, "gate %q said %s: %s\n", d.Gate, d.Code, d.Message)
	for _, a := range d.Context {
		fmt.Fprintf(w, "  %s = %s\n", a.Key, a.Value)
	}

	fmt.Fprintln(w, "\n== every denial at once, for a dashboard")
	v, err := loadVault(ctx, st)
	if err != nil {
		return err
	}
	for _, d := range withdrawGates.EvaluateAll(check(withdrawal{Member: "mallory", Amount: 10_000}, v)) {
		fmt.Fprintln(w, " ", d)
	}

	fmt.Fprintln(w, "\n== two officers act on the same snapshot")
	v, err = loadVault(ctx, st)
	if err != nil {
		return err
	}
	carolW := withdrawal{Member: "carol", Amount: 150, Purpose: "potions"}
	aliceW := withdrawal{Member: "alice", Amount: 150, Purpose: "more arrows"}
	rCarol, err1 := gatekeeper.Evaluate(withdrawGates, check(carolW, v), proposal(carolW, v))
	rAlice, err2 := gatekeeper.Evaluate(withdrawGates, check(aliceW, v), proposal(aliceW, v))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if _, err := gatekeeper.Commit(ctx, st, rCarol); err != nil {
		return err
	}
	fmt.Fprintln(w, "carol's withdrawal committed")
	_, err = gatekeeper.Commit(ctx, st, rAlice)
	if !errors.Is(err, batpak.ErrSequenceMismatch) {
		return fmt.Errorf("alice's stale receipt should conflict, got %v", err)
	}
	fmt.Fprintln(w, "alice's receipt was judged on a vault that has moved:", err)
	_, err = evaluate(ctx, st, aliceW)
	fmt.Fprintln(w, "re-evaluated:", err)

	fmt.Fprintln(w, "\n== the guild master bypasses the gates, on the record")
	repair := withdrawal{Member: "zed", Amount: 200, Purpose: "repair the vault door"}
	v, err = loadVault(ctx, st)
	if err != nil {
		return err
	}
	if _, err := gatekeeper.Evaluate(withdrawGates, check(repair, v), proposal(repair, v)); err != nil {
		fmt.Fprintln(w, "the gates say:", err)
	}
	rb, err := gatekeeper.Bypass(withdrawGates, proposal(repair, v), gatekeeper.BypassReason{
		Reason:        "emergency-repair",
		Justification: "the vault door was smashed in a raid; council vote 2024-117",
		By:            "guildmaster:zed",
	})
	if err != nil {
		return err
	}
	if _, err := gatekeeper.Commit(ctx, st, rb); err != nil {
		return err
	}
	fmt.Fprintln(w, "bypass committed")

	fmt.Fprintln(w, "\n== the audit trail, read back from the log")
	return audit(ctx, st, w)
}

// evaluate judges w against the vault as the log has it now and returns a
// receipt, or the first denial.
func evaluate(ctx context.Context, st batpak.EventStore, w withdrawal) (gatekeeper.Receipt[withdrawal], error) {
	v, err := loadVault(ctx, st)
	if err != nil {
		return gatekeeper.Receipt[withdrawal]{}, err
	}
	return gatekeeper.Evaluate(withdrawGates, check(w, v), proposal(w, v))
}

// proposal proposes w on the vault, conditional on the vault being where
// the gates saw it: if another withdrawal lands in between, the commit
// fails instead of acting on a stale decision.
func proposal(w withdrawal, v vault) gatekeeper.Proposal[withdrawal] {
	p := gatekeeper.Propose(vaultCoord, kindWithdrawn, w)
	p.Options = event.Expect(v.Next)
	return p
}

func depositGold(ctx context.Context, st batpak.EventStore, d deposit) (gatekeeper.Committed[deposit], error) {
	p := gatekeeper.Propose(vaultCoord, kindDeposited, d)
	p.Limits = st.Limits() // the receipt is checked against this store's codec and payload bound
	r, err := gatekeeper.Evaluate(depositGates, d, p)
	if err != nil {
		return gatekeeper.Committed[deposit]{}, err
	}
	return gatekeeper.Commit(ctx, st, r)
}
