package natsembed

// FreePorts lets the tests' fault clusters pick their ports as StartCluster does.
var FreePorts = freePorts
