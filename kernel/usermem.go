package kernel

// Application memory the Linux personality provides, trap-context side:
// frames it allocates for file data and shared memory, and the pages it
// installs in Filled regions (kernel/vmspace) when the application first
// touches them or writes a copy-on-write page. Goroutine-side API in
// frames.go. Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// Private system calls for application memory (after privcall.go's).
const (
	sysFrameAlloc  = 1020 // (src) -> physical frame, one reference: zeroed, or a copy of the kernel's page at src if not 0
	sysFrameFree   = 1021 // (frame): drop a reference
	sysSpaceFill   = 1022 // (space, addr, frame, flags): install frame at addr
	sysSpaceMove   = 1023 // (space, from, to, len): move mappings and pages
	sysMemReserve  = 1024 // (frames): set the kernel's reserve
	sysSpaceLookup = 1025 // (space, addr) -> prot | kind<<8, or EFAULT
	sysFrameRef    = 1026 // (frame): add a reference
	sysSpaceCover  = 1027 // (space, addr, len, vacant) -> 1 if wholly mapped, or with vacant 1 if inside the window and wholly unmapped, with vacant 2 if nothing but PROT_NONE is mapped there
	sysSpaceUsage  = 1028 // (space, which) -> bytes mapped (0) or anonymous writable (1)
	sysSpaceRegion = 1029 // (space, addr, which) -> the first region ending above addr: its start (0), end (1) or prot | kind<<8 (2), or EINVAL
	sysSpaceFillN  = 1030 // (space, addr, frames, n | flags<<32): install n frames read from the array at frames
	sysSpaceRSS    = 1031 // (space, which) -> resident pages (0), their high-water mark (1) or page-table pages (2)
	sysSpaceResid  = 1032 // (space, start, end, copies) -> resident pages in [start, end), or only pteCopy ones
)

// Outcomes of userPopulate.
const (
	popOK       = iota
	popFault    // no VMA allows the access
	popFill     // the personality provides this page
	popNoMemory // no memory left for the application
)

// Software bits a page fault's error code carries out of the trap layer
// (above every bit the CPU defines; AMD APM vol. 2, 8.4.2, and bit 31,
// RMP, for SEV-SNP). The personality strips them before a signal.
const (
	PFNeedFill = 1 << 28 // the page is the personality's to provide
	PFNoMemory = 1 << 29 // no memory for the page: out of memory
	PFSoft     = PFNeedFill | PFNoMemory
)

// pteCOW marks a page installed read-only whose VMA allows writing: a
// write must go to the personality for a private copy (an available bit,
// AMD APM vol. 2, 5.4.1; pteProtNone is bit 9).
const pteCOW = 1 << 10

// pteCopy marks a frame that is the page's own, not a file's page-cache
// frame: a private copy made by a write to a private file mapping
// (Fill without fillCOW, cowBreak). It survives fork, so that the
// resident set's kinds stay put (RssAnon, not RssFile; Linux counts
// such a page as anonymous). Bit 52, available to software above the
// address bits (AMD APM vol. 2, 5.4.1, figure 5-21).
const pteCopy = 1 << 52

//go:nosplit
func popErrBits(st int) uint64 {
	switch st {
	case popFill:
		return PFNeedFill
	case popNoMemory:
		return PFNoMemory
	}
	return 0
}

// cowProt is prot without Write for a copy-on-write entry.
//
//go:nosplit
func cowProt(prot vmspace.Prot, pte uint64) vmspace.Prot {
	if pte&pteCOW != 0 {
		return prot &^ vmspace.Write
	}
	return prot
}

