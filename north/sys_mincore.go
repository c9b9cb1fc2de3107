package north

import (
	"sort"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// mincore(2) (mm/mincore.c): a byte per page of a mapped range, 1 where
// the page is resident. Anonymous memory is resident where a frame backs
// it; a file's pages are where the file has data (every file here lives
// in memory: its page cache is the file), shared anonymous memory where
// this address space has the page.

func init() { registerAll([]call{{27, sysMincore}}) }

// mincoreSpace is what mincore needs of an address space: its regions in
// address order and the resident pages of a range (the kernel's Space).
type mincoreSpace interface {
	Regions(fn func(start, end uint64, prot uint8, filled bool))
	Resident(start, end uint64, copies bool) uint64
}

func sysMincore(t *Task, a *[6]uint64) int64 {
	start, length, vec := a[0], a[1], a[2]
	p := t.p
	if start%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	// access_ok: the range within user memory, then the vector.
	if length > taskSizeMax || start > taskSizeMax-length {
		return -linux.ENOMEM
	}
	pages := (length + mem.PageSize - 1) / mem.PageSize
	if pages > taskSizeMax || vec > taskSizeMax-pages {
		return -linux.EFAULT
	}
	if pages == 0 {
		return 0
	}
	s, ok := p.m.(mincoreSpace)
	if !ok {
		return p.unsupported("mincore without page tables", -linux.ENOSYS)
	}
	// As Linux does, a page of the vector at a time: the residency of up
	// to 4096 pages found with the layout locked, then copied out with it
	// unlocked (a copy that faults in a file's page takes p.mm.mu).
	buf := make([]byte, 0, min(pages, 4096))
	addr, end := start, start+pages*mem.PageSize
	for addr < end {
		p.mm.mu.Lock()
		buf, hole := p.mincoreChunk(s, buf[:0], addr, min(end, addr+4096*mem.PageSize))
		p.mm.mu.Unlock()
		if len(buf) > 0 && p.m.CopyOut(vec, buf) != nil {
			return -linux.EFAULT
		}
		if hole {
			return -linux.ENOMEM // vma_lookup found nothing: the pages before it reported
		}
		vec += uint64(len(buf))
		addr += uint64(len(buf)) * mem.PageSize
	}
	return 0
}

// mincoreChunk appends to b a byte per page of [addr, end) up to the
// first unmapped one, and reports whether it met one. The caller holds
// p.mm.mu.
func (p *Process) mincoreChunk(s mincoreSpace, b []byte, addr, end uint64) ([]byte, bool) {
	type region struct{ start, end uint64 }
	var regions []region
	s.Regions(func(start, end uint64, _ uint8, _ bool) { regions = append(regions, region{start, end}) })
	sort.Slice(regions, func(i, j int) bool { return regions[i].start < regions[j].start })
	for addr < end {
		i := sort.Search(len(regions), func(i int) bool { return regions[i].end > addr })
		if i == len(regions) || regions[i].start > addr {
			return b, true
		}
		stop := min(regions[i].end, end)
		for addr < stop {
			next := stop
			v := p.vmaAtLocked(addr)
			if v != nil {
				next = min(next, v.end)
			} else if j := p.vmaAfterLocked(addr); j != nil {
				next = min(next, j.start)
			}
			if v != nil && !v.shmem {
				// A file's pages: those it has data for.
				size := uint64(v.pager.Size())
				for ; addr < next; addr += mem.PageSize {
					off := uint64(v.pgoff)*mem.PageSize + addr - v.start
					b = appendFlag(b, off < size)
				}
				continue
			}
			b = residency(s, b, addr, next)
			addr = next
		}
	}
	return b, false
}

func appendFlag(b []byte, set bool) []byte {
	if set {
		return append(b, 1)
	}
	return append(b, 0)
}

// residency appends a byte per page of [start, end), 1 for the resident
// ones, asking for whole halves at a time: a range with none or all of
// its pages resident is filled at once.
func residency(s mincoreSpace, b []byte, start, end uint64) []byte {
	n := (end - start) / mem.PageSize
	if n == 0 {
		return b
	}
	r := s.Resident(start, end, false)
	if r == 0 || r == n {
		v := byte(0)
		if r == n {
			v = 1
		}
		for range n {
			b = append(b, v)
		}
		return b
	}
	mid := start + n/2*mem.PageSize
	return residency(s, residency(s, b, start, mid), mid, end)
}

// vmaAtLocked is the file-backed range holding addr, or nil; with
// p.mm.mu held.
func (p *Process) vmaAtLocked(addr uint64) *fileVMA {
	vs := p.mm.vmas
	i := sort.Search(len(vs), func(i int) bool { return vs[i].end > addr })
	if i < len(vs) && vs[i].start <= addr {
		return vs[i]
	}
	return nil
}

// vmaAfterLocked is the first file-backed range starting above addr, or
// nil; with p.mm.mu held.
func (p *Process) vmaAfterLocked(addr uint64) *fileVMA {
	vs := p.mm.vmas
	i := sort.Search(len(vs), func(i int) bool { return vs[i].start > addr })
	if i < len(vs) {
		return vs[i]
	}
	return nil
}
