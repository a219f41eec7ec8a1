package benchkit

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/batpak-go/batpak/vfs"
)

// wantMetrics are the figures each workload must report; the workloads'
// test files add theirs.
var wantMetrics = map[string][]string{}

func TestMedianAndPercentile(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(slices.Clone(tc.in)); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	var l Latencies
	for i := 100; i >= 1; i-- {
		l = append(l, time.Duration(i)*time.Microsecond)
	}
	if p50, p99 := l.Percentile(50), l.Percentile(99); p50 != 50*time.Microsecond || p99 != 99*time.Microsecond {
		t.Errorf("p50, p99 of 1..100 µs = %v, %v; want 50µs, 99µs", p50, p99)
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{
		1_234_567.8: "1,234,568", 412_345: "412,345", 999.94: "999.9", 12.345: "12.35", 0.81234: "0.812", -4500: "-4,500",
	} {
		if got := FormatValue(v); got != want {
			t.Errorf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestCountingFSKeepsTheMappedWritePath(t *testing.T) {
	dir := t.TempDir()
	raw, err := vfs.OS.Create(filepath.Join(dir, "raw.seg"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cfs := newCountingFS()
	f, err := cfs.Create(filepath.Join(dir, "counted.seg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, rawMappable := raw.(vfs.Mappable)
	if _, mappable := f.(vfs.Mappable); mappable != rawMappable {
		t.Errorf("counted file mappable: %v; the OS file's: %v", mappable, rawMappable)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := cfs.syncs.Load(); n != 1 {
		t.Errorf("counted %d syncs, want 1", n)
	}
}

func TestExecuteRefusesMisuse(t *testing.T) {
	for _, o := range []Options{
		{Scale: 0},
		{Scale: 1, Runs: -1},
		{Scale: 1, Only: "W99"},
	} {
		err := o.Execute(context.Background(), Setup{Workloads: Embedded, Backend: "embedded"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
		assert.ErrorIs(t, err, ErrUsage, "%+v", o)
	}
	o := Options{Scale: 1}
	err := o.Execute(context.Background(), Setup{Workloads: Embedded, Backend: "embedded"}, []string{"now"}, &bytes.Buffer{}, &bytes.Buffer{})
	assert.ErrorIs(t, err, ErrUsage)
	assert.True(t, strings.Contains(err.Error(), "unexpected arguments"), err.Error())
}

// The huge page mode is the one Linux marks as chosen, and nothing when
// the file's contents mark none.
func TestHugePageMode(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]\n": "never",
		"always madvise never\n":   "",
		"[always madvise never":    "",
		"":                         "",
	} {
		assert.Equal(t, want, hugePageMode(in), "%q", in)
	}
}
