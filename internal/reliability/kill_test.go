package reliability_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
)

const killWriterEnv = "BATPAK_RELIABILITY_WRITER_DIR"

// killAck is one acknowledgement read from the child.
type killAck struct {
	global  uint64
	id      batpak.ID
	durable bool // durable when acknowledged, or covered by a later S
}

// killWriter is the child: it appends to the store in dir until killed,
// printing each acknowledgement on its own line:
//
//	D global id          a durable single append returned
//	B n global id …      a durable batch of n returned (n pairs)
//	W global id          an on-write append returned (not yet durable)
//	S                    Sync returned: every earlier W is durable
func killWriter(dir string) {
	out := bufio.NewWriter(os.Stdout)
	emit := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		if err := out.Flush(); err != nil {
			os.Exit(3) // the parent went away
		}
	}
	s, err := batpak.Open(dir, quiet, batpak.WithSegmentSize(64<<10))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(30 * time.Second) // a stray child never outlives a run
	pid := os.Getpid()
	for i := 0; time.Now().Before(deadline); i++ {
		c, _ := batpak.NewCoordinate(fmt.Sprintf("e%d", i%5), "kill")
		switch i % 7 {
		case 3:
			n := 2 + i%4
			items := make([]batpak.BatchItem, n)
			for j := range items {
				cj, _ := batpak.NewCoordinate(fmt.Sprintf("e%d", (i+j)%5), "kill")
				items[j] = batpak.BatchItem{Coord: cj, Kind: kindMarker,
					Payload: batchMark{Batch: pid*100000 + i, Item: j, Of: n, Pad: make([]byte, i%300)}}
			}
			rs, err := s.AppendBatch(bg, items)
			if err != nil {
				fmt.Fprintln(os.Stderr, "batch:", err)
				os.Exit(2)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "B %d", len(rs))
			for _, r := range rs {
				fmt.Fprintf(&b, " %d %s", r.Global, r.ID)
			}
			emit("%s", b.String())
		case 1, 5:
			tk, err := s.Submit(bg, c, kindSpoke, payload{N: i, Note: strings.Repeat("w", i%200)},
				batpak.AppendOptions{Durability: batpak.OnWrite})
			if err != nil {
				fmt.Fprintln(os.Stderr, "submit:", err)
				os.Exit(2)
			}
			r, err := tk.Wait(bg)
			if err != nil {
				fmt.Fprintln(os.Stderr, "wait:", err)
				os.Exit(2)
			}
			emit("W %d %s", r.Global, r.ID)
			if i%3 == 2 {
				if err := s.Sync(bg); err != nil {
					fmt.Fprintln(os.Stderr, "sync:", err)
					os.Exit(2)
				}
				emit("S")
			}
		default:
			r, err := s.Append(bg, c, kindMoved, payload{N: i, Note: strings.Repeat("d", i%500)})
			if err != nil {
				fmt.Fprintln(os.Stderr, "append:", err)
				os.Exit(2)
			}
			emit("D %d %s", r.Global, r.ID)
		}
	}
	_ = s.Close()
	os.Exit(0)
}

