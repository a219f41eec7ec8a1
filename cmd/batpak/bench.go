package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"io"
	"path/filepath"
	"strings"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/internal/benchkit"
	"github.com/batpak-go/batpak/keyring"
)

// jetstreamBenchHint answers --backend jetstream: that benchmark links a
// NATS server, so it is a command of its own.
const jetstreamBenchHint = "--backend jetstream moved to its own command, so that batpak links no NATS server: " +
	"go install github.com/batpak-go/batpak/cmd/batpak-bench-jetstream@latest (same flags, plus --replicas and --sync-always)"

func benchFlags(fs *flag.FlagSet) action {
	var o benchkit.Options
	o.Register(fs, true)
	backend := fs.String("backend", "embedded", "the `backend` to measure: embedded (the only one here; for JetStream see batpak-bench-jetstream)")
	compare := fs.Bool("compare", false, "run nothing: print the figures of two runs saved with --json side by side, with ratios (bench --compare A.jsonl B.jsonl)")
	syncData := fs.Bool("sync-data", false, "sync segments with fdatasync where the platform has it (batpak.WithSyncMode(batpak.SyncData)); W0 then measures fdatasync")
	encrypt := fs.Bool("encrypt", false, "open every store with batpak.WithEncryption (a random master key), to price payload encryption (all workloads but W4)")
	sign := fs.Bool("sign", false, "open every store with batpak.WithReceiptSigner (a random Ed25519 key), to price signed receipts (all workloads but W4)")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		switch *backend {
		case "embedded":
		case "jetstream":
			return usagef("%s", jetstreamBenchHint)
		default:
			return usagef("--backend %q: embedded (JetStream: batpak-bench-jetstream)", *backend)
		}
		if *compare {
			return compareFiles(args, stdout)
		}
		if ext := strings.ToLower(filepath.Ext(o.Plot)); o.Plot != "" && ext != ".svg" && ext != ".png" {
			return usagef("--plot %s: want a .svg or .png file", o.Plot)
		}
		setup := benchkit.Setup{
			Workloads: benchkit.Embedded, Backend: "embedded",
			Env: benchkit.Env{SyncData: *syncData}, Plot: writePlot,
		}
		if *syncData {
			setup.Backend += ", sync-data (fdatasync)"
		}
		if *encrypt {
			var master [32]byte
			if _, err := rand.Read(master[:]); err != nil {
				return err
			}
			setup.Env.Options = append(setup.Env.Options, batpak.WithEncryption(keyring.MasterKey(master)))
			setup.Backend += ", encrypted payloads"
		}
		if *sign {
			_, key, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			setup.Env.Options = append(setup.Env.Options, batpak.WithReceiptSigner(key))
			setup.Backend += ", signed receipts"
		}
		return o.Execute(ctx, setup, args, stdout, stderr)
	}
}

// compareFiles prints two runs saved with --json side by side.
func compareFiles(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return usagef("--compare wants two files of bench --json output, A and B; got %d arguments", len(args))
	}
	a, err := benchkit.ReadFigures(args[0])
	if err != nil {
		return err
	}
	b, err := benchkit.ReadFigures(args[1])
	if err != nil {
		return err
	}
	return benchkit.CompareRuns(stdout, args[0], args[1], a, b)
}
