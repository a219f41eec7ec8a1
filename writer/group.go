package writer

import "github.com/batpak-go/batpak/index"

// The fsync actor's decisions, as plain functions of the flushes in hand
// (tested without goroutines in group_test.go).

// groupCommit decides when a durable group is complete (adaptive group
// commit). Callers released by one fsync come back within microseconds,
// while an fsync takes hundreds: syncing as soon as the first of them is
// back would split them over two fsyncs. So a group is complete once as
// many callers wait as the last fsync released; until then the actor waits
// for more, at most GroupCommitWait. A lone sequential caller never waits
// (its group of one is complete), and a shrinking group costs one wait.
type groupCommit struct {
	last int // callers in the last group synced
}

// complete reports whether callers waiting make a whole group.
func (g *groupCommit) complete(callers int) bool { return callers >= g.last }

// synced records the size of the group an fsync is about to release.
func (g *groupCommit) synced(callers int) { g.last = callers }

// needsSync reports whether any flush of the batch waits for an fsync.
func needsSync(batch []*flush) bool {
	for _, fl := range batch {
		if fl.durable {
			return true
		}
	}
	return false
}

// batchEvents counts the events of the batch's flushes: those an fsync of
// their files makes durable (on-write flushes handed over included).
func batchEvents(batch []*flush) int {
	n := 0
	for _, fl := range batch {
		n += len(fl.pend)
	}
	return n
}

// durableCallers counts the requests of the batch's durable flushes.
func durableCallers(batch []*flush) int {
	n := 0
	for _, fl := range batch {
		if fl.durable {
			n += len(fl.reqs)
		}
	}
	return n
}

// syncTargets appends to dst each distinct segment of the batch once, in
// order (flushes of one segment are adjacent: the writer only moves on).
func syncTargets(dst []*activeSegment, batch []*flush) []*activeSegment {
	for _, fl := range batch {
		if fl.seg != nil && (len(dst) == 0 || dst[len(dst)-1] != fl.seg) {
			dst = append(dst, fl.seg)
		}
	}
	return dst
}

// alreadyPublished returns how many leading entries of pend the index
// already holds (a flush whose publication a crash interrupted).
func alreadyPublished(pend []index.Pending, lastGlobal uint64) int {
	n := 0
	for n < len(pend) && pend[n].Global <= lastGlobal {
		n++
	}
	return n
}
