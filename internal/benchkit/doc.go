// Package benchkit is the benchmark harness shared by the bench commands:
// batpak bench (the embedded store) and batpak-bench-jetstream (the
// JetStream backend, a module of its own so that the batpak command links
// no NATS server). It holds the canonical workloads of BENCH.md (Embedded),
// the workloads written against the facade batpak.EventStore that any
// backend runs (FacadeAppends, FacadeParallel, …), the runner that takes
// medians over runs, the shared flags (Options), and the reports: a table,
// JSON lines, a PNG chart.
//
// It is internal to the repository's modules: it imports nothing beyond
// the core module and the standard library.
package benchkit