//go:nosplit
func memSyscall(nr, a0, a1, a2, a3 uint64) (int64, bool) {
	switch nr {
	case sysFrameAlloc:
		p, ok := phys.AllocUser()
		if !ok {
			return -linux.ENOMEM, true
		}
		if a0 != 0 {
			// Not zeroed first: the copy overwrites all of the frame
			// before anyone else can see it.
			cpu.Copy(cpu.Bytes(cpu.Virt(uintptr(p)), pageSize), cpu.Bytes(uintptr(a0), pageSize))
		} else {
			cpu.ZeroPage(cpu.Virt(uintptr(p)))
		}
		return int64(p), true
	case sysFrameFree:
		if !phys.Free(a0) {
			return -linux.EINVAL, true
		}
		return 0, true
	case sysSpaceFill:
		return spaceFill(int(a0), uintptr(a1), a2, a3), true
	case sysSpaceFillN:
		return spaceFillN(int(a0), uintptr(a1), uintptr(a2), int(uint32(a3)), a3>>32), true
	case sysSpaceMove:
		return trimmed(int(a0), spaceMove(int(a0), uintptr(a1), uintptr(a2), uintptr(a3))), true
	case sysMemReserve:
		phys.SetReserve(int(a0))
		return 0, true
	case sysSpaceLookup:
		s := getSpace(int(a0))
		if s == nil {
			return -linux.EINVAL, true
		}
		r, ok := s.vmas.Lookup(uintptr(a1))
		if !ok {
			return -linux.EFAULT, true
		}
		return int64(r.Prot) | int64(r.Kind)<<8, true
	case sysFrameRef:
		if !phys.Ref(a0) {
			return -linux.EINVAL, true
		}
		return 0, true
	case sysSpaceCover:
		s := getSpace(int(a0))
		if s == nil {
			return -linux.EINVAL, true
		}
		if a3 == 1 {
			if a1+a2 >= a1 && a1 >= uint64(s.vmas.Lo) && a1+a2 <= uint64(s.vmas.Hi) && s.vmas.Free(uintptr(a1), uintptr(a2)) {
				return 1, true
			}
			return 0, true
		}
		if a3 == 2 {
			// No region but PROT_NONE ones overlaps the range.
			for a := uintptr(a1); a < uintptr(a1+a2); {
				r, ok := s.vmas.Next(a)
				if !ok || r.Start >= uintptr(a1+a2) {
					break
				}
				if r.Prot != 0 {
					return 0, true
				}
				a = r.End
			}
			return 1, true
		}
		if s.vmas.Covered(uintptr(a1), uintptr(a2), 0) {
			return 1, true
		}
		return 0, true
	case sysSpaceRegion:
		s := getSpace(int(a0))
		if s == nil {
			return -linux.EINVAL, true
		}
		r, ok := s.vmas.Next(uintptr(a1))
		if !ok {
			return -linux.EINVAL, true
		}
		switch a2 {
		case 0:
			return int64(r.Start), true
		case 1:
			return int64(r.End), true
		}
		return int64(r.Prot) | int64(r.Kind)<<8, true
	case sysSpaceRSS:
		s := getSpace(int(a0))
		if s == nil {
			return -linux.EINVAL, true
		}
		switch a1 {
		case 0:
			return int64(s.rss), true
		case 2:
			return int64(tablesIn(s.pml4)), true
		}
		return int64(s.hwm), true
	case sysSpaceResid:
		s := getSpace(int(a0))
		if s == nil || a1%pageSize != 0 || a2%pageSize != 0 || a2 < a1 || a2 > uint64(s.vmas.Hi) {
			return -linux.EINVAL, true
		}
		return int64(residentIn(s.pml4, uintptr(a1), uintptr(a2), a3 != 0)), true
	case sysSpaceUsage:
		s := getSpace(int(a0))
		if s == nil {
			return -linux.EINVAL, true
		}
		var n uintptr
		for a := s.vmas.Lo; ; {
			r, ok := s.vmas.Next(a)
			if !ok {
				break
			}
			if a1 == 0 || r.Kind == vmspace.Anon && r.Prot&vmspace.Write != 0 {
				n += r.End - r.Start
			}
			a = r.End
		}
		return int64(n), true
	}
	return 0, false
}

// Flags of sysSpaceFill and sysSpaceFillN.
const (
	fillCOW    = 1 // map read-only; a write comes back as PFNeedFill
	fillAbsent = 2 // sysSpaceFillN: leave the pages already there as they are (fault-around)
	fillShared = 4 // sysSpaceFillN: pages of a MAP_SHARED mapping (pteShared, as sysSpaceFillShrd)
)

// spaceFill installs frame at va, in a Filled region, with the region's
// protection (read-only and copy-on-write with fillCOW). The page table
// takes its own reference to the frame; the one it replaces is dropped.
//
//go:nosplit
func spaceFill(i int, va uintptr, frame, flags uint64) int64 {
	s := getSpace(i)
	if s == nil || va%pageSize != 0 || frame%pageSize != 0 {
		return -linux.EINVAL
	}
	r, ok := s.vmas.Lookup(va)
	if !ok || r.Kind != vmspace.Filled {
		return -linux.EFAULT
	}
	pte, _ := walkIn(s.pml4, va, true, pteUser)
	if pte == nil {
		return -linux.ENOMEM
	}
	if !phys.Ref(frame) {
		return -linux.EINVAL
	}
	old := *pte
	e := frame | ptePrivate
	if flags&fillCOW != 0 {
		e |= pteCOW
	} else {
		e |= pteCopy // FillShared clears it
	}
	if r.Prot == 0 {
		e |= pteProtNone
	} else {
		e |= userPTE(cowProt(r.Prot, e))
	}
	*pte = e
	if old&(ptePresent|pteProtNone) != 0 && old&pteFrame != zeroFrame {
		phys.Free(old & pteFrame)
	} else {
		s.gained(1)
	}
	if currentTables() == s.pml4 {
		cpu.Invlpg(va)
	}
	return 0
}

