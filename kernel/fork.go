package kernel

// Copy-on-write address spaces for fork(2), trap-context side: a new
// space gets the VMA list and the page-table entries of its parent,
// sharing every frame with a reference per entry; private writable pages
// become read-only and copy-on-write in both (pteCOW), and the first
// write to one copies it (cowBreak) unless nobody else holds the frame
// any more. As Linux's fork (mm/memory.c vma_needs_copy), the entries of
// pages the personality provides again on a fault are not copied: those
// of MAP_SHARED mappings (pteShared: a file's, shared anonymous memory,
// SysV segments) and those of a Filled region holding no private copy
// (a private file mapping never written, which Linux leaves without an
// anon_vma): the child faults them in when it touches them, and its
// resident set starts without them. Goroutine-side API in uspace.go
// (Space.Fork). Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// Private system calls for processes (after usermem.go's).
const (
	sysSpaceFork     = 1040 // (space, ranges, n) -> new space: a copy-on-write copy; ranges is n [start, end) pairs, the private file mappings
	sysSpaceFillShrd = 1041 // (space, addr, frame): install a shared page
)

// pteShared marks a page of a MAP_SHARED mapping: fork shares it writable
// instead of making it copy-on-write (an available bit, AMD APM vol. 2,
// 5.4.1; pteProtNone is bit 9, pteCOW bit 10).
const pteShared = 1 << 11

//go:nosplit
func procSyscall(nr, a0, a1, a2 uint64) (int64, bool) {
	switch nr {
	case sysSpaceFork:
		return spaceFork(int(a0), uintptr(a1), int(a2)), true
	case sysSpaceFillShrd:
		r := spaceFill(int(a0), uintptr(a1), a2, 0)
		if r == 0 {
			s := getSpace(int(a0))
			if pte, _ := walkIn(s.pml4, uintptr(a1), false, 0); pte != nil {
				*pte = *pte&^pteCopy | pteShared
			}
		}
		return r, true
	}
	return 0, false
}

// spaceFork makes a copy-on-write copy of space i and returns its id.
// refill is the kernel address of n sorted, disjoint [start, end) pairs
// (a goroutine's slice, kept alive and unchanged during the call): the
// private file mappings, whose file pages the personality provides again
// when the child faults; one holding no private copy (pteCopy) gets no
// entry in the child.
//
//go:nosplit
func spaceFork(i int, refill uintptr, n int) int64 {
	s := getSpace(i)
	if s == nil || n < 0 || n > 0 && refill == 0 {
		return -linux.EINVAL
	}
	c := spaceNew()
	if c < 0 {
		return c
	}
	d := &spaces[c]
	d.mmapBase, d.legacy = s.mmapBase, s.legacy
	zero, resident := zeroFrame, 0
	// The refill range at or after the page being copied, and whether
	// it holds a private copy (-1: not looked at yet).
	j, copies := 0, -1
	for r := s.vmas.First(); r.End != 0; r = s.vmas.After(r) {
		if !d.copyRegion(r) {
			spaceFree(int(c))
			return -linux.ENOMEM
		}
		// A page table at a time: the source's, and the copy's made at
		// its first present entry.
		for va := r.Start; va < r.End; {
			src, span := leafIn(s.pml4, va, false, 0)
			if src == 0 {
				va = va&^(span-1) + span
				continue
			}
			stop := min(r.End, va&^(leafSpan-1)+leafSpan)
			var dst uintptr
			for ; va < stop; va += pageSize {
				pte := cpu.Ptr64(src + (va>>12&511)*8)
				e := *pte
				if e&(ptePresent|pteProtNone) == 0 || e&pteShared != 0 {
					continue
				}
				for j < n && *cpu.Ptr64(refill + uintptr(j)*16 + 8) <= uint64(va) {
					j, copies = j+1, -1
				}
				if j < n && *cpu.Ptr64(refill + uintptr(j)*16) <= uint64(va) {
					if copies < 0 {
						copies = 0
						if hasCopy(s.pml4, uintptr(*cpu.Ptr64(refill + uintptr(j)*16)), uintptr(*cpu.Ptr64(refill + uintptr(j)*16 + 8))) {
							copies = 1
						}
					}
					if copies == 0 {
						continue
					}
				}
				if dst == 0 {
					if dst, _ = leafIn(d.pml4, va, true, pteUser); dst == 0 {
						spaceFree(int(c))
						return -linux.ENOMEM
					}
				}
				// The zero frame is mapped without references, and is not
				// resident.
				if f := e & pteFrame; f != zero {
					if !phys.Ref(f) {
						spaceFree(int(c))
						return -linux.ENOMEM
					}
					resident++
				}
				// Every private page becomes copy-on-write, writable or
				// not: a later mprotect may make it writable in one of
				// the two (mm/memory.c copy_present_pte, is_cow_mapping).
				if c := (e | pteCOW) &^ pteWrite; e&pteShared == 0 && c != e {
					e = c
					*pte = e
				}
				*cpu.Ptr64(dst + (va>>12&511)*8) = e
			}
		}
	}
	d.gained(resident)
	if currentTables() == s.pml4 {
		loadTables(s.pml4) // drop the parent's writable translations
	}
	return c
}

