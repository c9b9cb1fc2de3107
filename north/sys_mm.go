package north

import (
	"slices"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// mmCalls are the system calls this file serves (registerAll).
var mmCalls = [...]call{
	{linux.SysMmap, sysMmap},
	{linux.SysMunmap, sysMunmap},
	{linux.SysMprotect, sysMprotect},
	{linux.SysMadvise, sysMadvise},
	{12, sysBrk},    // brk
	{25, sysMremap}, // mremap
	{26, sysMsync},  // msync
	{216, sysRemapFilePages},
	{149, sysMlock}, // mlock
	{150, sysMunlock},
	{325, sysMlock2},
	{151, sysMlockall},
	{152, sysMunlockall},
}

func init() { registerAll(mmCalls[:]) }

// mmap flags beyond kernel/linux's (include/uapi/asm-generic/mman-common.h,
// mman.h, linux/mman.h).
const (
	mapSharedValidate = 0x03
	mapTypeMask       = 0x0f
	mapGrowsdown      = 0x0100
	mapDenywrite      = 0x0800
	mapExecutable     = 0x1000
	mapLocked         = 0x2000
	mapNoreserve      = 0x4000
	mapPopulate       = 0x8000
	mapNonblock       = 0x10000
	mapStack          = 0x20000
	mapHugetlb        = 0x40000
	mapSync           = 0x80000
	mapUninitialized  = 0x4000000
	mapDroppable      = 0x08 // a mapping type: private anonymous memory the kernel may drop
	// The flags MAP_SHARED_VALIDATE checks (LEGACY_MAP_MASK, with
	// MAP_32BIT, MAP_ABOVE4G, MAP_HUGE_2MB|MAP_HUGE_1GB's bits, and
	// MAP_FIXED_NOREPLACE; MAP_SYNC needs DAX: EOPNOTSUPP).
	mapKnown = linux.MapShared | linux.MapPrivate | linux.MapFixed | linux.MapAnonymous |
		mapDenywrite | mapExecutable | mapGrowsdown | mapLocked | mapNoreserve | mapPopulate |
		mapNonblock | mapStack | mapHugetlb | linux.MapFixedNoreplace | mapUninitialized | 0x40 | 0x80 |
		(21|30)<<26
)

// Resource limits on memory (include/uapi/asm-generic/resource.h).
const (
	rlimitData = 2
	rlimitAS   = 9
)

// rlimit returns the soft limit of resource res (infinity if unset).
func (p *Process) rlimit(res uint64) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.rlimits[res]; ok {
		return l[0]
	}
	return p.defaultRlimit(res)[0]
}

// defaultRlimit is the limit a process starts with: Linux's for init
// where one matters here (open files 1024/4096, stack 8 MiB, core files
// 0, locked memory 8 MiB; pending signals half of max_threads, which
// kernel/fork.c sets to a thread per 32 pages of RAM), else infinity.
func (p *Process) defaultRlimit(res uint64) [2]uint64 {
	switch res {
	case linux.RlimitNofile:
		return [2]uint64{1024, 4096}
	case 3: // RLIMIT_STACK
		return [2]uint64{8 << 20, ^uint64(0)}
	case 4: // RLIMIT_CORE: no core files are written
		return [2]uint64{0, ^uint64(0)}
	case 13, 14: // RLIMIT_NICE, RLIMIT_RTPRIO: 0 (include/asm-generic/resource.h INIT_RLIMITS)
		return [2]uint64{0, 0}
	case rlimitMemlock: // MLOCK_LIMIT (include/uapi/linux/resource.h)
		return [2]uint64{8 << 20, 8 << 20}
	case rlimitSigpending:
		if n := p.cfg.RAM / mem.PageSize / 64; n > 0 {
			return [2]uint64{n, n}
		}
	}
	return [2]uint64{^uint64(0), ^uint64(0)}
}

// Overcommit policies, the values of vm.overcommit_memory
// (include/uapi/linux/mman.h; Documentation/mm/overcommit-accounting.rst).
// OVERCOMMIT_NEVER (2, strict accounting) is not implemented.
const (
	// OvercommitGuess refuses one mapping that must be backed and is
	// larger than all of RAM: Linux's default.
	OvercommitGuess = 0
	// OvercommitAlways accepts every mapping; a page is taken when first
	// touched, and a process that touches one when none is left is
	// killed (SIGKILL, status 137), as by Linux's OOM killer.
	OvercommitAlways = 1
)

// mayGrow says whether the address space may grow by length bytes, data
// of them private writable ones: ENOMEM beyond RLIMIT_AS or RLIMIT_DATA
// (mm/mmap.c may_expand_vm), or, under OvercommitGuess, beyond all of
// RAM for memory that must be backed (mm/util.c __vm_enough_memory).
func (p *Process) mayGrow(length, data uint64) bool { return p.mayGrowIn(p.m, length, data) }

// mayGrowIn is mayGrow for address space m.
func (p *Process) mayGrowIn(m Machine, length, data uint64) bool {
	if p.cfg.Overcommit == OvercommitGuess && p.cfg.RAM > 0 && data > p.cfg.RAM {
		return false
	}
	as, dl := p.rlimit(rlimitAS), p.rlimit(rlimitData)
	if as == ^uint64(0) && dl == ^uint64(0) {
		return true
	}
	ps, ok := m.(pagedSpace)
	if !ok {
		return true
	}
	total, d := ps.Usage()
	return total+length <= as && d+data <= dl
}

