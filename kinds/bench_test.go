package kinds_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

// BenchmarkAppend compares an untyped append with a typed one (the same
// value, through AppendTyped) on the embedded store, acknowledged on write
// so that no fsync hides the difference.
func BenchmarkAppend(b *testing.B) {
	for _, typed := range []bool{false, true} {
		name := "untyped"
		if typed {
			name = "typed"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, err := batpak.Open(b.TempDir(), batpak.WithDurability(batpak.OnWrite),
				batpak.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			c := event.MustCoordinate("player:1", "room:1")
			v := Moved{To: "crypt", Dist: 7, Speed: "run"}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if typed {
					_, err = batpak.AppendTyped(ctx, s, moved, c, v)
				} else {
					_, err = s.Append(ctx, c, moved.Kind(), v)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode compares a plain decode of a payload with a typed read
// of the current version and with upcasts of one and two steps.
func BenchmarkDecode(b *testing.B) {
	enc := func(version uint32, v any) *event.StoredEvent {
		p, codec, err := event.Encode(event.CodecMsgPack, v)
		if err != nil {
			b.Fatal(err)
		}
		return &event.StoredEvent{Header: event.Header{Kind: moved.Kind()}, Codec: codec, PayloadVersion: version, Payload: p}
	}
	current := enc(3, Moved{To: "crypt", Dist: 7, Speed: "run"})
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := batpak.Decode[Moved](current); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		ev   *event.StoredEvent
	}{
		{"current", current},
		{"upcast-1-step", enc(2, MovedV2{X: 3, Y: 4, Speed: "run"})},
		{"upcast-2-steps", enc(1, MovedV1{X: 3, Y: 4})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := moved.Decode(tc.ev); err != nil {
					b.Fatal(fmt.Errorf("%s: %w", tc.name, err))
				}
			}
		})
	}
}
