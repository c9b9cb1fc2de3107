package kernel

// Copy-on-write address spaces for fork(2), trap-context side: a new
// space gets the VMA list and the page-table entries of its parent,
// sharing every frame with a reference per entry; private writable pages
// become read-only and copy-on-write in both (pteCOW), and the first
// write to one copies it (cowBreak) unless nobody else holds the frame
// any more. Pages of MAP_SHARED mappings (pteShared) stay writable and
// shared. Goroutine-side API in uspace.go (Space.Fork). Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// Private system calls for processes (after usermem.go's).
const (
	sysSpaceFork     = 1040 // (space) -> new space: a copy-on-write copy
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
		return spaceFork(int(a0)), true
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
//
//go:nosplit
func spaceFork(i int) int64 {
	s := getSpace(i)
	if s == nil {
		return -linux.EINVAL
	}
	n := spaceNew()
	if n < 0 {
		return n
	}
	d := &spaces[n]
	zero, resident := zeroFrame, 0
	for k := 0; k < s.vmas.Len(); k++ {
		r := s.vmas.At(k)
		if !d.vmas.SetKind(r.Start, r.End-r.Start, r.Prot, r.Kind) {
			spaceFree(int(n))
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
				if e&(ptePresent|pteProtNone) == 0 {
					continue
				}
				if dst == 0 {
					if dst, _ = leafIn(d.pml4, va, true, pteUser); dst == 0 {
						spaceFree(int(n))
						return -linux.ENOMEM
					}
				}
				// The zero frame is mapped without references, and is not
				// resident.
				if f := e & pteFrame; f != zero {
					if !phys.Ref(f) {
						spaceFree(int(n))
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
	return n
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
