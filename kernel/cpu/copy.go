package cpu

import "unsafe"

// CopyChunk bounds each memmove of Copy. The kernel's runtime runs
// without AVX (kernel.RuntimeGodebug), so Go's memmove
// (runtime/memmove_amd64.s) moves more than 2048 bytes with REP MOVSQ,
// and under QEMU's TCG every iteration of a REP string instruction is one
// more run of a translated block: a 4 KiB page copied that way cost 34 us
// in a Cocoon guest with AVX off, against 3.5 us as two 2048-byte copies,
// which memmove does with its SSE loop (move_256through2048); minimum of
// 30 runs over 256 pages, TCG. On hardware the two are alike for a page.
// Zeroing is affected less (REP STOSQ over a page cost 1.5 us there), but
// a page is zeroed on every demand-zero fault: see ZeroPage.
const CopyChunk = 2048

// ZeroPage clears the 4 KiB page at virtual address va. Each 1 KiB piece
// is a store of a constant-size zero array, which the compiler emits as
// straight-line SSE stores; clear() of a page compiles to REP STOSQ, 512
// iterations that QEMU's TCG runs as one translated block each: a
// demand-zero fault cost 1147 guest instructions, 512 of them the REP
// STOSQ's (QEMU -icount). unsafe: as for Ptr64.
//
//go:nosplit
func ZeroPage(va uintptr) {
	for i := uintptr(0); i < 4096; i += 1024 {
		*(*[1024]byte)(unsafe.Add(nil, va+i)) = [1024]byte{}
	}
}

// Copy is copy(dst, src) in pieces of at most CopyChunk bytes: for
// copies of pages and larger in the kernel. Like copy, it is right for
// overlapping slices: when dst starts inside src it copies the pieces
// last to first.
//
//go:nosplit
func Copy(dst, src []byte) int {
	n := min(len(dst), len(src))
	if n == 0 {
		return 0
	}
	// unsafe: only the addresses are compared, to order the pieces.
	d, s := uintptr(unsafe.Pointer(&dst[0])), uintptr(unsafe.Pointer(&src[0]))
	if d > s && d-s < uintptr(n) {
		for end := n; end > 0; end -= CopyChunk {
			start := max(0, end-CopyChunk)
			copy(dst[start:end], src[start:end])
		}
		return n
	}
	for i := 0; i < n; i += CopyChunk {
		copy(dst[i:n], src[i:min(n, i+CopyChunk)])
	}
	return n
}
