// Package pmem is the kernel's physical page allocator: a bitmap over 4 KiB
// frames, filled from the boot memory map.
//
// Trap context: every function here is //go:nosplit and allocates nothing;
// the kernel's page-fault and mmap paths call it with interrupts off.
package pmem

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
	free  int
	total int
	next  int // search hint: word index
}

// AddRAM marks [base, base+size) as RAM available for allocation. Partial
// frames at the edges are ignored.
//
//go:nosplit
func (a *Allocator) AddRAM(base, size uint64) {
	start := (base + PageSize - 1) / PageSize
	end := (base + size) / PageSize
	if end > MaxFrames {
		end = MaxFrames
	}
	for f := start; f < end; f++ {
		w, b := f/64, f%64
		if a.known[w]&(1<<b) != 0 {
			continue
		}
		a.known[w] |= 1 << b
		a.used[w] &^= 1 << b
		a.free++
		a.total++
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
	if end > MaxFrames {
		end = MaxFrames
	}
	for f := start; f < end; f++ {
		w, b := f/64, f%64
		if a.known[w]&(1<<b) == 0 {
			continue
		}
		if a.used[w]&(1<<b) == 0 {
			a.free--
		}
		a.known[w] &^= 1 << b
		a.used[w] |= 1 << b
		a.total--
	}
}

// Alloc returns the physical address of a free frame, or ok=false.
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
		b := trailingZeros(avail)
		a.used[w] |= 1 << b
		a.free--
		a.next = w
		return (uint64(w)*64 + uint64(b)) * PageSize, true
	}
	return 0, false
}

// Free returns a frame obtained from Alloc. Freeing a frame that is not
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

//go:nosplit
func trailingZeros(x uint64) uint {
	n := uint(0)
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}
