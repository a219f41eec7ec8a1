// This program must not compile: it reaches into a zero receipt to make it
// hold a state of the caller's choosing.
package main

import "github.com/batpak-go/batpak/gatekeeper"

func main() {
	var r gatekeeper.Receipt[int]
	r.s = nil
	_ = r
}
