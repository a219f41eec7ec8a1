package reader

// SetPipelineMin sets the size from which recovery decodes on a second
// goroutine, and returns a function restoring it.
func SetPipelineMin(n int64) func() {
	old := pipelineMin
	pipelineMin = n
	return func() { pipelineMin = old }
}
