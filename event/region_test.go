package event

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegionScopePrefixesAndSets(t *testing.T) {
	k := MustCustom(1, 1)
	at := func(scope string) Coordinate { return MustCoordinate("player:1", scope) }
	tests := []struct {
		name string
		r    Region
		in   []string
		out  []string
	}{
		{"prefix via star", ForScope("zone:1/*"), []string{"zone:1/0,0", "zone:1/"}, []string{"zone:10/0,0", "zone:1", "zone:2/0,0"}},
		{"prefix method", AllEvents().WithScopePrefix("zone:1/"), []string{"zone:1/5,5"}, []string{"zone:2/5,5"}},
		{"set", ForScopes("zone:1/0,0", "zone:1/0,1"), []string{"zone:1/0,0", "zone:1/0,1"}, []string{"zone:1/1,0", "zone:1/0,"}},
		{"set with a prefix", ForScopes("a", "zone:2/*"), []string{"a", "zone:2/x"}, []string{"ab", "zone:3/x"}},
		{"star alone", ForScopes("x", "*"), []string{"x", "anything"}, nil},
		{"empty set", ForScopes(), nil, []string{"x"}},
		{"only empty terms", ForScopes("", ""), nil, []string{"x"}},
		{"literal star scope", Region{Scope: "a*"}, []string{"a*"}, []string{"ab"}},
	}
	for _, tc := range tests {
		for _, s := range tc.in {
			assert.True(t, tc.r.Matches(at(s), k, 0), "%s: %q should match", tc.name, s)
			assert.True(t, tc.r.MatchesScope(s), "%s: %q should match", tc.name, s)
		}
		for _, s := range tc.out {
			assert.False(t, tc.r.Matches(at(s), k, 0), "%s: %q should not match", tc.name, s)
		}
	}
}

func TestRegionScopesNormalises(t *testing.T) {
	names, prefixes, all := ForScopes("b", "a", "b", "zone:1/x", "zone:1/*", "zone:*", "c*", "").Scopes()
	assert.Equal(t, []string{"a", "b"}, names, "duplicates and names a prefix covers go")
	assert.Equal(t, []string{"c", "zone:"}, prefixes, "a prefix a shorter one covers goes")
	assert.False(t, all)

	// One term makes the same region as ForScope.
	assert.Equal(t, ForScope("room:1"), ForScopes("room:1", "room:1"))
	assert.Equal(t, ForScope("zone:1/*"), ForScopes("zone:1/*"))
	assert.Equal(t, AllEvents(), ForScopes("*", "a"))
	assert.Equal(t, AllEvents(), ForScope("*"))

	_, _, all = AllEvents().Scopes()
	assert.True(t, all)
	names, prefixes, _ = ForScope("room:1").Scopes()
	assert.Equal(t, []string{"room:1"}, names)
	assert.Empty(t, prefixes)
	names, prefixes, _ = ForScope("zone:1/*").Scopes()
	assert.Empty(t, names)
	assert.Equal(t, []string{"zone:1/"}, prefixes)
}

func TestRegionScopeRuleIsReplacedNotCombined(t *testing.T) {
	r := ForScopes("a", "b").WithScope("c")
	assert.True(t, r.MatchesScope("c"))
	assert.False(t, r.MatchesScope("a"))
	r = ForScope("zone:*").WithScopes("a", "b")
	assert.True(t, r.MatchesScope("b"))
	assert.False(t, r.MatchesScope("zone:1"))
	assert.Empty(t, r.Scope)
	require.False(t, r.ScopePrefix)
}

func TestRegionMatchesAll(t *testing.T) {
	assert.True(t, AllEvents().MatchesAll())
	assert.True(t, ForScopes("*").MatchesAll())
	for _, r := range []Region{ForScope("a"), ForScope("a*"), ForScopes("a", "b"), ForScopes(), ForEntity("e"), AllEvents().WithKind(1), AllEvents().WithSequence(1, 0)} {
		assert.False(t, r.MatchesAll(), "%+v", r)
	}
}

func BenchmarkRegionMatchesScopeSet(b *testing.B) {
	var scopes []string
	for x := range 3 {
		for y := range 3 {
			scopes = append(scopes, "zone:1/"+string(rune('0'+x))+","+string(rune('0'+y)))
		}
	}
	r := ForScopes(scopes...)
	c := MustCoordinate("player:1", "zone:1/2,2")
	for b.Loop() {
		if !r.Matches(c, 1, 0) {
			b.Fatal("no match")
		}
	}
}
