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

// userPopulate makes the user page at va present if a VMA allows the
// access, and returns its physical address. It says popFill for a page
// of a Filled region the Linux personality has yet to provide (or a
// copy-on-write page written), popNoMemory when memory for the
// application is exhausted, popFault when no VMA allows the access.
//
//go:nosplit
func userPopulate(s *userSpace, va uintptr, write bool) (uintptr, int) {
	r, ok := s.vmas.Lookup(va)
	if !ok || r.Prot == 0 || write && r.Prot&vmspace.Write == 0 {
		return 0, popFault
	}
	pte, _ := walkIn(s.pml4, va, true, pteUser)
	if pte == nil {
		return 0, popNoMemory
	}
	if *pte&ptePresent != 0 {
		if write && *pte&pteCOW != 0 {
			if st := cowBreak(s, va); st != popOK {
				return 0, st
			}
		}
		return uintptr(*pte & pteFrame), popOK
	}
	if r.Kind == vmspace.Filled {
		return 0, popFill
	}
	p, ok := phys.AllocUser()
	if !ok {
		return 0, popNoMemory
	}
	cpu.ZeroPage(cpu.Virt(uintptr(p)))
	*pte = p | userPTE(r.Prot)
	return uintptr(p), popOK
}

// freeUserRange frees the pages of [start, end) in the tables at pml4.
//
//go:nosplit
func freeUserRange(pml4, start, end uintptr) {
	current := currentTables() == pml4
	// Up to flushEach pages are dropped from the TLB one by one; past
	// that, the whole TLB once at the end (the frames are not reused
	// before this returns: trap context, one CPU).
	const flushEach = 32
	freed := 0
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
			phys.Free(*pte & pteFrame)
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
