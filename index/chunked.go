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
	if j == 0 && i == len(c.chunks) { // not reserved ahead (see reserve)
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

// chunkAt returns the elements from i (a multiple of chunkLen) up to the
// end of their chunk or n.
func (v view[T]) chunkAt(i, n int) []T {
	if v.chunks == nil {
		return v.small[:n]
	}
	return v.chunks[i>>chunkBits][:min(chunkLen, n-i)]
}

// runAt returns the elements from i up to the end of their chunk or n: a
// stretch a loop can walk as one slice.
func (v view[T]) runAt(i, n int) []T {
	return v.chunkAt(i&^(chunkLen-1), n)[i&(chunkLen-1):]
}

func (c *chunked[T]) last() *T { return c.view().at(c.n - 1) }

// storageLen is how many elements reserve takes from a pool for a list of
// n elements: n, or whole chunks beyond one chunk.
func storageLen(n int) int {
	if n <= chunkLen {
		return n
	}
	return (n + chunkLen - 1) &^ (chunkLen - 1)
}

// reserve makes the empty list c keep its first n elements in storage
// taken from the front of *pool (at least storageLen(n) long), so that
// lists restored together share one allocation rather than one per chunk
// (a checkpoint load; see hugePages). Past n the list grows as usual.
func (c *chunked[T]) reserve(pool *[]T, n int) {
	k := storageLen(n)
	s := (*pool)[:k:k]
	*pool = (*pool)[k:]
	if n <= chunkLen {
		c.small = s[:0]
		return
	}
	c.chunks = make([][]T, 0, k>>chunkBits)
	for i := 0; i < k; i += chunkLen {
		c.chunks = append(c.chunks, s[i:i+chunkLen:i+chunkLen])
	}
}

// storage returns the storage of elements [i, i+m) of a list reserved for
// at least i+m elements, within one chunk (i a multiple of chunkLen, m at
// most chunkLen), for filling in bulk; setFilled records the elements.
func (c *chunked[T]) storage(i, m int) []T {
	if c.chunks == nil {
		return c.small[i : i+m]
	}
	return c.chunks[i>>chunkBits][:m]
}

// setFilled records that the first n elements of a reserved list were
// filled through storage.
func (c *chunked[T]) setFilled(n int) {
	if c.chunks == nil {
		c.small = c.small[:n]
	}
	c.n = n
}