// mmap: anonymous memory (the kernel's), or pages of a file, shared or
// copy-on-write (mm.go).
func sysMmap(t *Task, a *[6]uint64) int64 {
	addr, length, prot, flags, fd, off := a[0], a[1], a[2], a[3], int32(a[4]), a[5]
	const protGrowsdown, protGrowsup = 0x01000000, 0x02000000
	prot &^= protGrowsdown | protGrowsup
	if length == 0 || prot&^7 != 0 || off%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	if mem.KernelShort() {
		return -linux.ENOMEM // vm_area_alloc failed
	}
	shared, droppable := false, false
	switch flags & mapTypeMask {
	case linux.MapShared:
		shared = true
	case mapSharedValidate:
		// mm/mmap.c do_mmap: a file's mapping only (the descriptor
		// checked first), with no flag beyond those it knows.
		if flags&linux.MapAnonymous != 0 {
			return -linux.EINVAL
		}
		if flags&^mapKnown&^mapSharedValidate != 0 {
			if t.files == nil {
				return -linux.EBADF
			}
			pg, _, e := t.files.Map(fd, nil)
			if e == -linux.EBADF {
				return e
			}
			if e == 0 {
				pg.Unmap()
			}
			return -linux.EOPNOTSUPP
		}
		shared = true
	case linux.MapPrivate:
	case mapDroppable:
		// Private anonymous memory the kernel may drop under pressure
		// (VM_DROPPABLE): this kernel keeps it, which the contract
		// allows; a child gets it zeroed (VM_WIPEONFORK).
		if flags&linux.MapAnonymous == 0 || flags&(mapLocked|mapHugetlb|mapGrowsdown) != 0 {
			return -linux.EINVAL
		}
		droppable = true
	default:
		return -linux.EINVAL
	}
	if shared && flags&linux.MapAnonymous != 0 && flags&mapGrowsdown != 0 {
		return -linux.EINVAL
	}
	if flags&mapHugetlb != 0 {
		return -linux.EINVAL // no huge page pool (hugetlbfs)
	}
	if length > 1<<46 {
		return -linux.ENOMEM
	}
	length = pageUp(length)
	if off+length < off {
		return -linux.EOVERFLOW
	}
	if flags&(linux.MapFixed|linux.MapFixedNoreplace) != 0 && addr%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	if flags&linux.MapAnonymous == 0 && t.files != nil && t.files.MapsAnonymous(fd) {
		flags |= linux.MapAnonymous // /dev/zero (drivers/char/mem.c mmap_zero)
	}
	anon := flags&linux.MapAnonymous != 0
	var data uint64
	if prot&uint64(mem.Write) != 0 && (!shared || anon) && flags&mapNoreserve == 0 {
		data = length
	}
	p := t.p
	got := func() (got int64) {
		p.mm.mu.Lock()
		defer p.mm.mu.Unlock()
		if flags&linux.MapFixed != 0 && p.mm.sealedIn(addr, addr+length) {
			return -linux.EPERM // mmap_region cannot unmap sealed memory
		}
		if !p.mayGrow(length, data) {
			return -linux.ENOMEM
		}
		if (flags&mapLocked != 0 || p.mm.lockFuture) && p.mayLock(0, length) < 0 {
			return -linux.EAGAIN // mm/mmap.c mlock_future_ok
		}
		defer func() {
			if got >= 0 && flags&mapGrowsdown != 0 {
				spanSet(&p.mm.grows, uint64(got), uint64(got)+length, true)
			}
			if got >= 0 && !droppable { // mlock_fixup leaves VM_DROPPABLE unlocked
				p.mm.lockNew(uint64(got), uint64(got)+length, flags&mapLocked != 0)
			}
		}()
		fixed := flags&linux.MapFixed != 0
		if flags&linux.MapFixedNoreplace != 0 {
			fixed = false
			if !p.rangeFree(addr, length) {
				return -linux.EEXIST
			}
		}
		if !fixed && flags&linux.MapFixedNoreplace == 0 {
			addr = p.outsideStackGap(addr, length)
		}
		if flags&map32bit != 0 && !fixed && flags&linux.MapFixedNoreplace == 0 {
			a, placed, ok := p.place32(addr, length)
			if !ok {
				return -linux.ENOMEM
			}
			addr, fixed = a, placed
		}
		if anon && !shared {
			if fixed {
				p.forget(addr, addr+length)
			}
			got, err := p.m.Map(addr, length, mem.Prot(prot), fixed)
			if err != nil {
				return errno(err)
			}
			if droppable {
				p.mm.droppable(uint64(got), uint64(got)+length)
			}
			return int64(got)
		}
		return t.mapPaged(addr, length, prot, flags, fd, off, shared, fixed)
	}()
	if got < 0 {
		return got
	}
	// Populated once mm.mu is free, as Linux's vm_mmap_pgoff calls
	// mm_populate after mmap_write_unlock: a file page's fault
	// (fillPage) takes mm.mu, and with it held, MAP_POPULATE of a file or
	// of shared anonymous memory waited on itself for ever, taking every
	// other thread's mmap with it (fuzzer seed 1267).
	return p.populate(uint64(got), length, flags)
}

// Where mappings go (arch/x86/mm/mmap.c): top-down below the stack, its
// RLIMIT_STACK and the guard gap, between 128 MiB and five sixths of the
// address space below its top; bottom-up from a third of it for a
// program started with ADDR_COMPAT_LAYOUT (x86's mmap_is_legacy: not for
// an unlimited RLIMIT_STACK, as the generic one). No randomization: this
// kernel has no ASLR (Linux with randomize_va_space 0).
const (
	stackGuardGap = 256 * mem.PageSize // stack_guard_gap
	mmapGapMin    = 128 << 20          // SIZE_128M
)

// mmapLayouter is a Machine that places mappings as setMmapBase says
// (the kernel's Space).
type mmapLayouter interface {
	SetMmapBase(base uint64) error
	FindFree(lo, hi, length uint64) (uint64, bool)
}

// setMmapBase sets where the mappings of m, a program's new address
// space whose stack ends at top, go (arch_pick_mmap_layout; compat: the
// legacy layout).
func (p *Process) setMmapBase(m Machine, top uint64, compat bool) {
	l, ok := m.(mmapLayouter)
	if !ok || top == 0 {
		return
	}
	base := uint64(0)
	if !compat {
		base = mmapBase(top, p.rlimit(3))
	}
	l.SetMmapBase(base)
}

