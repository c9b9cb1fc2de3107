package north

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// mseal(2) (mm/mseal.c, Linux 6.10): sealed memory keeps its mapping
// and protection for the life of the address space. munmap, mprotect,
// pkey_mprotect, mremap, an mmap with MAP_FIXED over it, and brk
// shrinking into it fail EPERM, as does madvise's discarding advice on
// sealed private anonymous memory the caller may not write. A fork's
// copy stays sealed; execve's new address space is not.

func init() { registerAll([]call{{462, sysMseal}}) }

func sysMseal(t *Task, a *[6]uint64) int64 {
	start, lenIn, flags := a[0], a[1], a[2]
	if flags != 0 || start%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	length := pageUp(lenIn)
	if lenIn != 0 && length == 0 {
		return -linux.EINVAL
	}
	end := start + length
	if end < start {
		return -linux.EINVAL
	}
	if end == start {
		return 0
	}
	p := t.p
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	if !p.covered(start, length) {
		return -linux.ENOMEM // range_contains_unmapped
	}
	p.mm.seal(start, end)
	return 0
}

// seal adds [start, end) to the sealed ranges, kept sorted and merged.
// The caller holds s.mu.
func (s *mmState) seal(start, end uint64) {
	var out []span
	placed := false
	for _, r := range s.sealed {
		switch {
		case r.end < start:
			out = append(out, r)
		case r.start > end:
			if !placed {
				out = append(out, span{start, end})
				placed = true
			}
			out = append(out, r)
		default:
			start, end = min(start, r.start), max(end, r.end)
		}
	}
	if !placed {
		out = append(out, span{start, end})
	}
	s.sealed = out
}

// withoutSpans is the ranges of a less those of b (both sorted and
// disjoint).
func withoutSpans(a, b []span) []span {
	var out []span
	for _, r := range a {
		for _, x := range b {
			if x.end <= r.start || x.start >= r.end {
				continue
			}
			if x.start > r.start {
				out = append(out, span{r.start, x.start})
			}
			r.start = x.end
			if r.start >= r.end {
				break
			}
		}
		if r.start < r.end {
			out = append(out, r)
		}
	}
	return out
}

// sealedIn reports whether any of [start, end) is sealed. The caller
// holds s.mu.
func (s *mmState) sealedIn(start, end uint64) bool {
	for _, r := range s.sealed {
		if r.start < end && start < r.end {
			return true
		}
	}
	return false
}

// mremapSealed is mremap's EPERM for sealed memory: the old range (the
// mapping at old for a duplicate, old_len 0) or, with MREMAP_FIXED, the
// range it would replace.
func (p *Process) mremapSealed(old, oldLen, newAddr, newLen, flags uint64) int64 {
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	if len(p.mm.sealed) == 0 {
		return 0
	}
	if p.mm.sealedIn(old, old+max(oldLen, mem.PageSize)) ||
		flags&mremapFixed != 0 && p.mm.sealedIn(newAddr, newAddr+newLen) {
		return -linux.EPERM
	}
	return 0
}

// madvDiscards reports whether madvise advice discards memory (mm/
// madvise.c is_discard): FREE, DONTNEED, DONTNEED_LOCKED, REMOVE,
// DONTFORK, WIPEONFORK, GUARD_INSTALL.
func madvDiscards(advice uint64) bool {
	switch advice {
	case linux.MadvFree, linux.MadvDontneed, 24, madvRemove, madvDontfork, madvWipeonfork, 102:
		return true
	}
	return false
}

// sealedDiscard reports whether madvise's discarding advice meets
// sealed private anonymous memory without write permission
// (can_madvise_modify): EPERM. The caller holds p.mm.mu.
func (p *Process) sealedDiscard(addr, end uint64) bool {
	for _, r := range p.mm.sealed {
		s, e := max(r.start, addr), min(r.end, end)
		for a := s; a < e; a += mem.PageSize {
			if p.mm.find(a) >= 0 {
				continue // a file's or shared memory: allowed
			}
			if prot, _, ok := p.protAt(a); ok && prot&mem.Write == 0 {
				return true
			}
		}
	}
	return false
}
