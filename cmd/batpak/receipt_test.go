package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/keyring"
)

// TestVerifyReceiptCommand signs receipts with a real store, writes them
// as JSON lines, and checks them with the command, the key given in hex,
// as a PEM file and as a file of hex; a tampered line fails (exit 1) and
// says which; a wrong key fails every line; a missing key is a usage
// error.
func TestVerifyReceiptCommand(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	s, err := batpak.Open(t.TempDir(), batpak.WithReceiptSigner(priv))
	require.NoError(t, err)
	defer s.Close()
	var lines []string
	for i := range 3 {
		r, err := s.Append(context.Background(), event.MustCoordinate("user:alice", "eu"), kindEven, i)
		require.NoError(t, err)
		b, err := json.Marshal(r.Signed())
		require.NoError(t, err)
		lines = append(lines, string(b))
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	require.NoError(t, os.WriteFile(good, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	one := filepath.Join(dir, "one.json")
	require.NoError(t, os.WriteFile(one, []byte(lines[0]), 0o600))
	keyHex := hex.EncodeToString(pub)
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pemFile := filepath.Join(dir, "store.pub.pem")
	require.NoError(t, os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	hexFile := filepath.Join(dir, "store.pub")
	require.NoError(t, os.WriteFile(hexFile, []byte(keyHex+"\n"), 0o600))

	for _, args := range [][]string{
		{"verify-receipt", "--key", keyHex, good},
		{"verify-receipt", "--key-file", pemFile, good},
		{"verify-receipt", good, "--key-file", hexFile},
	} {
		code, out, errOut := runCLI(t, args...)
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, 3, strings.Count(out, "ok "), out)
		assert.Contains(t, out, "user:alice sequence 2")
		assert.Contains(t, out, s.ID().String())
	}
	code, out, _ := runCLI(t, "verify-receipt", "--key", keyHex, one)
	assert.Equal(t, exitOK, code)
	assert.Equal(t, 1, strings.Count(out, "ok "))

	tampered := strings.Replace(lines[1], `"sequence":1`, `"sequence":7`, 1)
	require.NotEqual(t, lines[1], tampered)
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(lines[0]+"\n"+tampered+"\n"+lines[2]+"\n"), 0o600))
	code, out, errOut := runCLI(t, "verify-receipt", "--key", keyHex, bad)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, out, "FAILED receipt 2: batpak: receipt signature does not verify")
	assert.Equal(t, 2, strings.Count(out, "ok "))
	assert.Contains(t, errOut, "1 of 3 receipts that do not verify")

	other, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	code, out, _ = runCLI(t, "verify-receipt", "--key", hex.EncodeToString(other), good)
	assert.Equal(t, exitFailure, code)
	assert.Equal(t, 3, strings.Count(out, "FAILED"))

	code, _, _ = runCLI(t, "verify-receipt", good)
	assert.Equal(t, exitUsage, code, "no key")
	code, _, _ = runCLI(t, "verify-receipt", "--key", "abc", good)
	assert.Equal(t, exitUsage, code, "a malformed key")
}

// TestDumpEncryptedStore: the command opens stores without their key;
// dump says which payloads are sealed and which shredded.
func TestDumpEncryptedStore(t *testing.T) {
	dir := t.TempDir()
	s, err := batpak.Open(dir, batpak.WithEncryption(keyring.MasterKey([32]byte{4})))
	require.NoError(t, err)
	ctx := context.Background()
	for _, who := range []string{"user:alice", "user:bob"} {
		_, err := s.Append(ctx, event.MustCoordinate(who, "eu"), kindEven, map[string]string{"name": who})
		require.NoError(t, err)
	}
	require.NoError(t, s.Shred(ctx, "user:alice"))
	require.NoError(t, s.Close())
	code, out, errOut := runCLI(t, "dump", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "user:alice@eu seq=0")
	assert.Contains(t, out, "payload shredded")
	assert.Contains(t, out, "msgpack payload sealed (encrypted)")
	assert.NotContains(t, out, "name")
	code, out, _ = runCLI(t, "dump", "--json", dir)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `"payload_error":"batpak: payload shredded: its key was destroyed"`)
	code, out, _ = runCLI(t, "verify", dir)
	assert.Equal(t, exitOK, code, out)
}
