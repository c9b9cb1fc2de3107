package north

// Locked memory as Linux accounts it (mm_struct's locked_vm, VmLck of
// /proc/PID/status): the ranges mlock, mlock2, MAP_LOCKED and, after
// mlockall(MCL_FUTURE), every new mapping lock (VM_LOCKED). Pages never
// leave memory here, so a lock changes nothing but this count; munlock,
// munlockall and unmapping (munmap, MAP_FIXED, shrinking brk or mremap,
// shmdt) end it. A forked child and an execed program start with none
// (mm/mmap.c dup_mmap clears VM_LOCKED; exec makes a new mm).

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// span is a page-aligned range [start, end).
type span struct{ start, end uint64 }

// lock adds [start, end) to the locked ranges. The caller holds s.mu.
func (s *mmState) lock(start, end uint64) {
	s.unlock(start, end)
	i := 0
	for i < len(s.locked) && s.locked[i].start < start {
		i++
	}
	s.locked = append(s.locked, span{})
	copy(s.locked[i+1:], s.locked[i:])
	s.locked[i] = span{start, end}
	for _, d := range s.drop {
		s.unlock(d.start, d.end) // mlock_fixup leaves VM_DROPPABLE unlocked
	}
}

// unlock removes [start, end) from the locked ranges. The caller holds
// s.mu.
func (s *mmState) unlock(start, end uint64) {
	var keep []span
	for _, l := range s.locked {
		if l.end <= start || l.start >= end {
			keep = append(keep, l)
			continue
		}
		if l.start < start {
			keep = append(keep, span{l.start, start})
		}
		if l.end > end {
			keep = append(keep, span{end, l.end})
		}
	}
	s.locked = keep
}

// lockedIn counts the locked bytes of [start, end). The caller holds
// s.mu.
func (s *mmState) lockedIn(start, end uint64) uint64 {
	n := uint64(0)
	for _, l := range s.locked {
		if lo, hi := max(start, l.start), min(end, l.end); lo < hi {
			n += hi - lo
		}
	}
	return n
}

// lockNew locks a new mapping [start, end) when MAP_LOCKED asks or
// mlockall(MCL_FUTURE) did (mm->def_flags). The caller holds s.mu.
func (s *mmState) lockNew(start, end uint64, mapLocked bool) {
	if mapLocked || s.lockFuture {
		s.lock(start, end)
	}
}

// Resource and capability of locking (include/uapi/asm-generic/resource.h,
// include/uapi/linux/capability.h).
const (
	rlimitMemlock = 8
	capIPCLock    = 14
)

// mayLock says whether the process may lock [start, end) more: EPERM
// when RLIMIT_MEMLOCK is 0, ENOMEM when the locked memory would pass it,
// unless it holds CAP_IPC_LOCK (mm/mlock.c can_do_mlock, do_mlock; what
// is already locked in the range counts once). The caller holds
// p.mm.mu.
func (p *Process) mayLock(start, end uint64) int64 {
	p.mu.Lock()
	capable := p.cred.capable(capIPCLock)
	p.mu.Unlock()
	if capable {
		return 0
	}
	limit := p.rlimit(rlimitMemlock)
	if limit == 0 {
		return -linux.EPERM
	}
	locked := end - start - p.mm.lockedIn(start, end)
	for _, l := range p.mm.locked {
		locked += l.end - l.start
	}
	if locked/mem.PageSize > limit/mem.PageSize {
		return -linux.ENOMEM
	}
	return 0
}