// hasCopy reports whether a page of [start, end) in the tables at pml4
// holds a private copy (pteCopy): Linux's anon_vma, which makes fork copy
// every entry of the mapping.
//
//go:nosplit
func hasCopy(pml4, start, end uintptr) bool {
	for va := start; va < end; {
		table, span := leafIn(pml4, va, false, 0)
		if table == 0 {
			va = va&^(span-1) + span
			continue
		}
		stop := min(end, va&^(leafSpan-1)+leafSpan)
		for ; va < stop; va += pageSize {
			e := *cpu.Ptr64(table + (va>>12&511)*8)
			if e&(ptePresent|pteProtNone) != 0 && e&pteCopy != 0 {
				return true
			}
		}
	}
	return false
}

// cowBreak serves a write to the copy-on-write page at va: the page gets
// a frame of its own (a copy, the same frame if no one else holds it, or
// for the zero frame a zeroed one) and becomes writable if its VMA is.
// It returns popFault if the page is not copy-on-write or its VMA forbids
// writing, unless force (program loading: a write ignoring protection).
//
//go:nosplit
func cowBreak(s *userSpace, va uintptr, force bool) int {
	r, ok := s.vmas.Lookup(va)
	if !ok || !force && r.Prot&vmspace.Write == 0 {
		return popFault
	}
	pte, _ := walkIn(s.pml4, va, false, 0)
	if pte == nil || *pte&ptePresent == 0 || *pte&pteCOW == 0 {
		return popFault
	}
	old := *pte & pteFrame
	switch {
	case old == zeroFrame:
		p, ok := phys.AllocUser()
		if !ok {
			return popNoMemory
		}
		cpu.ZeroPage(cpu.Virt(uintptr(p)))
		*pte = p | userPTE(r.Prot)
		s.gained(1)
	case phys.Refs(old) == 1:
		*pte = old | userPTE(r.Prot) | pteCopy // no one else's any more
	default:
		p, ok := phys.AllocUser()
		if !ok {
			return popNoMemory
		}
		cpu.Copy(cpu.Bytes(cpu.Virt(uintptr(p)), pageSize), cpu.Bytes(cpu.Virt(uintptr(old)), pageSize))
		*pte = p | userPTE(r.Prot) | pteCopy
		phys.Free(old)
	}
	if currentTables() == s.pml4 {
		cpu.Invlpg(va)
	}
	return popOK
}

// copyRegion records region r in d, a fork's child (not inlined: the
// fork's frame is deep in trap context's stack already).
//
//go:nosplit
//go:noinline
func (d *userSpace) copyRegion(r vmspace.Region) bool {
	d.reserve()
	return d.vmas.Append(r)
}
