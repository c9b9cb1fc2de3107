package kernel

// Application memory the Linux personality provides, goroutine side:
// physical frames for file data and shared memory, reached through the
// direct map, and the pages of Filled regions (see usermem.go).
// Goroutine context: ordinary Go.

import (
	"runtime"
	"syscall"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// AllocFrame returns a physical frame with one reference, taken from the
// memory the application may use; ENOMEM when none is left. The frame is
// zeroed, or holds a copy of src if src is not nil: the trap layer then
// copies src into it without zeroing it first (a whole page of a file the
// page cache takes from the archive).
func AllocFrame(src *[pageSize]byte) (uint64, error) {
	// unsafe: the trap layer reads the page at src, alive and unchanged during the call.
	p, e := privcall(sysFrameAlloc, uintptr(unsafe.Pointer(src)), 0, 0, 0)
	runtime.KeepAlive(src)
	if e != 0 {
		return 0, e
	}
	return uint64(p), nil
}

// FreeFrame drops a reference to a frame from AllocFrame; the last one
// frees it.
func FreeFrame(p uint64) {
	privcall(sysFrameFree, uintptr(p), 0, 0, 0)
}

// FrameBytes is the frame at physical address p, through the direct map.
func FrameBytes(p uint64) *[pageSize]byte {
	return (*[pageSize]byte)(ptrAt(cpu.Virt(uintptr(p))))
}

// SetMemoryReserve keeps n bytes of free memory for the kernel alone:
// the application's pages, page tables and file data cannot take them.
func SetMemoryReserve(n uint64) {
	privcall(sysMemReserve, uintptr(n/pageSize), 0, 0, 0)
}

// MapFilled is Map for a region whose pages the caller provides with Fill
// (file pages and shared memory): a first touch comes back from Run as a
// page fault with PFNeedFill in its error code. key is the file's
// identity plus its page offset at the mapping's start: the region merges
// with a neighbour only if that is the same file at the offset that
// follows, as Linux's VMAs do (vmspace.Region.Tag).
func (s *Space) MapFilled(addr, length uint64, prot uint8, fixed bool, key uint32) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pf := uintptr(prot) | 1<<9 | uintptr(key)<<32
	if fixed {
		pf |= 1 << 8
	}
	r, e := privcall(sysSpaceMap, uintptr(s.id), uintptr(addr), uintptr(length), pf)
	return uint64(r), errnoOf(r, e)
}

// Fill installs frame at the page addr of a Filled region, with the
// region's protection or, with cow, read-only until written (a write then
// comes back as a fault with PFNeedFill). The page table takes its own
// reference to frame.
func (s *Space) Fill(addr, frame uint64, cow bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var flags uintptr
	if cow {
		flags = fillCOW
	}
	return errnoOf(privcall(sysSpaceFill, uintptr(s.id), uintptr(addr), uintptr(frame), flags))
}

// FillRange is Fill for the len(frames) consecutive pages from addr, in
// one call into the trap layer; the pages must lie in one Filled region.
// On failure the pages installed until then stay.
func (s *Space) FillRange(addr uint64, frames []uint64, cow bool) error {
	return s.fillRange(addr, frames, cow, false, 0)
}

// FillAround is FillRange for fault-around (mm/memory.c do_fault_around):
// the pages already there, a private copy say, stay as they are; with
// shared, the pages are a MAP_SHARED mapping's, as FillShared installs
// them.
func (s *Space) FillAround(addr uint64, frames []uint64, cow, shared bool) error {
	if shared {
		return s.fillRange(addr, frames, false, true, fillShared)
	}
	return s.fillRange(addr, frames, cow, true, 0)
}

