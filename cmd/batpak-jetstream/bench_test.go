package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/batpak-go/batpak/natsembed"
)

// The benchmarks measure what moving costs, the figures of
// docs/SCALE-OUT.md ("Moving a store into a cluster"): copy, snapshot and
// verify over a store of 20,000 events (5,000 rounds of an event alone, an
// atomic batch of two and a reaction), against one in-process server and a
// three-server in-process cluster with three replicas. Each reports
// events/s; the servers run in the benchmark's process, so their CPU is
// counted too.
//
//	go test -run X -bench . -benchtime 1x -count 3 ./cmd/batpak-jetstream/

const benchRounds = 5000

// benchURL starts one server, or a cluster of three when replicas is 3,
// and returns its URLs.
func benchURL(b *testing.B, replicas int) string {
	if replicas == 1 {
		srv, err := natsembed.Start(natsembed.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(srv.Shutdown)
		return srv.URL()
	}
	c, err := natsembed.StartCluster(natsembed.Options{Dir: b.TempDir()}, replicas)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	return c.URLs()
}

func benchCmd(b *testing.B, args ...string) {
	code, out, errOut := runCmdB(args...)
	if code != exitOK {
		b.Fatalf("batpak-jetstream %v: exit %d\n%s%s", args, code, out, errOut)
	}
}

func runCmdB(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func eachReplicas(b *testing.B, fn func(b *testing.B, replicas int)) {
	for _, r := range []int{1, 3} {
		b.Run("replicas="+strconv.Itoa(r), func(b *testing.B) { fn(b, r) })
	}
}

// BenchmarkCopy copies the store into a new stream per iteration, each
// source unit as it is (group=1) and up to 1,000 events per atomic batch
// (group=1000).
func BenchmarkCopy(b *testing.B) {
	eachReplicas(b, func(b *testing.B, replicas int) {
		for _, group := range []string{"1", "1000"} {
			b.Run("group="+group, func(b *testing.B) {
				url := benchURL(b, replicas)
				dir := filepath.Join(b.TempDir(), "store")
				n := len(fill(b, dir, benchRounds))
				i := 0
				for b.Loop() {
					i++
					benchCmd(b, "copy", "--quiet", "--group", group, "--replicas", strconv.Itoa(replicas),
						"--stream", fmt.Sprintf("COPY%d", i), "--subject", fmt.Sprintf("c%d", i), dir, url)
				}
				b.ReportMetric(float64(n*i)/b.Elapsed().Seconds(), "events/s")
			})
		}
	})
}

// copiedStream copies a store of benchRounds rounds into a fresh stream
// on a server of replicas replicas, and returns the server's URL and the
// number of events copied.
func copiedStream(b *testing.B, replicas int) (string, int) {
	url := benchURL(b, replicas)
	dir := filepath.Join(b.TempDir(), "store")
	n := len(fill(b, dir, benchRounds))
	benchCmd(b, "copy", "--quiet", "--replicas", strconv.Itoa(replicas), dir, url)
	return url, n
}

// BenchmarkSnapshot backs a copied stream up into a new directory per
// iteration.
func BenchmarkSnapshot(b *testing.B) {
	eachReplicas(b, func(b *testing.B, replicas int) {
		url, n := copiedStream(b, replicas)
		i := 0
		for b.Loop() {
			i++
			benchCmd(b, "snapshot", url, filepath.Join(b.TempDir(), "backup"))
		}
		b.ReportMetric(float64(n*i)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkVerify checks every event of a copied stream.
func BenchmarkVerify(b *testing.B) {
	eachReplicas(b, func(b *testing.B, replicas int) {
		url, n := copiedStream(b, replicas)
		i := 0
		for b.Loop() {
			i++
			benchCmd(b, "verify", url)
		}
		b.ReportMetric(float64(n*i)/b.Elapsed().Seconds(), "events/s")
	})
}
