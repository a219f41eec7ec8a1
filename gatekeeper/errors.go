package gatekeeper

import "errors"

// The package's sentinel errors. A *Denial is the one typed error; it
// matches ErrDenied.
var (
	// ErrDenied is matched by errors.Is for every *Denial.
	ErrDenied = errors.New("gatekeeper: denied")

	// ErrInvalidGateSet is returned (wrapped) by NewGateSet for a set that
	// could not enforce anything as written — no gates, a nameless gate, a
	// gate without a Check, two gates with one name — and by Evaluate and
	// Bypass for a nil set. Every such mistake fails closed: no receipt is made.
	ErrInvalidGateSet = errors.New("gatekeeper: invalid gate set")

	// ErrUnjustifiedBypass is returned (wrapped) by Bypass when the reason,
	// the justification or who authorised it is missing: a bypass nobody can
	// account for later is not an audited bypass.
	ErrUnjustifiedBypass = errors.New("gatekeeper: bypass needs a reason, a justification and who authorised it")

	// ErrZeroReceipt is returned by Commit for the zero Receipt: one that no
	// gate set and no Bypass made.
	ErrZeroReceipt = errors.New("gatekeeper: zero receipt (not made by Evaluate or Bypass)")

	// ErrReceiptSpent is returned by Commit for a receipt that a Commit has
	// already used, successfully or not.
	ErrReceiptSpent = errors.New("gatekeeper: receipt already used")

	// ErrNotEnvelope is returned (wrapped) by ReadAudit and Decode for an
	// event that was not committed through gatekeeper, or was written by a
	// newer envelope version than this package knows.
	ErrNotEnvelope = errors.New("gatekeeper: event is not a gatekeeper envelope")
)
