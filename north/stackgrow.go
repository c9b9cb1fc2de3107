package north

// The main stack grows down on a fault below it, up to RLIMIT_STACK as
// it is at the fault (mm/mmap.c expand_stack, acct_stack_growth): an
// execve maps the stack RLIMIT_STACK then had, and a program that raises
// the limit afterwards (GCC's cc1 does, then recurses deep) gets the
// rest as it touches it. The PROT_NONE guard below the stack moves down
// with it, and the stack grows only where nothing else is mapped within
// that guard of its new bottom (stack_guard_gap).

import (
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// growStack extends the stack down to the page of addr, a fault below
// it; false if addr is not the stack's to grow to (the fault stands).
func (t *Task) growStack(addr uint64) bool {
	p := t.p
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	lo, hi, guard := p.mm.stack[0], p.mm.stack[1], p.mm.stack[2]
	if lo == 0 || addr >= lo {
		return false
	}
	newLo := addr &^ (mem.PageSize - 1)
	// RLIMIT_STACK bounds it, and never past what an execve maps for
	// an unlimited one (Linux's overcommit check refuses a growth past
	// the memory there is).
	if hi-newLo > min(p.rlimit(3), maxStack) || newLo < guard || newLo-guard < kernel.UserLo {
		return false
	}
	// Below the old guard, down to the new one, must be free: another
	// mapping there is the stack_guard_gap's to keep.
	if !p.rangeFree(newLo-guard, lo-newLo) {
		return false
	}
	if !p.mayGrow(lo-newLo, lo-newLo) {
		return false
	}
	p.noteVMPeak()
	if _, err := p.m.Map(newLo, lo-newLo, mem.Read|mem.Write, true); err != nil {
		return false
	}
	if guard > 0 {
		p.m.Map(newLo-guard, guard, 0, true)
	}
	p.mm.stack[0] = newLo
	return true
}
