package north

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

func init() {
	register(linux.SysMmap, sysMmap)
	register(linux.SysMunmap, sysMunmap)
	register(linux.SysMprotect, sysMprotect)
	register(linux.SysMadvise, sysMadvise)
	register(12, sysBrk)    // brk
	register(25, sysMremap) // mremap
	register(26, sysNop)    // msync
	register(149, sysNop)   // mlock
	register(150, sysNop)   // munlock
	register(325, sysNop)   // mlock2
}

// brkLimit bounds the program break's growth.
const brkLimit = 1 << 30

func sysNop(t *Task, a *[6]uint64) int64 { return 0 }

// mmap: anonymous memory, or a private copy of a file's contents (there
// are no shared file mappings).
func sysMmap(t *Task, a *[6]uint64) int64 {
	addr, length, prot, flags, fd, off := a[0], a[1], a[2], a[3], int32(a[4]), a[5]
	const protGrowsdown, protGrowsup = 0x01000000, 0x02000000
	prot &^= protGrowsdown | protGrowsup
	if length == 0 || prot&^7 != 0 || off%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	if flags&(linux.MapShared|linux.MapPrivate) == 0 {
		return -linux.EINVAL
	}
	if length > 1<<46 {
		return -linux.ENOMEM
	}
	fixed := flags&linux.MapFixed != 0
	if fixed && addr%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	if flags&linux.MapFixedNoreplace != 0 {
		if addr%mem.PageSize != 0 {
			return -linux.EINVAL
		}
		fixed = true
		// Without a query for "is this free", map elsewhere first: if the
		// kernel honours the hint exactly, the range was free.
		got, err := t.p.m.Map(addr, length, mem.Prot(prot), false)
		if err != nil {
			return errno(err)
		}
		if got != addr {
			t.p.m.Unmap(got, length)
			return -linux.EEXIST
		}
		return t.fillFromFile(got, length, prot, flags, fd, off)
	}
	got, err := t.p.m.Map(addr, length, mem.Prot(prot), fixed)
	if err != nil {
		return errno(err)
	}
	return t.fillFromFile(got, length, prot, flags, fd, off)
}

// fillFromFile copies a file's contents into a fresh mapping.
func (t *Task) fillFromFile(addr, length, prot, flags uint64, fd int32, off uint64) int64 {
	if flags&linux.MapAnonymous != 0 {
		return int64(addr)
	}
	if t.p.files == nil {
		t.p.m.Unmap(addr, length)
		return -linux.EBADF
	}
	// Read through pread64 into the mapping (Load ignores protection, so
	// read-only and executable mappings work too).
	buf := make([]byte, 1<<16)
	done := uint64(0)
	for done < length {
		n := uint64(len(buf))
		if length-done < n {
			n = length - done
		}
		r := t.preadKernel(fd, buf[:n], off+done)
		if r < 0 {
			t.p.m.Unmap(addr, length)
			if r == -linux.ESPIPE {
				return -linux.ENODEV
			}
			return r
		}
		if r == 0 {
			break
		}
		if err := t.p.m.Load(addr+done, buf[:r]); err != nil {
			t.p.m.Unmap(addr, length)
			return errno(err)
		}
		done += uint64(r)
	}
	return int64(addr)
}

func sysMunmap(t *Task, a *[6]uint64) int64 {
	addr, length := a[0], a[1]
	if addr%mem.PageSize != 0 || length == 0 {
		return -linux.EINVAL
	}
	return errno(t.p.m.Unmap(addr, length))
}

func sysMprotect(t *Task, a *[6]uint64) int64 {
	addr, length, prot := a[0], a[1], a[2]
	prot &^= 0x01000000 | 0x02000000
	if addr%mem.PageSize != 0 || prot&^7 != 0 {
		return -linux.EINVAL
	}
	if length == 0 {
		return 0
	}
	return errno(t.p.m.Protect(addr, pageUp(length), mem.Prot(prot)))
}

// zapper drops a range's pages but keeps the mapping (MADV_DONTNEED).
type zapper interface {
	Zap(addr, length uint64) error
}

func sysMadvise(t *Task, a *[6]uint64) int64 {
	addr, length, advice := a[0], a[1], a[2]
	if addr%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	if advice == linux.MadvDontneed || advice == linux.MadvFree {
		if z, ok := t.p.m.(zapper); ok && length > 0 {
			return errno(z.Zap(addr, pageUp(length)))
		}
	}
	return 0
}

// sysBrk moves the program break. It never fails: like Linux, it returns
// the unchanged break when it cannot move it.
func sysBrk(t *Task, a *[6]uint64) int64 {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	want := a[0]
	if want < p.brkStart || want > p.brkStart+brkLimit {
		return int64(p.brk)
	}
	oldTop, newTop := pageUp(p.brk), pageUp(want)
	switch {
	case newTop > oldTop:
		if _, err := p.m.Map(oldTop, newTop-oldTop, mem.Read|mem.Write, true); err != nil {
			return int64(p.brk)
		}
	case newTop < oldTop:
		p.m.Unmap(newTop, oldTop-newTop)
	}
	p.brk = want
	return int64(p.brk)
}

// sysMremap is not supported; ENOMEM makes allocators fall back to
// allocate-and-copy.
func sysMremap(t *Task, a *[6]uint64) int64 { return -linux.ENOMEM }

func (t *Task) preadKernel(fd int32, buf []byte, off uint64) int64 {
	return t.p.files.Pread(fd, buf, off)
}
