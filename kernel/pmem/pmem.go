// Package pmem is the kernel's physical page allocator: a bitmap over 4 KiB
// frames, filled from the boot memory map, with a reference count per frame
// (a page-cache frame is held by its file and by every page table mapping
// it) and a reserve only the kernel may take.
//
// Two classes of caller: the kernel itself (its Go heap, its page tables)
// allocates with Alloc and may use every free frame; the application's
// demand (its pages, their page tables, file data) allocates with
// AllocUser, which fails while no more than the reserve is left. So an
// application that exhausts memory gets ENOMEM, ENOSPC or an
// out-of-memory kill, and the kernel still has the reserve to report it.
//
// Trap context: every function here is //go:nosplit and allocates nothing;
// the kernel's page-fault and mmap paths call it with interrupts off.
package pmem

import "math/bits"

// PageSize is the frame size.
const PageSize = 4096

// MaxFrames bounds the physical memory the allocator manages (4 GiB, the
// extent of the boot direct map).
const MaxFrames = 1 << 20

// Allocator hands out physical frames. The zero value manages no memory;
// add RAM with Free and remove what is in use with Reserve.
type Allocator struct {
	used  [MaxFrames / 64]uint64 // bit set = frame not available
	known [MaxFrames / 64]uint64 // bit set = frame is RAM we manage
	refs  [MaxFrames]uint16      // references to each allocated frame
	free  int
	total int
	next  int // search hint: word index
	// reserve is how many free frames AllocUser leaves for Alloc.
	reserve int
}

// MaxRefs is the most references one frame can have; Ref fails beyond.
const MaxRefs = 1<<16 - 1

// SetReserve keeps n free frames for Alloc: AllocUser fails once only
// that many are left.
//
//go:nosplit
func (a *Allocator) SetReserve(n int) { a.reserve = n }

// Reserved is the number of frames kept for the kernel.
//
//go:nosplit
func (a *Allocator) Reserved() int { return a.reserve }

// AllocUser is Alloc for the application's demand: it fails while the
// free frames are no more than the reserve.
//
//go:nosplit
func (a *Allocator) AllocUser() (addr uint64, ok bool) {
	if a.free <= a.reserve {
		return 0, false
	}
	return a.Alloc()
}

// Ref adds a reference to an allocated frame. It fails for a frame that
// is not allocated RAM or already has MaxRefs references.
//
//go:nosplit
func (a *Allocator) Ref(addr uint64) bool {
	f := addr / PageSize
	if addr%PageSize != 0 || f >= MaxFrames {
		return false
	}
	w, b := f/64, f%64
	if a.known[w]&(1<<b) == 0 || a.used[w]&(1<<b) == 0 || a.refs[f] == MaxRefs {
		return false
	}
	a.refs[f]++
	return true
}

// Refs is the reference count of the frame at addr (0 if free or not
// RAM).
//
//go:nosplit
func (a *Allocator) Refs(addr uint64) int {
	f := addr / PageSize
	if addr%PageSize != 0 || f >= MaxFrames {
		return 0
	}
	return int(a.refs[f])
}

// AddRAM marks [base, base+size) as RAM available for allocation. Partial
// frames at the edges are ignored. It works a bitmap word (64 frames) at a
// time: a frame at a time, the 65536 frames of 256 MiB took 10-20 ms of
// the boot under TCG.
//
//go:nosplit
func (a *Allocator) AddRAM(base, size uint64) {
	start := (base + PageSize - 1) / PageSize
	end := (base + size) / PageSize
	end = min(end, MaxFrames)
	for f := start; f < end; {
		w, m, next := frameWord(f, end)
		f = next
		m &^= a.known[w]
		a.known[w] |= m
		a.used[w] &^= m
		n := bits.OnesCount64(m)
		a.free += n
		a.total += n
	}
}

// Reserve takes [base, base+size) out of the allocator for good (kernel
// image, boot data, modules). Frames touched at all by the range go.
//
//go:nosplit
func (a *Allocator) Reserve(base, size uint64) {
	if size == 0 {
		return
	}
	start := base / PageSize
	end := (base + size + PageSize - 1) / PageSize
	end = min(end, MaxFrames)
	for f := start; f < end; {
		w, m, next := frameWord(f, end)
		f = next
		m &= a.known[w]
		a.free -= bits.OnesCount64(m &^ a.used[w])
		a.total -= bits.OnesCount64(m)
		a.known[w] &^= m
		a.used[w] |= m
	}
}

// frameWord returns the bitmap word holding frame f, the mask of its
// frames in [f, end), and the first frame after them.
//
//go:nosplit
func frameWord(f, end uint64) (w uint64, mask uint64, next uint64) {
	b := f % 64
	n := min(64-b, end-f)
	return f / 64, ^uint64(0) >> (64 - n) << b, f + n
}

// Alloc returns the physical address of a free frame, with one
// reference, or ok=false.
//
//go:nosplit
func (a *Allocator) Alloc() (addr uint64, ok bool) {
	n := len(a.used)
	for i := 0; i < n; i++ {
		w := (a.next + i) % n
		avail := a.known[w] &^ a.used[w]
		if avail == 0 {
			continue
		}
		b := bits.TrailingZeros64(avail) // BSF, not a loop over the used bits
		a.used[w] |= 1 << b
		a.free--
		a.next = w
		a.refs[uint64(w)*64+uint64(b)] = 1
		return (uint64(w)*64 + uint64(b)) * PageSize, true
	}
	return 0, false
}

// Free drops a reference to a frame obtained from Alloc, and returns the
// frame to the allocator with its last. Freeing a frame that is not
// allocated RAM reports false and changes nothing.
//
//go:nosplit
func (a *Allocator) Free(addr uint64) bool {
	f := addr / PageSize
	if addr%PageSize != 0 || f >= MaxFrames {
		return false
	}
	w, b := f/64, f%64
	if a.known[w]&(1<<b) == 0 || a.used[w]&(1<<b) == 0 {
		return false
	}
	if a.refs[f] > 1 {
		a.refs[f]--
		return true
	}
	a.refs[f] = 0
	a.used[w] &^= 1 << b
	a.free++
	return true
}

// FreeFrames is the number of frames available.
//
//go:nosplit
func (a *Allocator) FreeFrames() int { return a.free }

// TotalFrames is the number of RAM frames managed, used or not.
//
//go:nosplit
func (a *Allocator) TotalFrames() int { return a.total }
