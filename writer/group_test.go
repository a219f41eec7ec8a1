package writer

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/batpak-go/batpak/index"
)

// The fsync actor's decisions, without goroutines.

func TestGroupCommitWaitsForAGroupAsLargeAsTheLast(t *testing.T) {
	for _, tc := range []struct {
		name          string
		last, callers int
		complete      bool
	}{
		{"a lone sequential caller never waits", 1, 1, true},
		{"first group", 0, 3, true},
		{"the last group is back", 8, 8, true},
		{"a larger group", 8, 9, true},
		{"part of the last group is still on its way", 8, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := groupCommit{last: tc.last}
			assert.Equal(t, tc.complete, g.complete(tc.callers))
		})
	}
	var g groupCommit
	g.synced(8)
	assert.False(t, g.complete(7))
	g.synced(7) // the wait ran out with 7: a shrinking group costs one wait
	assert.True(t, g.complete(7))
}

func TestFsyncDecisionsOnTheFlushesInHand(t *testing.T) {
	a, b := &activeSegment{id: 1}, &activeSegment{id: 2}
	reqs := func(n int) []*Request { return make([]*Request, n) }
	onWrite1 := &flush{seg: a, reqs: reqs(3)}
	durable1 := &flush{seg: a, reqs: reqs(2), durable: true}
	idle := &flush{} // waitIdle's barrier: no segment, not durable
	durable2 := &flush{seg: b, reqs: reqs(4), durable: true}
	for _, tc := range []struct {
		name    string
		batch   []*flush
		sync    bool
		callers int
		targets []*activeSegment
	}{
		{"on-write work only", []*flush{onWrite1}, false, 0, []*activeSegment{a}},
		{"durable work", []*flush{onWrite1, durable1}, true, 2, []*activeSegment{a}},
		{"across a rotation, each file once", []*flush{onWrite1, durable1, idle, durable2}, true, 6, []*activeSegment{a, b}},
		{"a barrier alone", []*flush{idle}, false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.sync, needsSync(tc.batch))
			assert.Equal(t, tc.callers, durableCallers(tc.batch))
			assert.Equal(t, tc.targets, syncTargets(nil, tc.batch))
		})
	}
}

func TestAlreadyPublishedSkipsWhatACrashLeftPublished(t *testing.T) {
	pend := []index.Pending{{Global: 4}, {Global: 5}, {Global: 6}}
	for _, tc := range []struct {
		last uint64
		want int
	}{{3, 0}, {4, 1}, {6, 3}, {9, 3}} {
		assert.Equal(t, tc.want, alreadyPublished(pend, tc.last), "index at %d", tc.last)
	}
	assert.Zero(t, alreadyPublished(nil, 9))
}
