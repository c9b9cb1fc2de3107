package north

import (
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/north/mem"
)

// Resident memory as Linux accounts it (mm_struct's rss_stat, shown by
// /proc/PID/status and stat, getrusage's ru_maxrss): the pages mapped to
// frames. A mapping of the shared zero page (a read of untouched private
// anonymous memory) is not resident. RssAnon is private memory (anonymous
// mappings and private copies of file pages), RssFile a file's page-cache
// pages, RssShmem shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS,
// SysV) and the pages of tmpfs files (those not from the archive:
// vfs.Mapping.Shmem), as Linux counts swap-backed pages. As Linux's fork (mm/memory.c
// vma_needs_copy), a forked child starts without the pages of shared
// mappings and of private file mappings holding no private copy: they
// count once it faults them in again (kernel/fork.go), a window of 16 at
// a time (faultAround).

// shmemPager is a Pager that tells whether its pages are a tmpfs file's
// (vfs.Mapping.Shmem).
type shmemPager interface{ Shmem() bool }

// rssCounter is a Machine that counts its resident pages (the kernel's
// Space; the host tests' fakes do not).
type rssCounter interface {
	RSS() (pages, peak uint64)
	Resident(start, end uint64, copies bool) uint64
	Regions(fn func(start, end uint64, prot uint8, filled bool))
}

// rssStat is a process's resident pages by kind and their high-water
// mark (hiwater_rss), in pages. total is the kernel's running count;
// the kinds are counted in the page tables when asked, so that a count
// gone wrong shows as kinds that do not add up to it.
type rssStat struct {
	total, anon, file, shmem, peak uint64
}

// rss returns the resident pages of the process's address space; false
// when its address space does not count them or is gone.
func (p *Process) rss() (rssStat, bool) {
	if p.LiveFiles() == nil {
		return rssStat{}, false
	}
	c, ok := p.m.(rssCounter)
	if !ok {
		return rssStat{}, false
	}
	var r rssStat
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	r.total, r.peak = c.RSS()
	c.Regions(func(start, end uint64, _ uint8, filled bool) {
		if !filled {
			r.anon += c.Resident(start, end, false)
		}
	})
	for _, v := range p.mm.vmas {
		file := &r.file
		if sp, ok := v.pager.(shmemPager); v.shmem || ok && sp.Shmem() {
			file = &r.shmem
		}
		switch all := c.Resident(v.start, v.end, false); {
		case v.shared:
			*file += all
		default:
			copies := c.Resident(v.start, v.end, true)
			r.anon += copies
			*file += all - copies
		}
	}
	r.peak = max(r.peak, r.total)
	return r, true
}

// maxRSS is the process's ru_maxrss in pages: the high-water mark of its
// address space and of those it left by execve (fs/exec.c exec_mmap,
// setmax_mm_hiwater_rss).
func (p *Process) maxRSS() uint64 {
	m := p.maxrss.Load()
	if r, ok := p.rss(); ok {
		m = max(m, r.peak)
	}
	return m
}

// leaveSpace records the high-water mark of address space m, which the
// process leaves (execve, exit), in its maxrss.
func (p *Process) leaveSpace(m Machine) {
	if c, ok := m.(rssCounter); ok {
		_, peak := c.RSS()
		atomicMax(&p.maxrss, peak)
	}
}

// reapRSS folds a reaped child's maxrss into the process's cmaxrss
// (kernel/exit.c wait_task_zombie).
func (p *Process) reapRSS(c *Process) {
	atomicMax(&p.cmaxrss, max(c.maxrss.Load(), c.cmaxrss.Load()))
}

func atomicMax(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// kib converts pages to KiB, the unit of /proc and ru_maxrss.
func kib(pages uint64) uint64 { return pages * mem.PageSize >> 10 }