// mmapBase is mmap_base for a stack ending at top with RLIMIT_STACK rlim.
func mmapBase(top, rlim uint64) uint64 {
	gap := rlim + stackGuardGap
	if gap < rlim {
		gap = ^uint64(0)
	}
	gap = min(max(gap, mmapGapMin), top/6*5)
	return (top - gap) &^ (mem.PageSize - 1)
}

// outsideStackGap returns hint addr for a mapping of length bytes, or 0
// if the range there reaches into the guard gap below the stack
// (vm_start_gap: get_unmapped_area takes no hint there).
func (p *Process) outsideStackGap(addr, length uint64) uint64 {
	lo, gap := p.mm.stack[0], p.mm.stack[2]
	if lo != 0 && addr < lo && addr+length > lo-min(gap, lo) {
		return 0
	}
	return addr
}

// MAP_32BIT's window (arch/x86/kernel/sys_x86_64.c find_start_end): the
// second gigabyte, searched bottom-up whatever the layout.
const (
	map32bit   = 0x40
	map32Start = 0x40000000
	map32End   = 0x80000000
)

// place32 returns where a MAP_32BIT mapping of length bytes with hint
// addr goes: the hint if free and below 2 GiB, else the lowest free range
// of the second gigabyte; ok false if none. A Machine that cannot say
// (the host tests' fakes) takes the hint as it is.
func (p *Process) place32(addr, length uint64) (uint64, bool, bool) {
	l, ok := p.m.(mmapLayouter)
	if !ok {
		return addr, false, true
	}
	addr = pageUp(addr)
	if addr != 0 && addr+length <= map32End && addr+length > addr && p.rangeFree(addr, length) {
		return addr, true, true
	}
	a, ok := l.FindFree(map32Start, map32End, length)
	return a, true, ok
}

// rangeFree reports whether nothing is mapped in [addr, addr+length).
func (p *Process) rangeFree(addr, length uint64) bool {
	if v, ok := p.m.(interface {
		Vacant(addr, length uint64) bool
	}); ok {
		return v.Vacant(addr, length)
	}
	// A host test's fake address space: a mapping at addr as a hint
	// lands there if it is free.
	got, err := p.m.Map(addr, length, 0, false)
	if err != nil {
		return false
	}
	p.m.Unmap(got, length)
	return got == addr
}

// populate makes the pages of a new mapping present for MAP_POPULATE and
// MAP_LOCKED.
func (p *Process) populate(addr, length, flags uint64) int64 {
	if flags&(mapPopulate|mapLocked) != 0 {
		if e := p.touch(addr, length, touchMap); e < 0 {
			return e
		}
	}
	return int64(addr)
}

// What touch is for, which decides how each page is made present and
// what a page that cannot be means.
const (
	// touchMap: MAP_POPULATE and MAP_LOCKED (mm_populate, errors
	// ignored but running out of memory).
	touchMap = iota
	// touchLock: mlock (__mm_populate; __mlock_posix_error_return
	// turns EFAULT into ENOMEM and ENOMEM into EAGAIN).
	touchLock
	// touchRead, touchWrite: MADV_POPULATE_READ and _WRITE
	// (mm/madvise.c madvise_populate): EINVAL where the protection
	// forbids the access, EFAULT where it would raise SIGBUS.
	touchRead
	touchWrite
)

// populater makes pages present as a read or a write of them would,
// without changing their contents (kernel.Space.Populate).
type populater interface {
	Populate(addr, length uint64, write bool) error
}

// touch makes every page of [addr, addr+length) present, as mm_populate
// and madvise_populate do, and returns 0 or a negated errno. A private
// writable page is made present as by a write for mmap and mlock
// (populate_vma_page_range's FOLL_WRITE): it gets a page of its own, not
// the shared zero page, and a private file page is copied. Other pages
// are made present as by a read, except that a read of private
// anonymous memory is left to its first touch: it would map the zero
// page, which costs nothing but page tables then (and walking a huge
// PROT_READ mapping page by page, which a program may populate, would
// keep the caller for minutes). Region by region: where a page fails in
// mmap's populate, the rest of its region is skipped, as __mm_populate
// goes on at the next VMA.
func (p *Process) touch(addr, length uint64, mode int) int64 {
	pop, _ := p.m.(populater)
	rl, _ := p.m.(interface {
		Regions(fn func(start, end uint64, prot uint8, filled bool))
	})
	start, end := addr&^(mem.PageSize-1), pageUp(addr+length)
	if pop == nil || rl == nil {
		// A host test's fake address space: a read of each page.
		var b [1]byte
		for a := start; a < end; a += mem.PageSize {
			if err := p.m.CopyIn(a, b[:]); err == mem.ErrNoMemory {
				return touchErr(mode, err)
			}
		}
		return 0
	}
	type region struct {
		start, end uint64
		prot       mem.Prot
		filled     bool
	}
	var rs []region
	p.mm.mu.Lock()
	rl.Regions(func(s, e uint64, prot uint8, filled bool) {
		if s < end && start < e {
			rs = append(rs, region{max(s, start), min(e, end), mem.Prot(prot), filled})
		}
	})
	p.mm.mu.Unlock()
	for _, r := range rs {
		if p.exiting() {
			return -linux.EINTR // a fatal signal (__get_user_pages)
		}
		write := false
		switch mode {
		case touchMap, touchLock:
			if r.prot == 0 {
				// PROT_NONE: skipped by mm_populate, refused by mlock.
				if mode == touchLock {
					return -linux.ENOMEM
				}
				continue
			}
			write = r.prot&mem.Write != 0
		case touchRead:
			if r.prot&mem.Read == 0 {
				return -linux.EINVAL
			}
		case touchWrite:
			if r.prot&mem.Write == 0 {
				return -linux.EINVAL
			}
			write = true
		}
		if !r.filled {
			if !write {
				continue // the zero page, on first touch
			}
			if err := pop.Populate(r.start, r.end-r.start, true); err != nil {
				if e := touchErr(mode, err); e != 0 {
					return e
				}
			}
			continue
		}
		for a := r.start; a < r.end; a += mem.PageSize {
			if a%(512*mem.PageSize) == 0 && p.exiting() {
				return -linux.EINTR
			}
			// A shared page is never written to populate it (mode
			// touchWrite asks for write faults on shared ones too).
			w := write && (mode == touchWrite || !p.sharedAt(a))
			if err := pop.Populate(a, mem.PageSize, w); err != nil {
				if e := touchErr(mode, err); e != 0 {
					return e
				}
				break // the rest of the region (touchMap)
			}
		}
	}
	return 0
}

