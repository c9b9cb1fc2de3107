package north

// What fork does with a range by madvise (mm/madvise.c
// madvise_vma_behavior, kernel/fork.c dup_mmap): MADV_DONTFORK
// (VM_DONTCOPY) leaves it out of the child, which finds nothing mapped
// there; MADV_WIPEONFORK (VM_WIPEONFORK, private anonymous memory only)
// gives the child zero pages there, and the child keeps the advice.
// MADV_DOFORK and MADV_KEEPONFORK take them back. The advice is the
// mapping's: unmapping or replacing the range ends it, mremap moves it,
// execve's new address space has none.

import "github.com/cocoon-vm/cocoon/kernel/linux"

// spanSet adds [start, end) to the sorted, disjoint spans of *set, or
// removes it (on false).
func spanSet(set *[]span, start, end uint64, on bool) {
	var keep []span
	for _, l := range *set {
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
	if on {
		i := 0
		for i < len(keep) && keep[i].start < start {
			i++
		}
		keep = append(keep, span{})
		copy(keep[i+1:], keep[i:])
		keep[i] = span{start, end}
	}
	*set = keep
}

// clearAdvice ends the fork advice of [start, end), unmapped or
// replaced, and its being droppable. The caller holds s.mu.
func (s *mmState) clearAdvice(start, end uint64) {
	for _, set := range []*[]span{&s.dontfork, &s.wipeonfork, &s.drop, &s.grows, &s.vdso, &s.vvar} {
		if len(*set) > 0 {
			spanSet(set, start, end, false)
		}
	}
}

// droppable records [start, end) as MAP_DROPPABLE memory: wiped on fork
// for good (KEEPONFORK is EINVAL), never locked. The caller holds s.mu.
func (s *mmState) droppable(start, end uint64) {
	spanSet(&s.drop, start, end, true)
	spanSet(&s.wipeonfork, start, end, true)
}

// moveAdvice moves the fork advice of [from, from+length) to to (mremap);
// keep leaves it at from too (MREMAP_DONTUNMAP). The caller holds s.mu.
func (s *mmState) moveAdvice(from, to, length uint64, keep bool) {
	for _, set := range []*[]span{&s.dontfork, &s.wipeonfork, &s.drop, &s.grows, &s.vdso, &s.vvar} {
		var moved []span
		for _, l := range *set {
			if lo, hi := max(from, l.start), min(from+length, l.end); lo < hi {
				moved = append(moved, span{lo - from + to, hi - from + to})
			}
		}
		if !keep {
			spanSet(set, from, from+length, false)
		}
		for _, m := range moved {
			spanSet(set, m.start, m.end, true)
		}
	}
}

// forkAdvice is madvise's MADV_DONTFORK, DOFORK, WIPEONFORK and
// KEEPONFORK over [addr, addr+length): the mapped parts take it, a hole
// makes ENOMEM after (madvise_walk_vmas); WIPEONFORK on a file or shared
// mapping is EINVAL.
func (p *Process) forkAdvice(addr, length, advice uint64) int64 {
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	if advice == madvKeeponfork {
		for _, l := range p.mm.drop {
			if l.start < addr+length && addr < l.end {
				return -linux.EINVAL // VM_DROPPABLE
			}
		}
	}
	if advice == madvWipeonfork {
		for _, v := range p.mm.vmas {
			if v.start < addr+length && addr < v.end {
				return -linux.EINVAL // vm_file or VM_SHARED
			}
		}
	}
	mapped := []span{{addr, addr + length}}
	if r, ok := p.m.(rssCounter); ok {
		mapped = nil
		r.Regions(func(start, end uint64, _ uint8, _ bool) {
			if lo, hi := max(addr, start), min(addr+length, end); lo < hi {
				if n := len(mapped); n > 0 && mapped[n-1].end == lo {
					mapped[n-1].end = hi
				} else {
					mapped = append(mapped, span{lo, hi})
				}
			}
		})
	}
	set, on := &p.mm.dontfork, true
	switch advice {
	case madvDofork:
		on = false
	case madvWipeonfork:
		set = &p.mm.wipeonfork
	case madvKeeponfork:
		set, on = &p.mm.wipeonfork, false
	}
	covered := uint64(0)
	for _, m := range mapped {
		spanSet(set, m.start, m.end, on)
		covered += m.end - m.start
	}
	if covered != length {
		return -linux.ENOMEM
	}
	return 0
}

// forkAdvised applies the parent's fork advice to child c, whose address
// space m is a copy of the parent's: the MADV_DONTFORK ranges leave it,
// the MADV_WIPEONFORK ones lose their pages (zero when next touched) and
// stay advised.
func (c *Process) forkAdvised(m Machine, dontfork, wipeonfork, drop, grows []span) {
	c.mm.mu.Lock()
	defer c.mm.mu.Unlock()
	c.mm.wipeonfork, c.mm.drop, c.mm.grows = wipeonfork, drop, grows
	for _, l := range dontfork {
		c.mm.forget(m, l.start, l.end)
		m.Unmap(l.start, l.end-l.start)
	}
	if ps, ok := m.(pagedSpace); ok {
		for _, l := range c.mm.wipeonfork {
			ps.Zap(l.start, l.end-l.start)
		}
	}
}

// inSpans reports whether addr is in one of spans.
func inSpans(spans []span, addr uint64) bool {
	for _, l := range spans {
		if l.start <= addr && addr < l.end {
			return true
		}
	}
	return false
}
