package batpak

// Entities returns the name of every entity that has an event, sorted.
// It copies and sorts every name (the index keeps them in order of first
// appearance): for tools and browsers such as the inspector, not for hot
// paths. A name compaction emptied is left out.
func (s *Store) Entities() []string { return s.idx.Entities() }

// Scopes returns the name of every scope that has an event, sorted, as
// Entities does for entities.
func (s *Store) Scopes() []string { return s.idx.Scopes() }