// touchErr is what touch in mode returns when a page could not be made
// present with err (0: go on with the next page).
func touchErr(mode int, err error) int64 {
	oom := err == mem.ErrNoMemory
	switch mode {
	case touchMap:
		if oom {
			return -linux.ENOMEM
		}
		return 0
	case touchLock:
		if oom {
			return -linux.EAGAIN
		}
		return -linux.ENOMEM
	}
	if oom {
		return -linux.ENOMEM
	}
	return -linux.EFAULT
}

// sharedAt reports whether addr lies in a MAP_SHARED file or shared
// memory mapping.
func (p *Process) sharedAt(addr uint64) bool {
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	i := p.mm.find(addr)
	return i >= 0 && p.mm.vmas[i].shared
}

// mapPaged maps pages of a file (fd), or of a new shared-memory file for
// MAP_SHARED|MAP_ANONYMOUS, with mm.mu held; the caller populates them.
func (t *Task) mapPaged(addr, length, prot, flags uint64, fd int32, off uint64, shared, fixed bool) int64 {
	p := t.p
	if t.files == nil {
		return -linux.EBADF
	}
	ps, ok := p.m.(pagedSpace)
	if !ok {
		if !shared {
			return t.mapCopy(addr, length, prot, flags, fd, off, fixed)
		}
		return -linux.ENODEV
	}
	v := &fileVMA{shared: shared, pgoff: int64(off / mem.PageSize)}
	inv := p.invalidator(v)
	if flags&linux.MapAnonymous != 0 {
		pg, err := t.files.MapAnon(int64(length), inv)
		if err != nil {
			return errno(err)
		}
		v.pager, v.pgoff, v.mayWrite, v.shmem = pg, 0, true, true
	} else {
		pg, mode, e := t.files.Map(fd, inv)
		if e != 0 {
			return e // ENODEV: a file without mmap (a device, /proc, a pipe)
		}
		v.pager, v.mayWrite = pg, mode == linux.ORdwr
		if shared && prot&uint64(mem.Write) != 0 && !v.mayWrite {
			pg.Unmap()
			return -linux.EACCES
		}
		if sh, ok := pg.(sharer); ok && shared && v.mayWrite {
			may, err := sh.Share(prot&uint64(mem.Write) != 0)
			if err != nil {
				pg.Unmap()
				return errno(err)
			}
			v.mayWrite = may
		}
	}
	if fixed {
		p.forget(addr, addr+length)
	}
	got, err := ps.MapFilled(addr, length, mem.Prot(prot), fixed, mapKey(v.pager, v.pgoff, !shared && prot&uint64(mem.Write) != 0 && flags&mapNoreserve == 0))
	if err != nil {
		v.pager.Unmap()
		return errno(err)
	}
	v.start, v.end = got, got+length
	p.addVMA(v)
	return int64(got)
}

// sharer is a Pager whose file has seals (vfs.Mapping.Share): a shared
// mapping of a file open for writing registers with it, which may refuse
// a writable mapping or make this one never writable.
type sharer interface {
	Share(write bool) (mayWrite bool, err error)
}

// mapCopy maps a private copy of what the file reads at off: a private
// file mapping in an address space that cannot share pages (the host
// tests' fakes).
func (t *Task) mapCopy(addr, length, prot, flags uint64, fd int32, off uint64, fixed bool) int64 {
	p := t.p
	if fixed {
		p.forget(addr, addr+length)
	}
	got, err := p.m.Map(addr, length, mem.Prot(prot), fixed)
	if err != nil {
		return errno(err)
	}
	buf := make([]byte, 1<<16)
	done := uint64(0)
	for done < length {
		n := min(uint64(len(buf)), length-done)
		r := t.files.Pread(fd, buf[:n], off+done)
		if r < 0 {
			p.m.Unmap(got, length)
			if r == -linux.ESPIPE {
				return -linux.ENODEV
			}
			return r
		}
		if r == 0 {
			break
		}
		if err := p.m.Load(got+done, buf[:r]); err != nil {
			p.m.Unmap(got, length)
			return errno(err)
		}
		done += uint64(r)
	}
	return int64(got)
}

func sysMunmap(t *Task, a *[6]uint64) int64 {
	addr, length := a[0], a[1]
	if addr%mem.PageSize != 0 || length == 0 || addr+length < addr {
		return -linux.EINVAL
	}
	p := t.p
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	if p.mm.sealedIn(addr, addr+pageUp(length)) {
		return -linux.EPERM // mseal: nothing is unmapped
	}
	p.noteVMPeak()
	p.forget(addr, addr+pageUp(length))
	return errno(p.m.Unmap(addr, length))
}

