package subscriber

import (
	"sync"
	"testing"
	"time"

	"github.com/batpak-go/batpak/event"
)

// BenchmarkFanout16 measures the fan-out actor alone, without a writer:
// publications of 1024 notifications (the writer's largest drain) offered
// to 16 subscriptions to every event, each drained with Recv by its own
// goroutine. One op is one event delivered to all 16; events/s/sub is the
// rate each subscriber receives at.
func BenchmarkFanout16(b *testing.B) {
	const subs, batch = 16, 1024
	th := newTestHub(b, DefaultMailbox)
	ls := make([]*Lossy, subs)
	for k := range ls {
		ls[k], _ = th.SubscribeLossy(event.AllEvents(), max(b.N, 1))
	}
	// Publications are built before the clock starts: this is the fan-out's
	// cost, not the index's.
	var pubs [][]event.Notification
	for left := b.N; left > 0; left -= batch {
		pubs = append(pubs, th.log.commit(min(batch, left), "p:1", "room:1", kindA))
	}
	th.run(b)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for k := range ls {
		wg.Go(func() {
			<-start
			for range b.N {
				if _, err := ls[k].Recv(bg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ResetTimer()
	t0 := time.Now()
	close(start)
	for _, p := range pubs {
		th.Publish(p)
	}
	wg.Wait()
	el := time.Since(t0)
	b.StopTimer()
	var lost uint64
	for _, l := range ls {
		lost += l.Dropped()
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s/sub")
	b.ReportMetric(float64(lost), "lost")
}
