// Package natsembed starts NATS servers with JetStream inside the current
// process, on loopback and on free ports, for tests, development and
// single-binary deployments of the batpak JetStream backend: one server
// (Start) or a cluster of several (StartCluster) whose servers can be shut
// down one by one to exercise leader changes.
//
//	srv, err := natsembed.Start(natsembed.Options{Dir: dir})
//	defer srv.Shutdown()
//	nc, err := srv.Connect()
//	defer nc.Close()
//	store, err := jetstream.Open(ctx, nc, jetstream.Options{})
//
// Shutdown stops a server and waits until its goroutines have ended.
package natsembed
