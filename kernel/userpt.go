package kernel

// Application page tables: the entries of user pages, demand population
// from the VMA list, and freeing pages and tables. Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// pteProtNone marks a kept page made inaccessible by PROT_NONE (an
// available bit, AMD APM vol. 2, 5.4.1).
const pteProtNone = 1 << 9

//go:nosplit
func userPTE(prot vmspace.Prot) uint64 {
	e := uint64(ptePresent|pteUser) | ptePrivate
	if prot&vmspace.Write != 0 {
		e |= pteWrite
	}
	if prot&vmspace.Exec == 0 {
		e |= pteNX
	}
	return e
}

// Accesses userPopulate serves.
const (
	accRead      = iota // a read: an untouched anonymous page maps the zero frame
	accWrite            // a write: the page gets a private frame
	accForce            // a write ignoring the protection (program loading; /proc/PID/mem, ptrace's FOLL_FORCE)
	accForceRead        // a read ignoring the protection (/proc/PID/mem of a PROT_NONE page)
)

// forced reports whether acc ignores the protection.
//
//go:nosplit
func forced(acc int) bool { return acc == accForce || acc == accForceRead }

// zeroFrame is the one frame of zeros that every read of an untouched
// private anonymous page maps, read-only and copy-on-write, as Linux's
// ZERO_PAGE (mm/memory.c do_anonymous_page); the first write gives the
// page a zeroed frame of its own (wp_page_copy). Taken out of the
// allocator at boot (setupZeroFrame), so page tables map it without
// references: Free and Ref of it change nothing, and it is never handed
// out or written.
var zeroFrame uint64

// setupZeroFrame allocates and zeroes zeroFrame.
//
//go:nosplit
func setupZeroFrame() bool {
	p, ok := phys.Alloc()
	if !ok {
		return false
	}
	cpu.ZeroPage(cpu.Virt(uintptr(p)))
	phys.Reserve(p, pageSize)
	zeroFrame = p
	return true
}

// What userPopulate does with a page (populateAction).
const (
	actFault     = iota // no VMA allows the access
	actFill             // the personality provides the page
	actHave             // the page is present as needed
	actZero             // map the zero frame
	actAlloc            // map a new zeroed frame
	actBreakZero        // replace the zero frame by a new zeroed one
	actBreakCOW         // copy-on-write break (cowBreak)
)

// populateAction decides how userPopulate serves access acc to a page
// whose entry is pte, in a region with prot and kind; zero is the zero
// frame. Pure: the page-table logic the host tests check.
//
//go:nosplit
func populateAction(pte uint64, prot vmspace.Prot, kind vmspace.Kind, acc int, zero uint64) int {
	// A forced write still needs an accessible page: a present entry
	// is readable.
	if prot == 0 || acc == accWrite && prot&vmspace.Write == 0 {
		return actFault
	}
	if pte&ptePresent == 0 {
		switch {
		case kind == vmspace.Filled:
			return actFill
		case acc == accRead:
			return actZero
		}
		return actAlloc
	}
	if acc == accRead || pte&pteCOW == 0 {
		return actHave
	}
	if pte&pteFrame == zero {
		return actBreakZero
	}
	return actBreakCOW
}

// zeroPTE is the entry that maps the zero frame for a region with prot:
// never writable, and copy-on-write so that a write (or an mprotect that
// allows one) gives the page a frame of its own.
//
//go:nosplit
func zeroPTE(zero uint64, prot vmspace.Prot) uint64 {
	return zero | pteCOW | userPTE(prot&^vmspace.Write)
}

// userPopulate makes the user page at va present for access acc if a VMA
// allows it, and returns its physical address. It says popFill for a page
// of a Filled region the Linux personality has yet to provide (or a
// copy-on-write page written), popNoMemory when memory for the
// application is exhausted, popFault when no VMA allows the access.
//
//go:nosplit
func userPopulate(s *userSpace, va uintptr, acc int) (uintptr, int) {
	r, ok := s.vmas.Lookup(va)
	if !ok {
		return 0, popFault
	}
	if !forced(acc) && (r.Prot == 0 || acc == accWrite && r.Prot&vmspace.Write == 0) {
		return 0, popFault // before walkIn: no tables made for a bad access
	}
	pte, _ := walkIn(s.pml4, va, true, pteUser)
	if pte == nil {
		return 0, popNoMemory
	}
	if r.Prot == 0 {
		return protNonePage(s, r.Kind, pte, acc)
	}
	if acc == accForceRead {
		acc = accRead
	}
	switch populateAction(*pte, r.Prot, r.Kind, acc, zeroFrame) {
	case actFault:
		return 0, popFault
	case actFill:
		return 0, popFill
	case actZero:
		*pte = zeroPTE(zeroFrame, r.Prot)
	case actAlloc, actBreakZero:
		p, ok := phys.AllocUser()
		if !ok {
			return 0, popNoMemory
		}
		cpu.ZeroPage(cpu.Virt(uintptr(p)))
		was := *pte & ptePresent
		*pte = p | userPTE(r.Prot)
		s.gained(1)
		if was != 0 && currentTables() == s.pml4 {
			cpu.Invlpg(va)
		}
	case actBreakCOW:
		if st := cowBreak(s, va, acc == accForce); st != popOK {
			return 0, st
		}
	}
	return uintptr(*pte & pteFrame), popOK
}

