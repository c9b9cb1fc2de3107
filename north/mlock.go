package north

// Locked memory as Linux accounts it (mm_struct's locked_vm, VmLck of
// /proc/PID/status): the ranges mlock, mlock2, MAP_LOCKED and, after
// mlockall(MCL_FUTURE), every new mapping lock (VM_LOCKED). Pages never
// leave memory here, so a lock changes nothing but this count; munlock,
// munlockall and unmapping (munmap, MAP_FIXED, shrinking brk or mremap,
// shmdt) end it. A forked child and an execed program start with none
// (mm/mmap.c dup_mmap clears VM_LOCKED; exec makes a new mm).

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
