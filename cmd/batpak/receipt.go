package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/receipt"
)

// verifyReceiptFlags declares verify-receipt: check signed receipts (the
// JSON form of package receipt, one per line, or one document) with a
// store's public key, offline.
func verifyReceiptFlags(fs *flag.FlagSet) action {
	key := fs.String("key", "", "the store's Ed25519 public `key`: 64 hex digits or base64")
	keyFile := fs.String("key-file", "", "read the public key from `FILE`: hex, base64 or a PEM \"PUBLIC KEY\" block")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) > 1 {
			return usagef("expected at most one FILE (or - for standard input), got %q", args)
		}
		pub, err := publicKey(*key, *keyFile)
		if err != nil {
			return err
		}
		in := io.Reader(os.Stdin)
		if len(args) == 1 && args[0] != "-" {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		return verifyReceipts(in, pub, stdout)
	}
}

// publicKey reads the key from --key or --key-file (exactly one).
func publicKey(key, file string) (ed25519.PublicKey, error) {
	switch {
	case (key == "") == (file == ""):
		return nil, usagef("give the store's public key with --key or --key-file (one of them)")
	case key != "":
		pub, err := receipt.ParsePublicKey(key)
		if err != nil {
			return nil, usageError{err}
		}
		return pub, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(b); block != nil {
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s: a %T, not an Ed25519 public key", file, k)
		}
		return pub, nil
	}
	pub, err := receipt.ParsePublicKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return pub, nil
}

// errReceiptsFailed is the command's error when a receipt does not verify
// (exit 1); each is reported on stdout.
var errReceiptsFailed = errors.New("receipts that do not verify")

// verifyReceipts checks every receipt of in — a JSON document, or JSON
// lines — and prints one line each: "ok" or "FAILED" and why.
func verifyReceipts(in io.Reader, pub ed25519.PublicKey, stdout io.Writer) error {
	data, err := io.ReadAll(io.LimitReader(in, 1<<30))
	if err != nil {
		return err
	}
	var docs [][]byte
	if d := bytes.TrimSpace(data); json.Valid(d) {
		docs = [][]byte{d}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				docs = append(docs, bytes.Clone(line))
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	if len(docs) == 0 {
		return usagef("no receipt in the input")
	}
	failed := 0
	for i, d := range docs {
		var s receipt.Signed
		err := s.UnmarshalJSON(d)
		if err == nil {
			err = s.Verify(pub)
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAILED receipt %d: %v\n", i+1, err)
			continue
		}
		fmt.Fprintf(stdout, "ok %s global %d %s sequence %d (store %s)\n",
			event.ID(s.ID), s.Global, s.Entity, s.Sequence, event.ID(s.Store))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d %w", failed, len(docs), errReceiptsFailed)
	}
	return nil
}
