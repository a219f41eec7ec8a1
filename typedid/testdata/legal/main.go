// This program must compile: the control for testdata/mixed.
package main

import "github.com/batpak-go/batpak/typedid"

type player struct{}

func (player) Prefix() string { return "player" }

type room struct{}

func (room) Prefix() string { return "room" }

func kick(typedid.ID[player]) {}

func main() {
	p, r := typedid.New[player](), typedid.New[room]()
	kick(p)
	_ = r
}