func sysMprotect(t *Task, a *[6]uint64) int64 {
	addr, length, prot := a[0], a[1], a[2]
	const protGrowsdown, protGrowsup = 0x01000000, 0x02000000
	grows := prot & (protGrowsdown | protGrowsup)
	prot &^= grows
	if addr%mem.PageSize != 0 || prot&^7 != 0 || grows == protGrowsdown|protGrowsup {
		return -linux.EINVAL
	}
	if length == 0 {
		return 0
	}
	p := t.p
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	end := addr + pageUp(length)
	switch grows {
	case protGrowsup:
		return -linux.EINVAL // no VM_GROWSUP mapping on x86
	case protGrowsdown:
		// From the start of the MAP_GROWSDOWN mapping holding addr
		// (mm/mprotect.c do_mprotect_pkey), EINVAL in another.
		i := slices.IndexFunc(p.mm.grows, func(l span) bool { return l.start <= addr && addr < l.end })
		if i < 0 {
			return -linux.EINVAL
		}
		addr = p.mm.grows[i].start
		length = end - addr
	}
	if prot&uint64(mem.Write) != 0 {
		// A shared mapping of a file not open for writing cannot become
		// writable (mm/mprotect.c: VM_MAYWRITE).
		for _, v := range p.mm.vmas {
			if v.start < end && addr < v.end && v.shared && !v.mayWrite {
				return -linux.EACCES
			}
		}
	}
	// Sealed memory keeps its protection (mprotect_fixup); a range that
	// starts unmapped is ENOMEM first.
	if p.covered(addr, mem.PageSize) && p.mm.sealedIn(addr, end) {
		return -linux.EPERM
	}
	return errno(p.m.Protect(addr, pageUp(length), mem.Prot(prot)))
}

// madvise advice (include/uapi/asm-generic/mman-common.h).
const (
	madvNormal     = 0
	madvRandom     = 1
	madvSequential = 2
	madvWillneed   = 3
	madvRemove     = 9
	madvDontfork   = 10
	madvDofork     = 11
	madvMergeable  = 12
	madvUnmergable = 13
	madvHugepage   = 14
	madvNohugepage = 15
	madvDontdump   = 16
	madvDodump     = 17
	madvWipeonfork = 18
	madvKeeponfork = 19
	madvCold       = 20
	madvPageout    = 21
	madvPopulateRd = 22
	madvPopulateWr = 23
	madvDontneedLk = 24 // MADV_DONTNEED_LOCKED
)

// zapper drops a range's pages but keeps the mapping (MADV_DONTNEED).
type zapper interface {
	Zap(addr, length uint64) error
}