// protNonePage serves a forced access (accForce, accForceRead) to a page
// of a PROT_NONE region of kind, whose entry is pte, as ptrace's
// FOLL_FORCE does (mm/gup.c check_vma_flags): a read sees the page (the
// zero frame if untouched), a write gets it a frame of its own, a copy of
// what it showed; a page of a shared mapping is not written. The entry
// stays inaccessible to the application (pteProtNone, not present: no
// TLB entry to drop). It returns the frame as userPopulate does.
//
//go:nosplit
func protNonePage(s *userSpace, kind vmspace.Kind, pte *uint64, acc int) (uintptr, int) {
	e := *pte
	old := e & pteFrame
	if e&pteProtNone == 0 {
		// Nothing there: the personality provides a Filled page (as
		// the region's, PROT_NONE); an anonymous one reads as zeros.
		if kind == vmspace.Filled {
			return 0, popFill
		}
		if acc == accForceRead {
			return uintptr(zeroFrame), popOK
		}
	} else if acc == accForceRead || e&pteCOW == 0 && old != zeroFrame {
		return uintptr(old), popOK
	}
	if e&pteShared != 0 {
		return 0, popFault
	}
	p, ok := phys.AllocUser()
	if !ok {
		return 0, popNoMemory
	}
	if e&pteProtNone == 0 || old == zeroFrame {
		cpu.ZeroPage(cpu.Virt(uintptr(p)))
	} else {
		cpu.Copy(cpu.Bytes(cpu.Virt(uintptr(p)), pageSize), cpu.Bytes(cpu.Virt(uintptr(old)), pageSize))
	}
	n := (p | userPTE(0) | pteProtNone) &^ ptePresent
	if kind == vmspace.Filled {
		n |= pteCopy
	}
	*pte = n
	if e&pteProtNone != 0 && old != zeroFrame {
		phys.Free(old)
	} else {
		s.gained(1)
	}
	return uintptr(p), popOK
}

// freeUserRange frees the pages of [start, end) in the tables at pml4 and
// returns how many of them were resident (rss: the zero frame's
// mappings are not).
//
//go:nosplit
func freeUserRange(pml4, start, end uintptr) int {
	current := currentTables() == pml4
	// Up to flushEach pages are dropped from the TLB one by one; past
	// that, the whole TLB once at the end (the frames are not reused
	// before this returns: trap context, one CPU).
	const flushEach = 32
	freed, resident := 0, 0
	for va := start; va < end; {
		table, span := leafIn(pml4, va, false, 0)
		if table == 0 {
			va = va&^(span-1) + span
			continue
		}
		stop := min(end, va&^(leafSpan-1)+leafSpan)
		for ; va < stop; va += pageSize {
			pte := cpu.Ptr64(table + (va>>12&511)*8)
			if *pte&(ptePresent|pteProtNone) == 0 {
				continue
			}
			if *pte&pteFrame != zeroFrame {
				phys.Free(*pte & pteFrame)
				resident++
			}
			*pte = 0
			if current && freed < flushEach {
				cpu.Invlpg(va)
			}
			freed++
		}
	}
	if current && freed > flushEach {
		loadTables(pml4)
	}
	return resident
}

// residentIn counts the resident pages of [start, end) in the tables at
// pml4 (the zero frame's mappings not); with copies, only the private
// copies (pteCopy).
//
//go:nosplit
func residentIn(pml4, start, end uintptr, copies bool) int {
	n := 0
	for va := start; va < end; {
		table, span := leafIn(pml4, va, false, 0)
		if table == 0 {
			va = va&^(span-1) + span
			continue
		}
		stop := min(end, va&^(leafSpan-1)+leafSpan)
		for ; va < stop; va += pageSize {
			pte := *cpu.Ptr64(table + (va>>12&511)*8)
			if pte&(ptePresent|pteProtNone) == 0 || pte&pteFrame == zeroFrame || copies && pte&pteCopy == 0 {
				continue
			}
			n++
		}
	}
	return n
}

// tablesIn counts the page-table pages below the PML4 at pml4 that map
// the user half (PML4 slots 0..251): the PDPT, PD and PT pages, which
// Linux's mm_pgtables_bytes counts as its PUD, PMD and PTE tables.
//
//go:nosplit
func tablesIn(pml4 uintptr) int {
	n := 0
	for i := uintptr(0); i < 252; i++ {
		e4 := *cpu.Ptr64(cpu.Virt(pml4) + i*8)
		if e4&ptePresent == 0 {
			continue
		}
		n++
		pdpt := cpu.Virt(uintptr(e4 & pteFrame))
		for j := uintptr(0); j < 512; j++ {
			e3 := *cpu.Ptr64(pdpt + j*8)
			if e3&ptePresent == 0 {
				continue
			}
			n++
			pd := cpu.Virt(uintptr(e3 & pteFrame))
			for k := uintptr(0); k < 512; k++ {
				if *cpu.Ptr64(pd + k*8)&ptePresent != 0 {
					n++
				}
			}
		}
	}
	return n
}

