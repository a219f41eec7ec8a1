package main

import (
	"cmp"

	"github.com/batpak-go/batpak/gatekeeper"
)

// The guild's roster and rules. Ranks allow withdrawals up to a limit.
var (
	roster = map[string]string{
		"alice": "officer", "carol": "officer", "bob": "member", "dora": "member", "zed": "master",
	}
	rankLimit = map[string]int{"member": 100, "officer": 250, "master": 1000}
)

const dailyLimit = 400

// request is the gates' context: the withdrawal plus the facts it is judged by.
type request struct {
	W     withdrawal
	Rank  string // "" if not in the guild
	Vault vault
}

func check(w withdrawal, v vault) request { return request{W: w, Rank: roster[w.Member], Vault: v} }

// withdrawGates are evaluated in this order; Evaluate stops at the first denial.
var withdrawGates = gatekeeper.MustGateSet(
	gatekeeper.Gate[request]{
		Name:        "member",
		Description: "only guild members use the vault",
		Check: func(r request) *gatekeeper.Denial {
			if r.Rank == "" {
				return gatekeeper.Deny("not_member", "not a member of the guild").With("member", r.W.Member)
			}
			return nil
		},
	},
	gatekeeper.Gate[request]{
		Name:        "positive",
		Description: "amounts are positive",
		Check: func(r request) *gatekeeper.Denial {
			if r.W.Amount <= 0 {
				return gatekeeper.Deny("not_positive", "amount must be positive").With("amount", r.W.Amount)
			}
			return nil
		},
	},
	gatekeeper.Gate[request]{
		Name:        "rank",
		Description: "each rank may withdraw up to its limit at once",
		Check: func(r request) *gatekeeper.Denial {
			if limit := rankLimit[r.Rank]; r.W.Amount > limit {
				return gatekeeper.Deny("rank_too_low", "amount is above the rank's limit").
					With("rank", cmp.Or(r.Rank, "none")).With("limit", limit).With("amount", r.W.Amount)
			}
			return nil
		},
	},
	gatekeeper.Gate[request]{
		Name:        "funds",
		Description: "the vault covers the withdrawal",
		Check: func(r request) *gatekeeper.Denial {
			if r.W.Amount > r.Vault.Balance {
				return gatekeeper.Deny("insufficient_funds", "the vault does not hold that much").
					With("balance", r.Vault.Balance).With("amount", r.W.Amount)
			}
			return nil
		},
	},
	gatekeeper.Gate[request]{
		Name:        "daily-limit",
		Description: "the guild withdraws at most dailyLimit a day",
		Check: func(r request) *gatekeeper.Denial {
			if r.Vault.WithdrawnToday+r.W.Amount > dailyLimit {
				return gatekeeper.Deny("daily_limit", "the daily limit would be exceeded").
					With("withdrawn_today", r.Vault.WithdrawnToday).With("limit", dailyLimit).With("amount", r.W.Amount)
			}
			return nil
		},
	},
)

var depositGates = gatekeeper.MustGateSet(gatekeeper.Gate[deposit]{
	Name:        "positive",
	Description: "deposits are positive",
	Check: func(d deposit) *gatekeeper.Denial {
		if d.Amount <= 0 {
			return gatekeeper.Deny("not_positive", "amount must be positive").With("amount", d.Amount)
		}
		return nil
	},
})
