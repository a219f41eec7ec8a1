// This program must not compile: it forges a receipt by filling in the
// receipt's unexported state from outside the gatekeeper package.
package main

import "github.com/batpak-go/batpak/gatekeeper"

func main() {
	_ = gatekeeper.Receipt[int]{s: nil}
}
