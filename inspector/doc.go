// Package inspector is batpak's read-only web inspector: an http.Handler
// that shows a store in a browser. A program mounts it beside its other
// debug handlers, such as net/http/pprof's:
//
//	in := inspector.New(store)
//	defer in.Close() // before store.Close: ends the live tails
//	http.Handle("/debug/batpak/", http.StripPrefix("/debug/batpak", in))
//	log.Fatal(http.ListenAndServe("127.0.0.1:6060", nil))
//
// and `batpak serve DIR` serves it for a store on disk, opened read-only,
// following the process that writes it.
//
// # Pages
//
//   - The overview: events, entities, scopes, segments, bytes on disk,
//     the writer's and the fsync actor's figures, what recovery found at
//     open, the last compaction, and the newest events.
//   - Entities and scopes: every name, searched by substring, a page at a
//     time; an entity's events newest first, a scope's oldest first.
//   - An event: its header, its payload decoded (MessagePack and JSON
//     shown as indented JSON, raw bytes as a hex dump), its hash and the
//     previous one, and links to its cause, its effects and its workflow.
//   - A workflow's causal graph, laid out by the server and drawn in the
//     page as SVG by a small script (no Graphviz).
//   - A live tail: the newest events, and each new one as it becomes
//     visible, streamed as Server-Sent Events.
//
// Kinds are shown by name where the store knows one, by number otherwise.
//
// # Safety
//
// The inspector never writes to the store: it answers GET and HEAD only
// (405 otherwise) and calls only the store's read methods (and Refresh,
// on a read-only store). Payloads, entities, scopes and keys are user data:
// pages are html/template templates, which escape each value for where it
// lands, and the script sets text only with textContent. Every response
// carries a Content-Security-Policy that allows no inline script and
// nothing from another origin, and the pages load nothing from elsewhere
// (the script and style sheet are embedded in the binary). Live tails are
// bounded in number (WithMaxLiveTails) and end when the client goes, when
// the inspector is closed and when the store is.
//
// The inspector has no authentication: serve it on loopback (as `batpak
// serve` does by default) or behind whatever guards the program's other
// debug handlers. Anyone who can reach it reads every payload.
package inspector
