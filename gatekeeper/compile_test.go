package gatekeeper_test

import (
	"testing"

	"github.com/batpak-go/batpak/internal/compilefail"
)

func TestForgingAReceiptDoesNotCompile(t *testing.T) {
	compilefail.Run(t, "legal", []compilefail.Case{
		{Name: "forge_literal", Want: "cannot refer to unexported field s in struct literal of type gatekeeper.Receipt[int]"},
		{Name: "forge_field", Want: "r.s undefined (cannot refer to unexported field s)"},
		{Name: "convert", Want: "to type gatekeeper.Receipt[int]"},
	})
}
