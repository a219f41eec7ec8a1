// This program must not compile: it forges a receipt by converting a
// look-alike struct. No struct outside the package can match Receipt's shape,
// because its one field points to an unexported type.
package main

import "github.com/batpak-go/batpak/gatekeeper"

type lookalike[T any] struct {
	s *struct{ payload T }
}

func main() {
	_ = gatekeeper.Receipt[int](lookalike[int]{})
}
