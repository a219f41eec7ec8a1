package supervisor

import (
	"errors"
	"fmt"
	"time"
)

// Policy decides whether a failed service is restarted. It is sealed: the
// policies are Never, Once and Bounded.
type Policy interface {
	newBudget() (*budget, error)
}

// Never returns the policy that never restarts: the first failure escalates.
func Never() Policy { return Bounded{} }

// Once returns the policy that restarts at most once over the supervisor's
// life: the second failure escalates.
func Once() Policy { return Bounded{MaxRestarts: 1} }

// Bounded restarts a failed service at most MaxRestarts times in any window
// of length Within (suture's "restart intensity"). A failure that would
// exceed the budget escalates instead, and the service stays down.
//
// Within <= 0 means the window is the supervisor's whole life, so Never() is
// Bounded{} and Once() is Bounded{MaxRestarts: 1}. Negative MaxRestarts is
// rejected by Add.
type Bounded struct {
	MaxRestarts int
	Within      time.Duration
}

func (b Bounded) newBudget() (*budget, error) {
	if b.MaxRestarts < 0 {
		return nil, fmt.Errorf("supervisor: Bounded.MaxRestarts is %d, must be >= 0", b.MaxRestarts)
	}
	return &budget{max: b.MaxRestarts, within: b.Within}, nil
}

// budget is the restart-intensity core: a plain single-threaded value, owned
// by one service's run loop and tested without goroutines.
//
// For a sliding window it keeps the times of the last max restarts in a ring;
// the oldest of them decides, so each decision is O(1) and memory is bounded
// by max however long the service runs.
type budget struct {
	max    int
	within time.Duration

	used   int         // restarts granted; consulted only when within <= 0
	stamps []time.Time // ring of the last min(granted, max) restart times
	next   int         // index of the oldest stamp once the ring is full
}

// allow reports whether one more restart at now stays within the budget, and
// if so records it. A refusal records nothing.
//
// A restart granted at t counts against the window while now-t < within, so a
// restart becomes possible again exactly when the oldest counted one is
// a full window old.
func (b *budget) allow(now time.Time) bool {
	if b.max <= 0 {
		return false
	}
	if b.within <= 0 {
		if b.used >= b.max {
			return false
		}
		b.used++
		return true
	}
	if len(b.stamps) < b.max {
		b.stamps = append(b.stamps, now)
		return true
	}
	if now.Sub(b.stamps[b.next]) < b.within {
		return false
	}
	b.stamps[b.next] = now
	b.next = (b.next + 1) % b.max
	return true
}

// verdict is what the run loop does after one run of Serve.
type verdict int

const (
	verdictStopped  verdict = iota // the supervisor is stopping: not a failure, do not restart
	verdictFinished                // Serve returned nil: the service's work is done
	verdictEnded                   // Serve returned ErrDoNotRestart: ended on purpose
	verdictRestart                 // a failure the budget allows: run Serve again
	verdictEscalate                // a failure beyond the budget: report and stay down
)

func (v verdict) String() string {
	switch v {
	case verdictStopped:
		return "stopped"
	case verdictFinished:
		return "finished"
	case verdictEnded:
		return "ended"
	case verdictRestart:
		return "restart"
	case verdictEscalate:
		return "escalate"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// decide turns the outcome of one run into a verdict. stopping means the
// service's context was cancelled by Stop; whatever Serve returned then, it
// returned because it was asked to. The budget is consulted, and charged,
// only for real failures.
func decide(err error, stopping bool, b *budget, now time.Time) verdict {
	switch {
	case stopping:
		return verdictStopped
	case err == nil:
		return verdictFinished
	case errors.Is(err, ErrDoNotRestart):
		return verdictEnded
	case b.allow(now):
		return verdictRestart
	default:
		return verdictEscalate
	}
}