// freeTables frees the user half of the tables at pml4 (PML4 slots
// 0..251): every page they map and the page-table pages themselves. The
// tables must not be the loaded ones.
//
//go:nosplit
func freeTables(pml4 uintptr) {
	for i := uintptr(0); i < 252; i++ {
		e4 := cpu.Ptr64(cpu.Virt(pml4) + i*8)
		if *e4&ptePresent == 0 {
			continue
		}
		pdpt := uintptr(*e4 & pteFrame)
		for j := uintptr(0); j < 512; j++ {
			e3 := cpu.Ptr64(cpu.Virt(pdpt) + j*8)
			if *e3&ptePresent == 0 {
				continue
			}
			pd := uintptr(*e3 & pteFrame)
			for k := uintptr(0); k < 512; k++ {
				e2 := cpu.Ptr64(cpu.Virt(pd) + k*8)
				if *e2&ptePresent == 0 {
					continue
				}
				pt := cpu.Virt(uintptr(*e2 & pteFrame))
				for l := uintptr(0); l < 512; l++ {
					if pte := *cpu.Ptr64(pt + l*8); pte&(ptePresent|pteProtNone) != 0 {
						phys.Free(pte & pteFrame)
					}
				}
				phys.Free(*e2 & pteFrame)
			}
			phys.Free(uint64(pd))
		}
		phys.Free(uint64(pdpt))
		*e4 = 0
	}
}

// freeEmptyTables frees the page-table pages below the PML4 of s that
// map some of [start, end) once no region of s covers any of their span
// and they hold no entry (after an unmap or a move has cleared the range
// and its regions), as Linux's free_pgtables frees the tables of an
// unmapped range between the mappings below and above it
// (free_pgd_range's floor and ceiling): a program mapping at new
// addresses each time does not keep the tables of every old one. Only
// the user half (PML4 slots 0..251): the kernel's slots are shared by
// every space. The PML4 entries it clears stay zero, so a freed table is
// never reached again; when the tables are loaded, the TLB and the
// paging-structure caches are flushed (a CR3 reload) before the pages
// can be reused. It returns the page-table pages freed (VmPTE, which
// tablesIn counts, drops by as many).
//
//go:nosplit
func freeEmptyTables(s *userSpace, start, end uintptr) int {
	const span4, span3, span2 = uintptr(1) << 39, uintptr(1) << 30, uintptr(1) << 21
	if start >= end {
		return 0
	}
	root := cpu.Virt(s.pml4)
	freed := 0
	for va4 := start &^ (span4 - 1); va4 < end && va4>>39 < 252; va4 += span4 {
		e4 := cpu.Ptr64(root + (va4>>39)*8)
		if *e4&ptePresent == 0 || *e4&pteHuge != 0 {
			continue
		}
		pdpt := cpu.Virt(uintptr(*e4 & pteFrame))
		for va3 := max(start&^(span3-1), va4); va3 < end && va3 < va4+span4; va3 += span3 {
			e3 := cpu.Ptr64(pdpt + (va3>>30&511)*8)
			if *e3&ptePresent == 0 || *e3&pteHuge != 0 {
				continue
			}
			pd := cpu.Virt(uintptr(*e3 & pteFrame))
			for va2 := max(start&^(span2-1), va3); va2 < end && va2 < va3+span3; va2 += span2 {
				e2 := cpu.Ptr64(pd + (va2>>21&511)*8)
				if *e2&ptePresent != 0 && *e2&pteHuge == 0 && s.tableUnused(va2, span2, *e2) {
					phys.Free(*e2 & pteFrame)
					*e2 = 0
					freed++
				}
			}
			if s.tableUnused(va3, span3, *e3) {
				phys.Free(*e3 & pteFrame)
				*e3 = 0
				freed++
			}
		}
		if s.tableUnused(va4, span4, *e4) {
			phys.Free(*e4 & pteFrame)
			*e4 = 0
			freed++
		}
	}
	if freed > 0 && currentTables() == s.pml4 {
		loadTables(s.pml4)
	}
	return freed
}

// tableUnused reports whether the page-table page entry e points to,
// which maps [va, va+span), may be freed: no region of s has a page in
// the span and the table holds no entry (a page kept outside every
// region would keep it).
//
//go:nosplit
func (s *userSpace) tableUnused(va, span uintptr, e uint64) bool {
	if r, ok := s.vmas.Next(va); ok && r.Start < va+span {
		return false
	}
	t := cpu.Virt(uintptr(e & pteFrame))
	for i := uintptr(0); i < 512; i++ {
		if *cpu.Ptr64(t + i*8) != 0 {
			return false
		}
	}
	return true
}
