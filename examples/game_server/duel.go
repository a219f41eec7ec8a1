package main

import (
	"context"
	"fmt"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// A duel is a workflow: a challenge, the blows it leads to, the outcome.
// Each event is appended as a reaction to the one before (its causation)
// within the challenge's workflow (its correlation), so
// `batpak graph DIR --correlation ID` draws it. Duels are their own
// entities (duel:A-B), so players' streams hold only their moves.
var (
	Challenged = event.MustCustom(0x2, 0x001) // payload Blow{By: challenger}
	Struck     = event.MustCustom(0x2, 0x002) // payload Blow
	Won        = event.MustCustom(0x2, 0x003) // payload Blow{By: winner}
)

// Blow is the payload of the duel's events.
type Blow struct {
	By     string `msgpack:"by"`
	Damage int    `msgpack:"damage,omitempty"`
}

// duel fights one duel between players a and b in room and returns its
// events' receipts, the challenge first.
func (s *server) duel(ctx context.Context, a, b, room string) ([]batpak.Receipt, error) {
	coord, err := batpak.NewCoordinate(fmt.Sprintf("duel:%s-%s", a, b), room)
	if err != nil {
		return nil, err
	}
	first, err := s.store.Append(ctx, coord, Challenged, Blow{By: playerEntity(a)})
	if err != nil {
		return nil, err
	}
	rs := []batpak.Receipt{first}
	for i, who := range []string{b, a, b} {
		r, err := s.store.AppendReaction(ctx, coord, Struck, Blow{By: playerEntity(who), Damage: 3 + i}, first.ID, rs[len(rs)-1].ID)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	r, err := s.store.AppendReaction(ctx, coord, Won, Blow{By: playerEntity(b)}, first.ID, rs[len(rs)-1].ID)
	if err != nil {
		return nil, err
	}
	return append(rs, r), nil
}