// fillRange is FillRange, leaving the pages already there with absent,
// with more flags.
func (s *Space) fillRange(addr uint64, frames []uint64, cow, absent bool, more uintptr) error {
	if len(frames) == 0 {
		return nil
	}
	if len(frames) > 1<<31 {
		return syscall.EINVAL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	flags := more
	if cow {
		flags |= fillCOW
	}
	if absent {
		flags |= fillAbsent
	}
	// unsafe: the trap layer reads the frame numbers from the slice's array, alive and unchanged during the call.
	r, e := privcall(sysSpaceFillN, uintptr(s.id), uintptr(addr), uintptr(unsafe.Pointer(&frames[0])), uintptr(len(frames))|flags<<32)
	runtime.KeepAlive(frames)
	return errnoOf(r, e)
}

// Move moves the mappings of [from, from+length) and their pages to the
// free range [to, to+length).
func (s *Space) Move(from, to, length uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errnoOf(privcall(sysSpaceMove, uintptr(s.id), uintptr(from), uintptr(to), uintptr(length)))
}

// Lookup returns the protection of the mapping at addr and whether it is
// Filled; ok is false where nothing is mapped.
func (s *Space) Lookup(addr uint64) (prot uint8, filled, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := privcall(sysSpaceLookup, uintptr(s.id), uintptr(addr), 0, 0)
	if e != 0 {
		return 0, false, false
	}
	return uint8(r), r>>8 != 0, true
}

// Regions calls fn for each region of the address space in address
// order: its range, protection and whether its pages are Filled ones
// (/proc/PID/maps). The caller keeps the layout from changing meanwhile.
func (s *Space) Regions(fn func(start, end uint64, prot uint8, filled bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := uintptr(0); ; {
		start, e := privcall(sysSpaceRegion, uintptr(s.id), a, 0, 0)
		if e != 0 {
			return
		}
		end, _ := privcall(sysSpaceRegion, uintptr(s.id), a, 1, 0)
		pk, _ := privcall(sysSpaceRegion, uintptr(s.id), a, 2, 0)
		fn(uint64(start), uint64(end), uint8(pk), pk>>8 != 0)
		a = end
	}
}

// SetFiller makes copies in and out that touch a page of a Filled region
// not yet provided call fill, which provides it with Fill.
func (s *Space) SetFiller(fill func(addr uint64, write bool) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fill = fill
}

// SetGrower makes a copy in or out that touches an address where nothing
// is mapped call grow, which may map it (a stack growing down to it, as
// Linux's fault in a system call expands the stack VMA): if it reports
// true the copy goes on.
func (s *Space) SetGrower(grow func(addr uint64) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grow = grow
}

// Accessible reports whether a mapping other than PROT_NONE overlaps
// [addr, addr+length).
func (s *Space) Accessible(addr, length uint64) bool {
	r, e := privcall(sysSpaceCover, uintptr(s.id), uintptr(addr), uintptr(length), 2)
	return e != 0 || r == 0
}

// RefFrame adds a reference to a frame from AllocFrame.
func RefFrame(p uint64) error {
	return errnoOf(privcall(sysFrameRef, uintptr(p), 0, 0, 0))
}

// Covered reports whether every page of [addr, addr+length) is mapped.
func (s *Space) Covered(addr, length uint64) bool {
	r, e := privcall(sysSpaceCover, uintptr(s.id), uintptr(addr), uintptr(length), 0)
	return e == 0 && r == 1
}

// Vacant reports whether no page of [addr, addr+length) is mapped.
func (s *Space) Vacant(addr, length uint64) bool {
	r, e := privcall(sysSpaceCover, uintptr(s.id), uintptr(addr), uintptr(length), 1)
	return e == 0 && r == 1
}

// Usage returns the bytes mapped and, of them, the anonymous writable
// ones (RLIMIT_AS and RLIMIT_DATA).
func (s *Space) Usage() (total, data uint64) {
	t, _ := privcall(sysSpaceUsage, uintptr(s.id), 0, 0, 0)
	d, _ := privcall(sysSpaceUsage, uintptr(s.id), 1, 0, 0)
	return uint64(t), uint64(d)
}

// RSS returns the resident pages of the address space (the shared zero
// page's mappings not counted, as Linux's) and their high-water mark.
func (s *Space) RSS() (pages, peak uint64) {
	r, _ := privcall(sysSpaceRSS, uintptr(s.id), 0, 0, 0)
	h, _ := privcall(sysSpaceRSS, uintptr(s.id), 1, 0, 0)
	return uint64(r), uint64(h)
}

// PageTables returns the bytes of the page tables below the PML4 that map
// the address space (VmPTE, Linux's mm_pgtables_bytes).
func (s *Space) PageTables() uint64 {
	n, _ := privcall(sysSpaceRSS, uintptr(s.id), 2, 0, 0)
	return uint64(n) * pageSize
}

// Resident counts the resident pages of [start, end) (page-aligned); with
// copies, only the private copies of file pages (a private file
// mapping's written pages), not the file's own.
func (s *Space) Resident(start, end uint64, copies bool) uint64 {
	c := uintptr(0)
	if copies {
		c = 1
	}
	r, e := privcall(sysSpaceResid, uintptr(s.id), uintptr(start), uintptr(end), c)
	if e != 0 {
		return 0
	}
	return uint64(r)
}
