package index

// chunkBits sets the chunk size: 4096 elements.
const chunkBits = 12

const chunkLen = 1 << chunkBits

// chunked is an append-only list. Up to one chunk it is a plain slice;
// beyond, it is a list of full-length chunks written by index. Growing a
// large list never copies or moves what it holds — a contiguous slice
// copies everything at each growth and, for a large index, faults fresh
// pages in for every copy, which dominated publishing — and a view taken
// earlier stays valid while the list grows: a published chunk's slice
// header never changes, and the writer only writes elements past the
// length of every view.
type chunked[T any] struct {
	small  []T   // the list while it holds at most chunkLen elements
	chunks [][]T // afterwards: chunks of exactly chunkLen elements
	n      int
}

func (c *chunked[T]) push(v T) {
	if c.chunks == nil {
		if len(c.small) < chunkLen {
			if len(c.small) == cap(c.small) {
				grown := make([]T, len(c.small), min(chunkLen, max(8, 2*cap(c.small))))
				copy(grown, c.small)
				c.small = grown
			}
			c.small = append(c.small, v)
			c.n++
			return
		}
		c.chunks, c.small = [][]T{c.small}, nil
	}
	i, j := c.n>>chunkBits, c.n&(chunkLen-1)
	if j == 0 {
		c.chunks = append(c.chunks, make([]T, chunkLen))
	}
	c.chunks[i][j] = v
	c.n++
}

// view is a snapshot of a chunked list's first n elements.
type view[T any] struct {
	small  []T
	chunks [][]T
	n      int
}

func (c *chunked[T]) view() view[T] { return view[T]{small: c.small, chunks: c.chunks, n: c.n} }

func (v view[T]) at(i int) *T {
	if v.chunks == nil {
		return &v.small[i]
	}
	return &v.chunks[i>>chunkBits][i&(chunkLen-1)]
}

func (c *chunked[T]) last() *T { return c.view().at(c.n - 1) }