// madvise: MADV_DONTNEED drops pages (private ones read back as zeros or
// the file's bytes, shared ones as the file's), MADV_FREE does that for
// private anonymous memory only, MADV_REMOVE punches a hole in a shared
// file mapping's file; the hints are accepted, as Linux may ignore them.
func sysMadvise(t *Task, a *[6]uint64) int64 {
	addr, length, advice := a[0], a[1], a[2]
	if addr%mem.PageSize != 0 || addr+length < addr {
		return -linux.EINVAL
	}
	length = pageUp(length)
	p := t.p
	if madvDiscards(advice) {
		p.mm.mu.Lock()
		sealed := p.sealedDiscard(addr, addr+length)
		p.mm.mu.Unlock()
		if sealed {
			return -linux.EPERM
		}
	}
	switch advice {
	case madvNormal, madvRandom, madvSequential, madvWillneed,
		madvMergeable, madvUnmergable, madvHugepage, madvNohugepage, madvDontdump, madvDodump:
		if !p.covered(addr, length) {
			return -linux.ENOMEM
		}
		return 0
	case madvCold, madvPageout:
		// can_madv_lru_vma: not of locked memory.
		if p.lockedIn(addr, length) {
			return -linux.EINVAL
		}
		if !p.covered(addr, length) {
			return -linux.ENOMEM
		}
		return 0
	case madvDontfork, madvDofork, madvWipeonfork, madvKeeponfork:
		if length == 0 {
			return 0
		}
		return p.forkAdvice(addr, length, advice)
	case madvPopulateRd, madvPopulateWr:
		if !p.covered(addr, length) {
			return -linux.ENOMEM
		}
		mode := touchRead
		if advice == madvPopulateWr {
			mode = touchWrite
		}
		return p.touch(addr, length, mode)
	case linux.MadvDontneed, linux.MadvFree, madvRemove:
		// madvise_dontneed_free_valid_vma, madvise_remove: not of
		// locked memory (MADV_DONTNEED_LOCKED is for that).
		if p.lockedIn(addr, length) {
			return -linux.EINVAL
		}
	case madvDontneedLk:
		advice = linux.MadvDontneed
	default:
		return -linux.EINVAL
	}
	if length == 0 {
		return 0
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	if !p.covered(addr, length) {
		return -linux.ENOMEM
	}
	var files []*fileVMA
	for _, v := range p.mm.vmas {
		if v.start < addr+length && addr < v.end {
			files = append(files, v)
		}
	}
	switch advice {
	case linux.MadvFree:
		if len(files) > 0 {
			return -linux.EINVAL // private anonymous memory only
		}
	case madvRemove:
		// Shared writable file mappings only (mm/madvise.c
		// madvise_remove).
		if len(files) == 0 {
			return -linux.EINVAL
		}
		for _, v := range files {
			if !v.shared {
				return -linux.EINVAL
			}
			if !v.mayWrite {
				return -linux.EACCES
			}
		}
		// Punching tells every mapping of the file, this one included,
		// to drop the pages (invalidator), which takes mm.mu.
		type hole struct {
			pg       mem.Pager
			from, to int64
		}
		var holes []hole
		for _, v := range files {
			lo, hi := max(addr, v.start), min(addr+length, v.end)
			from := v.pgoff + int64((lo-v.start)/mem.PageSize)
			holes = append(holes, hole{v.pager, from, from + int64((hi-lo)/mem.PageSize)})
		}
		p.mm.mu.Unlock()
		defer p.mm.mu.Lock()
		for _, h := range holes {
			if err := h.pg.Punch(h.from, h.to); err != nil {
				return errno(err)
			}
		}
		return 0
	}
	z, ok := p.m.(zapper)
	if !ok {
		return -linux.EINVAL
	}
	return errno(z.Zap(addr, length))
}

// lockedIn reports whether any of [addr, addr+length) is locked.
func (p *Process) lockedIn(addr, length uint64) bool {
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	return p.mm.lockedIn(addr, addr+length) != 0
}

// covered reports whether [addr, addr+length) is wholly mapped.
func (p *Process) covered(addr, length uint64) bool {
	if ps, ok := p.m.(pagedSpace); ok {
		return ps.Covered(addr, length)
	}
	return true
}

// msync flags (include/uapi/asm-generic/mman-common.h).
const (
	msAsync      = 1
	msInvalidate = 2
	msSync       = 4
)

// msync: every mapping of a file maps its page cache and the cache is
// the file (tmpfs), so there is nothing to write back: msync checks its
// arguments as Linux does and succeeds.
func sysMsync(t *Task, a *[6]uint64) int64 {
	addr, length, flags := a[0], a[1], a[2]
	if addr%mem.PageSize != 0 || flags&^(msAsync|msInvalidate|msSync) != 0 ||
		flags&msAsync != 0 && flags&msSync != 0 {
		return -linux.EINVAL
	}
	length = pageUp(length)
	if addr+length < addr {
		return -linux.ENOMEM
	}
	if length == 0 {
		return 0
	}
	// MS_INVALIDATE of locked memory is EBUSY (mm/msync.c: a VM_LOCKED
	// mapping in the range, whatever holes come before or after it).
	p := t.p
	if flags&msInvalidate != 0 {
		p.mm.mu.Lock()
		locked := p.mm.lockedIn(addr, addr+length) != 0
		p.mm.mu.Unlock()
		if locked {
			return -linux.EBUSY
		}
	}
	if !p.covered(addr, length) {
		return -linux.ENOMEM
	}
	return 0
}

// mlock: all memory stays resident (there is no swap), so locking is
// making the pages present, which mlock does.
func sysMlock(t *Task, a *[6]uint64) int64 {
	return t.p.mlock(a[0], a[1])
}

func (p *Process) mlock(addr, length uint64) int64 {
	start := addr &^ (mem.PageSize - 1)
	if addr+length < addr {
		return -linux.EINVAL
	}
	length = pageUp(addr+length) - start
	p.mm.mu.Lock()
	e := p.mayLock(start, start+length)
	p.mm.mu.Unlock()
	if e < 0 {
		return e
	}
	if length == 0 {
		return 0
	}
	if !p.covered(start, length) {
		return -linux.ENOMEM
	}
	if e := p.touch(start, length, touchLock); e < 0 {
		return e
	}
	p.mm.mu.Lock()
	p.mm.lock(start, start+length)
	p.mm.mu.Unlock()
	return 0
}

// mlock2 flag (include/uapi/asm-generic/mman-common.h).
const mlockOnfault = 1

func sysMlock2(t *Task, a *[6]uint64) int64 {
	if a[2]&^mlockOnfault != 0 {
		return -linux.EINVAL
	}
	if a[2]&mlockOnfault != 0 {
		// Lock pages as they are faulted in: present pages stay present.
		start := a[0] &^ (mem.PageSize - 1)
		if a[0]+a[1] < a[0] {
			return -linux.EINVAL
		}
		t.p.mm.mu.Lock()
		defer t.p.mm.mu.Unlock()
		if e := t.p.mayLock(start, pageUp(a[0]+a[1])); e < 0 {
			return e
		}
		if !t.p.covered(start, pageUp(a[0]+a[1])-start) {
			return -linux.ENOMEM
		}
		t.p.mm.lock(start, pageUp(a[0]+a[1])) // VM_LOCKONFAULT counts as locked
		return 0
	}
	return t.p.mlock(a[0], a[1])
}

// munlock: pages never leave memory, locked or not.
func sysMunlock(t *Task, a *[6]uint64) int64 {
	start := a[0] &^ (mem.PageSize - 1)
	if a[0]+a[1] < a[0] {
		return -linux.EINVAL
	}
	if l := pageUp(a[0]+a[1]) - start; l > 0 && !t.p.covered(start, l) {
		return -linux.ENOMEM
	}
	t.p.mm.mu.Lock()
	t.p.mm.unlock(start, pageUp(a[0]+a[1]))
	t.p.mm.mu.Unlock()
	return 0
}

// mlockall flags (include/uapi/asm-generic/mman-common.h).
const (
	mclCurrent = 1
	mclFuture  = 2
	mclOnfault = 4
)

// mlockall (mm/mlock.c): without CAP_IPC_LOCK, MCL_CURRENT needs the
// whole address space (total_vm) within RLIMIT_MEMLOCK, else ENOMEM. Every
// region is then locked, new ones too after MCL_FUTURE (mlock.go), and
// MCL_CURRENT without MCL_ONFAULT makes every accessible page present as
// mm_populate(0, TASK_SIZE) does, whose errors mlockall ignores: PROT_NONE
// reservations stay as they are and memory that runs out leaves the
// rest to its first touch. Pages never leave memory anyway.
func sysMlockall(t *Task, a *[6]uint64) int64 {
	flags := a[0]
	if flags == 0 || flags&^(mclCurrent|mclFuture|mclOnfault) != 0 || flags == mclOnfault {
		return -linux.EINVAL
	}
	p := t.p
	r, _ := p.m.(regioner)
	if flags&mclCurrent != 0 {
		p.mu.Lock()
		capable := p.cred.capable(capIPCLock)
		p.mu.Unlock()
		if ps, ok := p.m.(pagedSpace); ok && !capable {
			if total, _ := ps.Usage(); total/mem.PageSize > p.rlimit(rlimitMemlock)/mem.PageSize {
				return -linux.ENOMEM
			}
		}
	}
	mm := p.mm
	mm.mu.Lock()
	mm.lockFuture = flags&mclFuture != 0
	lo, hi := uint64(1<<64-1), uint64(0)
	if r != nil && flags&mclCurrent != 0 {
		r.Regions(func(start, end uint64, _ uint8, _ bool) {
			mm.lock(start, end)
			lo, hi = min(lo, start), max(hi, end)
		})
	}
	mm.mu.Unlock()
	if flags&mclCurrent != 0 && flags&mclOnfault == 0 && lo < hi {
		p.touch(lo, hi-lo, touchMap) // errors ignored, as mm_populate's
	}
	return 0
}

// munlockall unlocks everything, now and to come.
func sysMunlockall(t *Task, a *[6]uint64) int64 {
	mm := t.p.mm
	mm.mu.Lock()
	mm.locked, mm.lockFuture = nil, false
	mm.mu.Unlock()
	return 0
}

// sysBrk moves the program break. It never fails: like Linux, it returns
// the unchanged break when it cannot move it.
func sysBrk(t *Task, a *[6]uint64) int64 {
	p := t.p
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mu.Lock()
	want, start, cur := a[0], p.brkStart, p.brk
	p.mu.Unlock()
	if want < start || want > start+brkLimit {
		return int64(cur)
	}
	oldTop, newTop := pageUp(cur), pageUp(want)
	switch {
	case newTop > oldTop:
		if !p.mayGrow(newTop-oldTop, newTop-oldTop) || !p.rangeFree(oldTop, newTop-oldTop) {
			return int64(cur)
		}
		if _, err := p.m.Map(oldTop, newTop-oldTop, mem.Read|mem.Write, true); err != nil {
			return int64(cur)
		}
		p.mm.lockNew(oldTop, newTop, false)
	case newTop < oldTop:
		if p.mm.sealedIn(newTop, oldTop) {
			return int64(cur) // do_vmi_align_munmap: EPERM
		}
		p.noteVMPeak()
		p.mm.unlock(newTop, oldTop)
		p.mm.clearAdvice(newTop, oldTop)
		p.m.Unmap(newTop, oldTop-newTop)
	}
	p.mu.Lock()
	p.brk = want
	p.mu.Unlock()
	return int64(want)
}

// brkLimit bounds the program break's growth.
const brkLimit = 1 << 30

// mremap flags (include/uapi/linux/mman.h).
const (
	mremapMaymove   = 1
	mremapFixed     = 2
	mremapDontunmap = 4
)

// mremap grows or shrinks a mapping in place, or moves it with its pages
// (MREMAP_MAYMOVE, to a given place with MREMAP_FIXED, leaving the old
// range mapped but empty with MREMAP_DONTUNMAP).
func sysMremap(t *Task, a *[6]uint64) (res int64) {
	old, oldLen, newLen, flags, newAddr := a[0], a[1], a[2], a[3], a[4]
	if old%mem.PageSize != 0 || flags&^(mremapMaymove|mremapFixed|mremapDontunmap) != 0 ||
		flags&(mremapFixed|mremapDontunmap) != 0 && flags&mremapMaymove == 0 {
		return -linux.EINVAL
	}
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	if newLen == 0 {
		return -linux.EINVAL
	}
	if e := t.p.mremapSealed(old, oldLen, newAddr, newLen, flags); e != 0 {
		return e
	}
	if oldLen == 0 {
		return t.mremapDup(old, newLen, flags, newAddr)
	}
	if flags&mremapDontunmap != 0 && oldLen != newLen {
		return -linux.EINVAL
	}
	if flags&mremapFixed != 0 && (newAddr%mem.PageSize != 0 || newAddr < old+oldLen && old < newAddr+newLen) {
		return -linux.EINVAL
	}
	p := t.p
	ps, ok := p.m.(pagedSpace)
	if !ok {
		return -linux.ENOMEM
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	if old+oldLen < old || !ps.Covered(old, oldLen) {
		return -linux.EFAULT
	}
	p.noteVMPeak()
	prot, filled, _ := p.protAt(old)
	vi := p.mm.find(old)
	if filled && (vi < 0 || p.mm.vmas[vi].end < old+oldLen) {
		return -linux.EFAULT // more than one mapping
	}
	if !filled {
		for _, v := range p.mm.vmas {
			if v.start < old+oldLen && old < v.end {
				return -linux.EFAULT // more than one mapping
			}
		}
	}
	if flags&mremapDontunmap != 0 && filled {
		return -linux.EINVAL // private anonymous mappings only here
	}
	var grow, data uint64
	if newLen > oldLen {
		grow = newLen - oldLen
		if prot&mem.Write != 0 && (vi < 0 || !p.mm.vmas[vi].shared) {
			data = grow
		}
	}
	if flags&mremapDontunmap != 0 {
		grow, data = newLen, newLen
		if prot&mem.Write == 0 {
			data = 0
		}
	}
	if grow > 0 && !p.mayGrow(grow, data) {
		return -linux.ENOMEM
	}
	// A locked mapping stays locked where it goes, its growth counted
	// against RLIMIT_MEMLOCK (mm/mremap.c: mlock_future_ok, EAGAIN; the
	// old range of MREMAP_DONTUNMAP is left unlocked).
	if p.mm.lockedIn(old, old+oldLen) == oldLen {
		if newLen > oldLen && p.mayLock(0, newLen-oldLen) < 0 {
			return -linux.EAGAIN
		}
		defer func() {
			if res >= 0 {
				p.mm.unlock(old, old+oldLen)
				p.mm.lock(uint64(res), uint64(res)+newLen)
			}
		}()
	}
	if flags&mremapFixed == 0 && flags&mremapDontunmap == 0 {
		if newLen <= oldLen {
			if newLen < oldLen {
				p.forget(old+newLen, old+oldLen)
				p.m.Unmap(old+newLen, oldLen-newLen)
			}
			return int64(old)
		}
		if p.rangeFree(old+oldLen, grow) {
			if err := p.extend(ps, old, oldLen, newLen, prot, filled, vi); err != nil {
				return errno(err)
			}
			return int64(old)
		}
		if flags&mremapMaymove == 0 {
			return -linux.ENOMEM
		}
	}
	if flags&mremapFixed == 0 {
		got, err := p.m.Map(0, newLen, 0, false)
		if err != nil {
			return errno(err)
		}
		p.m.Unmap(got, newLen)
		newAddr = got
	} else {
		p.forget(newAddr, newAddr+newLen)
		p.m.Unmap(newAddr, newLen)
	}
	// Move: the first min(old, new) bytes keep their pages.
	keep := min(oldLen, newLen)
	if oldLen > keep {
		p.forget(old+keep, old+oldLen)
		p.m.Unmap(old+keep, oldLen-keep)
	}
	if err := ps.Move(old, newAddr, keep); err != nil {
		return errno(err)
	}
	p.mm.moveAdvice(old, newAddr, keep, flags&mremapDontunmap != 0)
	vi = p.mm.find(old)
	if vi >= 0 && filled {
		v := p.mm.vmas[vi]
		p.mm.vmas = append(p.mm.vmas[:vi], p.mm.vmas[vi+1:]...)
		v.start, v.end = newAddr, newAddr+keep
		p.addVMA(v)
		vi = p.mm.find(newAddr)
	}
	if newLen > keep {
		if err := p.extend(ps, newAddr, keep, newLen, prot, filled, vi); err != nil {
			return errno(err)
		}
	}
	if flags&mremapDontunmap != 0 {
		if _, err := p.m.Map(old, oldLen, prot, true); err != nil {
			return errno(err)
		}
	}
	return int64(newAddr)
}

// mremapDup is mremap with old_len 0 (mm/mremap.c vma_to_resize): a
// second mapping of newLen bytes of the same shared pages as the mapping
// at old, from the same file offset, with the same protection. A private
// mapping cannot be duplicated (EINVAL), nor anything without
// MREMAP_MAYMOVE (nothing can grow in place from nothing: ENOMEM).
func (t *Task) mremapDup(old, newLen, flags, newAddr uint64) int64 {
	p := t.p
	ps, ok := p.m.(pagedSpace)
	if !ok {
		return -linux.ENOMEM
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	if !ps.Covered(old, mem.PageSize) {
		return -linux.EFAULT
	}
	vi := p.mm.find(old)
	if vi < 0 || !p.mm.vmas[vi].shared {
		return -linux.EINVAL
	}
	if flags&mremapMaymove == 0 {
		return -linux.ENOMEM
	}
	v := p.mm.vmas[vi]
	prot, _, _ := p.protAt(old)
	if !p.mayGrow(newLen, 0) {
		return -linux.ENOMEM
	}
	fixed := flags&mremapFixed != 0
	if fixed {
		p.forget(newAddr, newAddr+newLen)
	} else {
		newAddr = 0
	}
	nv := &fileVMA{shared: true, mayWrite: v.mayWrite, shmem: v.shmem, pgoff: v.pgoff + int64((old-v.start)/mem.PageSize)}
	nv.pager = v.pager.Clone(p.invalidator(nv))
	got, err := ps.MapFilled(newAddr, newLen, prot, fixed, mapKey(nv.pager, nv.pgoff, false))
	if err != nil {
		nv.pager.Unmap()
		return errno(err)
	}
	nv.start, nv.end = got, got+newLen
	p.addVMA(nv)
	return int64(got)
}

// remap_file_pages(start, size, prot, pgoff, flags), deprecated, as
// Linux emulates it since 4.0 (mm/mmap.c): a new shared mapping of the
// same file from page pgoff over [start, start+size) of a shared mapping,
// with its protection, populated; prot must be 0, a range past the
// mapping or of a private one is EINVAL.
func sysRemapFilePages(t *Task, a *[6]uint64) int64 {
	start, size, prot, pgoff := a[0]&^(mem.PageSize-1), a[1]&^(mem.PageSize-1), a[2], a[3]
	if prot != 0 || start+size <= start || pgoff+size/mem.PageSize < pgoff || pgoff > 1<<51 {
		return -linux.EINVAL
	}
	p := t.p
	ps, ok := p.m.(pagedSpace)
	if !ok {
		return -linux.EINVAL
	}
	got := func() int64 {
		p.mm.mu.Lock()
		defer p.mm.mu.Unlock()
		vi := p.mm.find(start)
		if vi < 0 || !p.mm.vmas[vi].shared || start+size > p.mm.vmas[vi].end {
			return -linux.EINVAL
		}
		if p.mm.sealedIn(start, start+size) {
			return -linux.EPERM // do_mmap over sealed memory
		}
		v := p.mm.vmas[vi]
		mprot, _, _ := p.protAt(start)
		locked := p.mm.lockedIn(start, start+size) != 0 // MAP_LOCKED for a VM_LOCKED one
		nv := &fileVMA{shared: true, mayWrite: v.mayWrite, shmem: v.shmem, pgoff: int64(pgoff)}
		nv.pager = v.pager.Clone(p.invalidator(nv))
		p.forget(start, start+size)
		if locked {
			defer p.mm.lock(start, start+size)
		}
		if _, err := ps.MapFilled(start, size, mprot, true, mapKey(nv.pager, nv.pgoff, false)); err != nil {
			nv.pager.Unmap()
			return errno(err)
		}
		nv.start, nv.end = start, start+size
		p.addVMA(nv)
		return 0
	}()
	if got < 0 {
		return got
	}
	if e := p.populate(start, size, mapPopulate); e < 0 {
		return e
	}
	return 0
}

// extend grows the mapping at start from oldLen to newLen bytes in
// place, with the same protection and backing.
func (p *Process) extend(ps pagedSpace, start, oldLen, newLen uint64, prot mem.Prot, filled bool, vi int) error {
	if !filled {
		_, err := p.m.Map(start+oldLen, newLen-oldLen, prot, true)
		return err
	}
	v := p.mm.vmas[vi]
	key := mapKey(v.pager, v.pgoff+int64((start+oldLen-v.start)/mem.PageSize), !v.shared && prot&mem.Write != 0)
	if _, err := ps.MapFilled(start+oldLen, newLen-oldLen, prot, true, key); err != nil {
		return err
	}
	p.mm.vmas[vi].end = start + newLen
	return nil
}

// protAt returns the protection at addr and whether the pages there are
// provided here (a file or shared memory).
func (p *Process) protAt(addr uint64) (mem.Prot, bool, bool) {
	type looker interface {
		Lookup(addr uint64) (uint8, bool, bool)
	}
	if l, ok := p.m.(looker); ok {
		prot, filled, ok := l.Lookup(addr)
		return mem.Prot(prot), filled, ok
	}
	return 0, false, false
}
