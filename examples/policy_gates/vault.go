package main

import (
	"context"
	"fmt"
	"io"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/gatekeeper"
)

var (
	vaultCoord    = event.MustCoordinate("vault:red-guild", "realm:eu")
	kindDeposited = event.MustCustom(0x1, 0x001)
	kindWithdrawn = event.MustCustom(0x1, 0x002)
)

type deposit struct {
	Member string
	Amount int
}

type withdrawal struct {
	Member  string
	Amount  int
	Purpose string
}

// vault is the state the gates judge, folded from the log.
type vault struct {
	Balance        int
	WithdrawnToday int    // the example runs within one day
	Next           uint64 // the vault entity's next sequence
}

// loadVault folds the vault's events. Every event on the vault was
// committed through gatekeeper, so gatekeeper.Decode reads each one,
// bypassed or not.
func loadVault(ctx context.Context, st batpak.EventStore) (vault, error) {
	var v vault
	for e, err := range st.Stream(ctx, vaultCoord.Entity()) {
		if err != nil {
			return vault{}, err
		}
		v.Next = e.Sequence + 1
		switch e.Kind {
		case kindDeposited:
			d, _, err := gatekeeper.Decode[deposit](e)
			if err != nil {
				return vault{}, err
			}
			v.Balance += d.Amount
		case kindWithdrawn:
			w, _, err := gatekeeper.Decode[withdrawal](e)
			if err != nil {
				return vault{}, err
			}
			v.Balance -= w.Amount
			v.WithdrawnToday += w.Amount
		}
	}
	return v, nil
}

// audit prints every event on the vault with how it got past the gates.
func audit(ctx context.Context, st batpak.EventStore, w io.Writer) error {
	n := 0
	for e, err := range st.Stream(ctx, vaultCoord.Entity()) {
		if err != nil {
			return err
		}
		n++
		var what string
		switch e.Kind {
		case kindDeposited:
			d, _, err := gatekeeper.Decode[deposit](e)
			if err != nil {
				return err
			}
			what = fmt.Sprintf("%s deposited %d", d.Member, d.Amount)
		case kindWithdrawn:
			wd, _, err := gatekeeper.Decode[withdrawal](e)
			if err != nil {
				return err
			}
			what = fmt.Sprintf("%s withdrew %d for %s", wd.Member, wd.Amount, wd.Purpose)
		}
		a, err := gatekeeper.ReadAudit(e)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "#%d %s\n", e.Sequence, what)
		if a.Bypassed() {
			fmt.Fprintf(w, "   BYPASS by %s (%s): %s\n   gates skipped: %v\n",
				a.Bypass.By, a.Bypass.Reason, a.Bypass.Justification, a.Bypass.GatesSkipped)
		} else {
			fmt.Fprintf(w, "   gates passed: %v\n", a.Gates)
		}
	}
	v, err := loadVault(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d events on the log (denials are returned, never logged); balance %d\n", n, v.Balance)
	return nil
}
