package north

// The main stack grows down on a fault below it, up to RLIMIT_STACK as
// it is at the fault (mm/mmap.c expand_stack, acct_stack_growth): an
// execve maps its first part only (128 KiB below the arguments and
// environment, setup_arg_pages' stack_expand), and the rest is mapped as
// the program touches it, or as a system call writes or reads there (a
// fault in copy_to_user expands the stack just as the program's own).
// The stack grows only where nothing is mapped, and no mapping but a
// PROT_NONE one within the guard gap below its new bottom
// (stack_guard_gap: expand_downwards); mmap keeps hints out of that gap.

import (
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// setCopyHooks makes the copies in and out of the process's address
// space provide file pages (fillForCopy) and grow the stack (growForCopy)
// as its own faults do.
func (p *Process) setCopyHooks() {
	if ps, ok := p.m.(pagedSpace); ok {
		ps.SetFiller(p.fillForCopy())
	}
	if g, ok := p.m.(interface{ SetGrower(func(addr uint64) bool) }); ok {
		g.SetGrower(p.growForCopy())
	}
}

// growForCopy returns the stack growth of the process's address space as
// it is now (another process sharing it may copy after this one execs).
func (p *Process) growForCopy() func(addr uint64) bool {
	m, mm := p.m, p.mm
	return func(addr uint64) bool { return p.growStackIn(m, mm, addr) }
}

// growStack extends the stack down to the page of addr, a fault below
// it; false if addr is not the stack's to grow to (the fault stands).
func (t *Task) growStack(addr uint64) bool { return t.p.growStackIn(t.p.m, t.p.mm, addr) }

// growStackIn is growStack in address space m with ranges mm.
func (p *Process) growStackIn(m Machine, mm *mmState, addr uint64) bool {
	if lo := mm.stackLow.Load(); lo == 0 || addr >= lo || lo-addr > maxStack {
		return false
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	lo, hi, gap := mm.stack[0], mm.stack[1], mm.stack[2]
	if lo == 0 || addr >= lo {
		return false
	}
	newLo := addr &^ (mem.PageSize - 1)
	// RLIMIT_STACK bounds it, and never past what an execve maps for
	// an unlimited one (Linux's overcommit check refuses a growth past
	// the memory there is).
	if hi-newLo > min(p.rlimit(3), maxStack) || newLo < kernel.UserLo {
		return false
	}
	// What it grows over must be free, and the gap below it free of
	// every mapping but PROT_NONE ones.
	if !vacantIn(m, newLo, lo-newLo) {
		return false
	}
	if g := min(gap, newLo-kernel.UserLo); g > 0 && accessibleIn(m, newLo-g, g) {
		return false
	}
	if !p.mayGrowIn(m, lo-newLo, lo-newLo) {
		return false
	}
	prot := mem.Read | mem.Write
	if r, ok := m.(interface {
		Lookup(addr uint64) (prot uint8, filled, ok bool)
	}); ok {
		if pr, _, ok := r.Lookup(lo); ok {
			prot = mem.Prot(pr) // an executable stack (PT_GNU_STACK) stays one
		}
	}
	noteVMPeakIn(m, mm)
	if _, err := m.Map(newLo, lo-newLo, prot, true); err != nil {
		return false
	}
	mm.stack[0] = newLo
	mm.stackLow.Store(newLo)
	return true
}

// vacantIn reports whether nothing is mapped in [addr, addr+length) of m.
func vacantIn(m Machine, addr, length uint64) bool {
	if v, ok := m.(interface {
		Vacant(addr, length uint64) bool
	}); ok {
		return v.Vacant(addr, length)
	}
	got, err := m.Map(addr, length, 0, false)
	if err != nil {
		return false
	}
	m.Unmap(got, length)
	return got == addr
}

// accessibleIn reports whether a mapping other than PROT_NONE overlaps
// [addr, addr+length) of m.
func accessibleIn(m Machine, addr, length uint64) bool {
	if a, ok := m.(interface {
		Accessible(addr, length uint64) bool
	}); ok {
		return a.Accessible(addr, length)
	}
	return !vacantIn(m, addr, length)
}
