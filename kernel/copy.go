package kernel

// Copies between kernel and application memory. Goroutine context.

// copyChunk bounds each memmove of a copy to or from application memory.
// The kernel's runtime runs without AVX (RuntimeGodebug), so Go's memmove
// (runtime/memmove_amd64.s) moves more than 2048 bytes with REP MOVSQ, and
// under QEMU's TCG every iteration of a REP string instruction is one more
// run of a translated block: a 4 KiB page copied that way cost 34 µs in a
// Cocoon guest with AVX off, against 3.5 µs as two 2048-byte copies, which
// memmove does with its SSE loop (move_256through2048); minimum of 30 runs
// over 256 pages, TCG. On hardware the two are alike for a page.
const copyChunk = 2048

// copyChunked is copy(dst, src) in pieces of at most copyChunk bytes.
func copyChunked(dst, src []byte) int {
	n := min(len(dst), len(src))
	for i := 0; i < n; i += copyChunk {
		copy(dst[i:n], src[i:min(n, i+copyChunk)])
	}
	return n
}
