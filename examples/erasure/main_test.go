package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestErasureRuns runs the example small and checks what it says: alice's
// events stay, shredded; the projection skips them; Verify passes before
// and after the compaction that drops the ciphertext.
func TestErasureRuns(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), t.TempDir(), 600, &out))
	s := out.String()
	t.Log(s)
	assert.Contains(t, s, "customers [Alice Liddell Bob Marley Carol Danvers]")
	assert.Contains(t, s, "files: no plaintext")
	assert.Contains(t, s, "alice's registration: customer:alice@shop at sequence 0")
	assert.Contains(t, s, "payload shredded")
	assert.Contains(t, s, "after: 600 orders")
	assert.Contains(t, s, "customers [Bob Marley Carol Danvers], 201 events erased")
	assert.Contains(t, s, "verify: ok=true")
	assert.Regexp(t, `compact: [1-9][0-9]* shredded payloads dropped; verify ok=true`, s)
}
