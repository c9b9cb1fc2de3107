package north

import (
	"github.com/cocoon-vm/cocoon/north/mem"
)

// The sizes of an address space that /proc/PID/status, statm and stat
// show (fs/proc/task_mmu.c task_mem and task_statm, the mm_struct
// counters mm/mmap.c vm_stat_account keeps), counted from the kernel's
// regions when asked.

// vmStat is an address space's sizes in bytes, as Linux names them.
type vmStat struct {
	total uint64 // total_vm: everything mapped (VmSize)
	peak  uint64 // hiwater_vm: total's highest value (VmPeak)
	data  uint64 // data_vm: private writable, not the stack (VmData)
	stack uint64 // stack_vm: the stack (VmStk)
	exec  uint64 // exec_vm: executable, not writable, not the stack
	// locked is the locked part (locked_vm, VmLck; mlock.go).
	locked uint64
	// text is the program's own executable regions (VmExe; exec less
	// text is VmLib): those below the program break's start, where the
	// loader put the program, while the interpreter and the libraries
	// are mapped above it.
	text       uint64
	codeStart  uint64 // the lowest address of text (stat's startcode)
	codeEnd    uint64 // the end of text's last region (stat's endcode)
	pageTables uint64 // the page-table pages mapping it (VmPTE)
	// strings bound the argument and the environment strings (stat's
	// arg_start, arg_end, env_start, env_end).
	strings [4]uint64
	// segments are the program's start_code, end_code, start_data and
	// end_data (stat's; 0 for a program the loader did not describe).
	segments [4]uint64
}

// pageTabler is a Machine that counts the page-table pages mapping it
// (the kernel's Space).
type pageTabler interface {
	PageTables() uint64
}

// vmStat counts the sizes of the process's address space; false for a
// zombie or an address space that cannot list its regions.
func (p *Process) vmStat() (vmStat, bool) {
	var s vmStat
	if p.LiveFiles() == nil {
		return s, false
	}
	r, ok := p.m.(regioner)
	if !ok {
		return s, false
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mu.Lock()
	brkStart := p.brkStart
	p.mu.Unlock()
	sp := p.mm.stackSP.Load()
	// shared reports whether [start, end) of a file-backed region is a
	// shared mapping (VM_SHARED), which data_vm leaves out.
	shared := func(start, end uint64) uint64 {
		n := uint64(0)
		for _, v := range p.mm.vmas {
			if lo, hi := max(start, v.start), min(end, v.end); lo < hi && v.shared {
				n += hi - lo
			}
		}
		return n
	}
	r.Regions(func(start, end uint64, prot uint8, filled bool) {
		size := end - start
		s.total += size
		s.locked += p.mm.lockedIn(start, end)
		write, exec := prot&uint8(mem.Write) != 0, prot&uint8(mem.Exec) != 0
		switch {
		case !filled && start < sp && sp <= end:
			// mm/internal.h is_stack_mapping: VM_STACK, whatever its
			// protection.
			s.stack += size
			return
		case write:
			sh := uint64(0)
			if filled {
				sh = shared(start, end)
			}
			s.data += size - sh
		case exec:
			s.exec += size
			if end <= brkStart {
				s.text += size
				if s.codeStart == 0 {
					s.codeStart = start
				}
				s.codeEnd = end
			}
		}
	})
	s.peak = max(p.mm.vmPeak.Load(), s.total)
	s.strings = p.mm.strings
	s.segments = p.mm.segments
	if t, ok := p.m.(pageTabler); ok {
		s.pageTables = t.PageTables()
	}
	return s, true
}

// SetStackStrings records where the first program's argument and
// environment strings are (prog's, before Start), and sets its layout.
func (p *Process) SetStackStrings(prog Program) { p.setProgram(prog, false) }

// setProgram records where prog's strings, auxiliary vector and stack
// are, and sets where its mappings go (setMmapBase; compat: the legacy
// layout of ADDR_COMPAT_LAYOUT).
func (p *Process) setProgram(prog Program, compat bool) {
	p.mm.setStrings(prog)
	p.setMmapBase(prog.Machine, prog.StackHigh, compat)
}

// setStrings records where prog's argument and environment strings are,
// and its auxiliary vector.
func (s *mmState) setStrings(prog Program) {
	s.mu.Lock()
	s.strings = [4]uint64{prog.ArgStart, prog.ArgEnd, prog.EnvStart, prog.EnvEnd}
	s.segments = prog.Segments
	s.stack = [3]uint64{prog.StackLow, prog.StackHigh, prog.StackGuard}
	s.stackLow.Store(prog.StackLow)
	s.auxv = prog.Auxv
	s.vdso, s.vvar = nil, nil
	if r := prog.VDSO; r[0] < r[1] {
		s.vdso = []span{{r[0], r[1]}}
	}
	if r := prog.VVar; r[0] < r[1] {
		s.vvar = []span{{r[0], r[1]}}
	}
	s.mu.Unlock()
}

// noteVMPeak records the size of the address space before a call that
// may shrink it (munmap, brk, mremap, shmdt), as Linux's
// update_hiwater_vm does: VmPeak is the highest of these and the size
// now. The caller holds p.mm.mu.
func (p *Process) noteVMPeak() { noteVMPeakIn(p.m, p.mm) }

// noteVMPeakIn is noteVMPeak for address space m with ranges mm.
func noteVMPeakIn(m Machine, mm *mmState) {
	ps, ok := m.(pagedSpace)
	if !ok {
		return
	}
	if total, _ := ps.Usage(); total > mm.vmPeak.Load() {
		mm.vmPeak.Store(total)
	}
}
