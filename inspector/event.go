package inspector

import (
	"errors"
	"net/http"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// maxEffects bounds the effects an event page lists.
const maxEffects = 200

type eventData struct {
	Ev       *batpak.StoredEvent
	Kind     string // name or number
	KindName bool   // Kind is a name (the number is shown beside it)
	Payload  payloadView
	// The event's place in its workflow: its cause (nil if none, or
	// CauseMissing when the store does not hold it), the events it caused,
	// and how many events the workflow has.
	Cause        *row
	CauseMissing bool
	Effects      []row
	MoreEffects  bool
	Workflow     int
	OwnRoot      bool // the event is its workflow's root (its id is the correlation)
}

// event shows one event: ?id=UUID. Its header, its payload decoded, its
// hash chain link, and links to its cause, its effects and its workflow.
func (in *Inspector) event(w http.ResponseWriter, r *http.Request) {
	warn := in.refresh(r.Context())
	id, err := parseID(r.URL.Query().Get("id"))
	if err != nil {
		in.fail(w, r, 0, err)
		return
	}
	ctx := r.Context()
	ev, err := in.store.Get(ctx, id)
	if err != nil {
		in.fail(w, r, 0, err)
		return
	}
	d := eventData{Ev: ev, Kind: in.kindLabel(ev.Kind), KindName: in.kindName(ev.Kind) != "",
		Payload: viewPayload(ev), OwnRoot: ev.Correlation == ev.ID}
	if !ev.Causation.IsZero() {
		cause, err := in.store.Get(ctx, ev.Causation)
		switch {
		case errors.Is(err, batpak.ErrNotFound):
			d.CauseMissing = true
		case err != nil:
			in.fail(w, r, 0, err)
			return
		default:
			cr := in.row(cause)
			d.Cause = &cr
		}
	}
	// Effects are found in the event's workflow, where reactions are
	// appended (AppendReaction keeps the correlation).
	for other, err := range in.store.ByCorrelation(ctx, ev.Correlation) {
		if err != nil {
			in.fail(w, r, 0, err)
			return
		}
		d.Workflow++
		if other.Causation == ev.ID {
			if len(d.Effects) == maxEffects {
				d.MoreEffects = true
				continue
			}
			d.Effects = append(d.Effects, in.row(other))
		}
	}
	in.render(w, r, http.StatusOK, "event", page{Title: "Event " + ev.ID.String(), Warning: errText(warn), Data: d})
}

func parseID(s string) (batpak.ID, error) {
	id, err := event.ParseID(s)
	if err != nil || id.IsZero() {
		return batpak.ID{}, badRequest("%q is not an event id", s)
	}
	return id, nil
}