// TestReliabilityKill9Loop re-executes the test binary as a writer, kills
// it with SIGKILL after a seeded random number of acknowledgements, reopens
// the store and checks: every durable acknowledgement is recovered as
// acknowledged, no batch is partly visible, the log is consistent, and the
// next append's global sequence is above every one ever acknowledged (C4,
// on-write acknowledgements included), then repeats on the same store.
func TestReliabilityKill9Loop(t *testing.T) {
	if dir := os.Getenv(killWriterEnv); dir != "" {
		killWriter(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	cycles := 5
	if reliabilityLong() {
		cycles = 40
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(2026, 11))
	var acks []killAck // every acknowledgement of every cycle
	violations, lostOnWrite, recoveredEvents, earlyKills := 0, 0, 0, 0
	kinds := map[string]int{}
	violate := func(kind, format string, args ...any) {
		t.Helper()
		violations++
		kinds[kind]++
		if violations <= 5 {
			t.Errorf("%s: "+format, append([]any{kind}, args...)...)
		}
	}
	for cycle := range cycles {
		target := 1 + rng.IntN(120) // acknowledgements to read before the kill
		cmd := exec.Command(os.Args[0], "-test.run=^TestReliabilityKill9Loop$", "-test.count=1")
		cmd.Env = append(os.Environ(), killWriterEnv+"="+dir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		var pendingW []int // indexes into acks of W not yet covered by S
		read, killed := 0, false
		parse := func(line string) {
			f := strings.Fields(line)
			if len(f) == 0 {
				return
			}
			add := func(g, id string, durable bool) int {
				n, err := strconv.ParseUint(g, 10, 64)
				if err != nil {
					return -1 // test framework output, not an acknowledgement
				}
				pid, err := event.ParseID(id)
				if err != nil {
					t.Fatalf("cycle %d: bad id in %q: %v", cycle, line, err)
				}
				acks = append(acks, killAck{global: n, id: pid, durable: durable})
				return len(acks) - 1
			}
			switch f[0] {
			case "D":
				if len(f) == 3 && add(f[1], f[2], true) >= 0 {
					read++
				}
			case "W":
				if len(f) == 3 {
					if i := add(f[1], f[2], false); i >= 0 {
						pendingW = append(pendingW, i)
						read++
					}
				}
			case "S":
				for _, i := range pendingW {
					acks[i].durable = true
				}
				pendingW = pendingW[:0]
			case "B":
				for j := 2; j+1 < len(f); j += 2 {
					add(f[j], f[j+1], true)
				}
				read++
			}
		}
		// Every fourth cycle kills early, after a seeded 0–30 ms, most often
		// while the writer is still opening (recovering) the store.
		var early *time.Timer
		var earlyKilled atomic.Bool
		if cycle%4 == 3 {
			earlyKills++
			early = time.AfterFunc(time.Duration(rng.IntN(30))*time.Millisecond, func() {
				earlyKilled.Store(true)
				_ = cmd.Process.Kill()
			})
		}
		for sc.Scan() {
			parse(sc.Text())
			if !killed && early == nil && read >= target {
				// SIGKILL: no deferred code, no Close, no checkpoint.
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		werr := cmd.Wait()
		if early != nil {
			early.Stop()
			killed = earlyKilled.Load()
		}
		if !killed {
			t.Fatalf("cycle %d: the writer exited after %d acknowledgements before being killed: %v\n%s", cycle, read, werr, stderr.String())
		}
		lostOnWrite += len(pendingW)

		// Reopen what the kill left behind.
		s, err := tryOpen(dir, batpak.WithSegmentSize(64<<10))
		if err != nil {
			t.Fatalf("cycle %d: reopening after kill -9: %v", cycle, err)
		}
		evs := all(t, s)
		recoveredEvents = len(evs)
		byID := map[batpak.ID]*batpak.StoredEvent{}
		byGlobal := map[uint64]*batpak.StoredEvent{}
		for _, ev := range evs {
			byID[ev.ID] = ev
			byGlobal[ev.Global] = ev
		}
		var maxAcked uint64
		for _, a := range acks {
			maxAcked = max(maxAcked, a.global)
			ev, ok := byID[a.id]
			if a.durable && !ok {
				violate("acknowledged but lost", "cycle %d: global %d", cycle, a.global)
				continue
			}
			if ok && ev.Global != a.global {
				violate("recovered with another global", "cycle %d: id %v acked as %d, recovered as %d", cycle, a.id, a.global, ev.Global)
			}
			if other, ok := byGlobal[a.global]; ok && other.ID != a.id {
				violate("sequence reuse", "cycle %d: global %d acked for %v now holds %v", cycle, a.global, a.id, other.ID)
			}
		}
		if _, err := batchCounts(evs); err != nil {
			violate("partial batch visible", "cycle %d: %v", cycle, err)
		}
		checkLog(t, s, evs, true)
		// C4: the next global is above everything ever acknowledged.
		r, err := s.Append(bg, coord(t, "e0", "kill"), kindMoved, payload{N: -cycle})
		if err != nil {
			t.Fatalf("cycle %d: append after recovery: %v", cycle, err)
		}
		if r.Global <= maxAcked {
			violate("sequence reuse", "cycle %d: global %d after recovery, %d was acknowledged", cycle, r.Global, maxAcked)
		}
		acks = append(acks, killAck{global: r.Global, id: r.ID, durable: true})
		if rec := s.Stats().Recovery; cycle < 3 || rec.Torn {
			t.Logf("cycle %d: killed after %d acknowledgements; recovered %d events; torn=%v %s", cycle, read, len(evs), rec.Torn, rec.TornReason)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("cycle %d: Close: %v", cycle, err)
		}
	}
	durable := 0
	for _, a := range acks {
		if a.durable {
			durable++
		}
	}
	figure(t, "kill -9 cycles %d (%d of them killed 0–30 ms after start); acknowledgements %d (%d durable, %d on-write not yet synced when killed); events in the final store %d; violations %d %v",
		cycles, earlyKills, len(acks), durable, lostOnWrite, recoveredEvents, violations, kinds)
}