// spaceFillN is spaceFill for the n consecutive pages from va, which must
// lie in one Filled region: their frames are read from the array at the
// kernel address frames (a goroutine's slice, kept alive and unchanged
// during the call), a page table at a time. It stops at the first
// failure; the pages installed until then stay.
//
//go:nosplit
func spaceFillN(i int, va, frames uintptr, n int, flags uint64) int64 {
	s := getSpace(i)
	if s == nil || va%pageSize != 0 || n <= 0 {
		return -linux.EINVAL
	}
	end := va + uintptr(n)*pageSize
	r, ok := s.vmas.Lookup(va)
	if !ok || r.Kind != vmspace.Filled || end < va || end > r.End {
		return -linux.EFAULT
	}
	bits := ptePrivate
	switch {
	case flags&fillShared != 0:
		bits |= pteShared
	case flags&fillCOW != 0:
		bits |= pteCOW
	default:
		bits |= pteCopy
	}
	if r.Prot == 0 {
		bits |= pteProtNone
	} else {
		bits |= userPTE(cowProt(r.Prot, bits))
	}
	current := currentTables() == s.pml4
	k := uintptr(0)
	for a := va; a < end; {
		table, _ := leafIn(s.pml4, a, true, pteUser)
		if table == 0 {
			return -linux.ENOMEM
		}
		stop := min(end, a&^(leafSpan-1)+leafSpan)
		for ; a < stop; a += pageSize {
			frame := *cpu.Ptr64(frames + k*8)
			k++
			pte := cpu.Ptr64(table + (a>>12&511)*8)
			old := *pte
			if flags&fillAbsent != 0 && old&(ptePresent|pteProtNone) != 0 {
				continue
			}
			if frame%pageSize != 0 || !phys.Ref(frame) {
				return -linux.EINVAL
			}
			*pte = frame | bits
			if old&(ptePresent|pteProtNone) == 0 {
				s.gained(1)
				continue
			}
			if old&pteFrame != zeroFrame {
				phys.Free(old & pteFrame)
			} else {
				s.gained(1)
			}
			if current {
				cpu.Invlpg(a)
			}
		}
	}
	return 0
}

// spaceMove moves the mappings of [from, from+length) and their pages to
// [to, to+length), which must be free (mremap). Pages move by their
// page-table entries: no copying, no new memory but page tables.
//
//go:nosplit
func spaceMove(i int, from, to, length uintptr) int64 {
	s := getSpace(i)
	if s == nil || from%pageSize != 0 || to%pageSize != 0 || length == 0 || length%pageSize != 0 {
		return -linux.EINVAL
	}
	if from+length < from || to+length < to || to < s.vmas.Lo || to+length > s.vmas.Hi ||
		from < to+length && to < from+length || !s.vmas.Free(to, length) {
		return -linux.EINVAL
	}
	// mm/mremap.c move_vma: a move may cut up to four mappings (the
	// source's ends, the destination's neighbours), refused near the
	// limit on mappings.
	if s.vmas.Len() >= maxMapCount-3 {
		return -linux.ENOMEM
	}
	// First the tables at the destination, so nothing fails halfway.
	for off := uintptr(0); off < length; off += pageSize {
		if pte, _ := walkIn(s.pml4, from+off, false, 0); pte != nil && *pte != 0 {
			if dst, _ := walkIn(s.pml4, to+off, true, pteUser); dst == nil {
				return -linux.ENOMEM
			}
		}
	}
	// The regions, piece by piece (a moved range may span several).
	for a := from; a < from+length; {
		r, ok := s.vmas.Lookup(a)
		if !ok {
			return -linux.EFAULT
		}
		e := min(r.End, from+length)
		s.reserve()
		// A file's pages keep their offsets: the tag follows the move.
		tag := r.Tag
		if r.Kind == vmspace.Filled {
			tag += uint32(from/pageSize) - uint32(to/pageSize)
		}
		if !s.vmas.SetTagged(to+(a-from), e-a, r.Prot, r.Kind, tag) {
			s.vmas.Clear(to, a-from) // what was recorded of the move (Reserve spares)
			return -linux.ENOMEM
		}
		a = e
	}
	current := currentTables() == s.pml4
	for off := uintptr(0); off < length; off += pageSize {
		pte, span := walkIn(s.pml4, from+off, false, 0)
		if pte == nil {
			off = (from+off)&^(span-1) + span - from - pageSize
			continue
		}
		if *pte == 0 {
			continue
		}
		dst, _ := walkIn(s.pml4, to+off, false, 0)
		*dst = *pte
		*pte = 0
		if current {
			cpu.Invlpg(from + off)
		}
	}
	s.reserve()
	s.vmas.Clear(from, length) // a whole range of regions: no chunk taken
	freeEmptyTables(s, from, from+length)
	return 0
}

// setReserve keeps an eighth of RAM, between 8 and 64 MiB, for the
// kernel's own allocations (its Go heap above all): the application's
// demand can never take it (pmem.AllocUser).
//
//go:nosplit
func setReserve() {
	const lo, hi = 8 << 20 / pageSize, 64 << 20 / pageSize
	phys.SetReserve(min(max(phys.TotalFrames()/8, lo), hi))
}
