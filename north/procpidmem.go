package north

import (
	"sync/atomic"
	"syscall"

	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// /proc/PID/mem: the process's address space read and written at the
// file offset, as fs/proc/base.c mem_rw does through access_remote_vm
// with FOLL_FORCE.

// capSysPtrace is CAP_SYS_PTRACE (include/uapi/linux/capability.h).
const capSysPtrace = 19

// MemFile is an open /proc/PID/mem: the address space the process had
// when it was opened (the mm_struct mem_open keeps), which reads and
// writes reach only while a process still uses it.
type MemFile struct {
	p *Process
	m Machine
}

// OpenMem opens the process's mem file for a caller of process caller
// with file-system IDs fsuid and fsgid and capability set caps, as
// fs/proc/base.c mem_open: the caller must be allowed to trace it
// (kernel/ptrace.c __ptrace_may_access, PTRACE_MODE_ATTACH_FSCREDS): a
// thread of the same process; or the same user and group as all of the
// target's IDs and the target dumpable; or CAP_SYS_PTRACE. EACCES
// otherwise; ESRCH for a process that has exited, or whose task tid
// (0: the main thread, /proc/PID/mem) has (mm_access finds no mm).
func (p *Process) OpenMem(tid, caller int32, fsuid, fsgid uint32, caps uint64) (*MemFile, error) {
	if tid == 0 {
		tid = p.pid
	}
	t := p.procTask(tid)
	if p.filesGone.Load() || t != nil && t == p.exitedLeader() {
		return nil, syscall.Errno(linux.ESRCH)
	}
	if caller != p.pid && caps&(1<<capSysPtrace) == 0 {
		p.mu.Lock()
		c := p.cred
		p.mu.Unlock()
		same := fsuid == c.ruid && fsuid == c.euid && fsuid == c.suid &&
			fsgid == c.rgid && fsgid == c.egid && fsgid == c.sgid
		if !same || p.undumpable.Load() {
			return nil, syscall.Errno(linux.EACCES)
		}
	}
	p.mu.Lock()
	m := p.m
	p.mu.Unlock()
	return &MemFile{p: p, m: m}, nil
}

// pinSpace takes a use of m if a process still uses it (mmget_not_zero).
func pinSpace(m Machine) bool {
	v, ok := spaceRefs.Load(m)
	if !ok {
		return false
	}
	c := v.(*atomic.Int32)
	for {
		n := c.Load()
		if n <= 0 {
			return false
		}
		if c.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// errEIO is what an access of an address nothing maps returns.
var errEIO = syscall.Errno(linux.EIO)

// Access reads (write false) or writes b at addr of the address space,
// forcing past the protection of private mappings as FOLL_FORCE does;
// it returns how many bytes it moved: EIO if none could be at addr, 0
// once no process uses the address space (mem_rw after mmget_not_zero
// fails).
func (f *MemFile) Access(b []byte, addr uint64, write bool) (int, error) {
	if len(b) == 0 || !pinSpace(f.m) {
		return 0, nil
	}
	defer dropSpace(f.m)
	done := 0
	for done < len(b) {
		a := addr + uint64(done)
		if a < addr || a >= uint64(layout.UserEnd) {
			break
		}
		n := min(len(b)-done, int(mem.PageSize-a%mem.PageSize))
		chunk := b[done : done+n]
		var err error
		if write {
			err = f.forceWrite(a, chunk)
		} else {
			err = f.forceRead(a, chunk)
		}
		if err != nil {
			break
		}
		done += n
	}
	if done == 0 {
		return 0, errEIO
	}
	return done, nil
}

// forcedReader is a Machine that reads ignoring the protection (the
// kernel's Space; the host tests' fakes read as CopyIn).
type forcedReader interface {
	ForceIn(addr uint64, dst []byte) error
}

// forceRead reads b at addr as FOLL_FORCE does: a PROT_NONE page too
// (mm/gup.c check_vma_flags lets a forced read past a mapping without
// VM_READ).
func (f *MemFile) forceRead(addr uint64, b []byte) error {
	if r, ok := f.m.(forcedReader); ok {
		return r.ForceIn(addr, b)
	}
	return f.m.CopyIn(addr, b)
}

// forceWrite writes b within one page at addr: as a write where the
// mapping allows it, else into a private copy of the page (a shared
// mapping without PROT_WRITE refuses: mm/gup.c check_vma_flags
// !is_cow_mapping).
func (f *MemFile) forceWrite(addr uint64, b []byte) error {
	if f.m.CopyOut(addr, b) == nil {
		return nil
	}
	p := f.p
	p.mm.mu.Lock()
	shared := p.m != f.m
	for _, v := range p.mm.vmas {
		if v.start <= addr && addr < v.end && v.shared {
			shared = true
		}
	}
	p.mm.mu.Unlock()
	if shared {
		return errEIO
	}
	return f.m.Load(addr, b)
}
