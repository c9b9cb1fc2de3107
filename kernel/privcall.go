package kernel

// The private-call dispatcher: the Linux personality (north/) manages
// application address spaces through private system calls that only
// kernel code can make (numbers from sysPrivate up, SYSCALL at CPL0);
// see uspace.go for the goroutine-side API. Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// Private system calls (kernel code only).
const (
	sysPrivate    = 1001
	sysSpaceNew   = 1001 // () -> space
	sysSpaceFree  = 1002 // (space)
	sysSpaceMap   = 1003 // (space, addr, len, prot | fixed<<8 | filled<<9 | key<<32) -> addr
	sysSpaceUnmap = 1004 // (space, addr, len)
	sysSpaceProt  = 1005 // (space, addr, len, prot)
	sysSpacePage  = 1006 // (space, addr, access: accRead, accWrite, accForce, accForceRead) -> physical page
	sysSpaceZap   = 1007 // (space, addr, len): drop pages, keep mappings
	sysFPSync     = 1008 // (regs): save regs' live extended state to its area
	sysFPRelease  = 1009 // (regs): forget regs as the owner of live state (extended state, selectors)
	sysSelSync    = 1010 // (regs): save regs' live segment selectors to it
	sysSpaceBase  = 1011 // (space, base): mmap's top-down search starts below base; 0: bottom-up (legacy layout)
	sysSpaceFind  = 1012 // (space, lo, hi, len) -> the lowest free range of len bytes in [lo, hi), or ENOMEM
)

// UserLo is the lowest address an application may map.
const UserLo = 0x10000

// maxSpaces bounds the application address spaces alive at once: each
// one's region table's root (vmspace.Space, 1024 chunk references of 16
// bytes) is static kernel memory, so 64 cost 1 MiB of the kernel's bss
// whatever the application does; the chunks holding the regions are
// frames taken as the application makes regions (userSpace.reserve). A
// new space beyond them is EAGAIN, the errno of Linux's limits on
// processes (fork(2)).
const maxSpaces = 64

// MaxMapCount is the most mappings an address space may have, Linux's
// default vm.max_map_count (/proc/sys/vm/max_map_count): beyond it mmap,
// and at it a munmap, mprotect or mmap that would cut one in two, fail
// with ENOMEM.
const MaxMapCount = vmspace.MaxMapCount

const maxMapCount = MaxMapCount

// userSpace is one application address space: its PML4 and the VMA list
// that decides which pages may be populated on demand.
type userSpace struct {
	used bool
	pml4 uintptr // physical
	vmas vmspace.Space
	// rss counts the pages mapped to frames (PROT_NONE ones kept
	// included, the zero frame's mappings not), as Linux's MM_*PAGES
	// counters; hwm is its highest value (hiwater_rss).
	rss, hwm int
	// mmapBase is where a mapping without a usable hint is searched for,
	// down from (mm->mmap_base); legacy says bottom-up from a third of
	// the range instead (mmap_is_legacy).
	mmapBase uintptr
	legacy   bool
}

// place returns where a mapping of length bytes with hint goes
// (arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area_topdown): the
// hint if the range there is free, else the highest free range below
// mmapBase (vm_unmapped_area, VM_UNMAPPED_AREA_TOPDOWN), else the lowest
// from a third of the range up (the bottom-up fallback, as the legacy
// layout's only search).
//
//go:nosplit
func (s *userSpace) place(hint, length uintptr) (uintptr, bool) {
	v := &s.vmas
	if hint != 0 && hint >= v.Lo && hint+length > hint && hint+length <= v.Hi && v.Free(hint, length) {
		return hint, true
	}
	if !s.legacy {
		if a, ok := v.FindDown(v.Lo, s.mmapBase, length, pageSize); ok {
			return a, true
		}
	}
	return v.FindUp((v.Hi/3+pageSize-1)&^(pageSize-1), v.Hi, length, pageSize)
}

// gained counts n more resident pages.
//
//go:nosplit
func (s *userSpace) gained(n int) {
	s.rss += n
	if s.rss > s.hwm {
		s.hwm = s.rss
	}
}

var spaces [maxSpaces]userSpace

// reserve tops s's spare region chunks up to what a change may take, with
// frames of the application's (pmem.AllocUser): where there are none the
// change that needs one fails with ENOMEM, as Linux's vm_area_alloc.
//
//go:nosplit
//go:noinline
func (s *userSpace) reserve() {
	for s.vmas.Spares() < vmspace.Reserve {
		p, ok := phys.AllocUser()
		if !ok {
			return
		}
		s.vmas.Give(cpu.Virt(uintptr(p)))
	}
}

// trim frees the spare region chunks beyond those the next change may
// take.
//
//go:nosplit
//go:noinline
func (s *userSpace) trim() {
	for s.vmas.Spares() > vmspace.Reserve {
		phys.Free(uint64(cpu.Phys(s.vmas.Take())))
	}
}

// trimmed returns r after trimming space i's spare region chunks: the
// calls that change regions end with it.
//
//go:nosplit
func trimmed(i int, r int64) int64 {
	if s := getSpace(i); s != nil {
		s.trim()
	}
	return r
}

// mapCountOK says whether a change of [addr, addr+length) to prot may cut
// regions as Linux's limit on mappings allows (mm/vma.c split_vma,
// vms_gather_munmap_vmas): each region cut in two at an end of the range
// is one more mapping, refused once there are maxMapCount. A region whose
// protection stays (mprotect_fixup skips it) or whose cut part joins a
// neighbour of that protection (vma_merge_existing_range) is not cut.
// prot < 0 is an unmapping or a replacement, which cuts at most one
// more: a range strictly inside one region.
//
//go:nosplit
func (s *userSpace) mapCountOK(addr, length uintptr, prot int) bool {
	n := s.vmas.Len()
	end := addr + length
	if prot < 0 {
		r, ok := s.vmas.Lookup(addr)
		return !ok || r.Start >= addr || r.End <= end || n < maxMapCount
	}
	cuts := 0
	first, ok := s.vmas.Lookup(addr)
	if ok && first.Start < addr && first.Prot != vmspace.Prot(prot) {
		// Not cut if the part joins the region after it.
		if next, ok := s.vmas.Next(first.End); end != first.End || !ok || next.Start != end || next.Prot != vmspace.Prot(prot) || next.Kind != first.Kind {
			cuts++
		}
	}
	last, ok := s.vmas.Lookup(end - 1)
	if ok && last.End > end && last.Prot != vmspace.Prot(prot) {
		// Not cut if the part joins the region before it: the range's
		// own part below, or a neighbour of that protection.
		joins := last.Start > addr
		if last.Start == addr && last.Start > s.vmas.Lo {
			prev, ok := s.vmas.Lookup(addr - 1)
			joins = ok && prev.Prot == vmspace.Prot(prot) && prev.Kind == last.Kind
		}
		if !joins {
			cuts++
		}
	}
	return cuts == 0 || n+cuts <= maxMapCount
}

// privateSyscall serves the kernel's private calls. It returns blocked
// when it replaced the frame itself.
//
//go:nosplit
func privateSyscall(f *cpu.Frame) int64 {
	a0, a1, a2, a3 := f.RDI, f.RSI, f.RDX, f.R10
	switch f.RAX {
	case sysSpaceNew:
		return spaceNew()
	case sysSpaceFree:
		return spaceFree(int(a0))
	case sysSpaceMap:
		return trimmed(int(a0), spaceMap(int(a0), uintptr(a1), uintptr(a2), a3))
	case sysSpaceUnmap:
		return trimmed(int(a0), spaceUnmap(int(a0), uintptr(a1), uintptr(a2)))
	case sysSpaceProt:
		return trimmed(int(a0), spaceProtect(int(a0), uintptr(a1), uintptr(a2), vmspace.Prot(a3)))
	case sysSpacePage:
		return spacePage(int(a0), uintptr(a1), a2)
	case sysSpaceZap:
		return spaceZap(int(a0), uintptr(a1), uintptr(a2))
	case sysFPSync:
		if fpOwner != 0 && fpOwner == uintptr(a0) {
			spillFP()
		}
		return 0
	case sysFPRelease:
		if fpOwner != 0 && fpOwner == uintptr(a0) {
			fpOwner = 0
		}
		selRelease(uintptr(a0))
		return 0
	case sysSelSync:
		selSync(uintptr(a0))
		return 0
	case sysSpaceBase:
		s := getSpace(int(a0))
		if s == nil || a1%pageSize != 0 || a1 > uint64(s.vmas.Hi) {
			return -linux.EINVAL
		}
		s.mmapBase, s.legacy = uintptr(a1), a1 == 0
		return 0
	case sysSpaceFind:
		s := getSpace(int(a0))
		if s == nil {
			return -linux.EINVAL
		}
		a, ok := s.vmas.FindUp(uintptr(a1), uintptr(a2), uintptr(a3), pageSize)
		if !ok {
			return -linux.ENOMEM
		}
		return int64(a)
	}
	if r, ok := memSyscall(f.RAX, a0, a1, a2, a3); ok {
		return r
	}
	if r, ok := procSyscall(f.RAX, a0, a1, a2); ok {
		return r
	}
	reportUnknown(f.RAX)
	return -linux.ENOSYS
}

//go:nosplit
func getSpace(i int) *userSpace {
	if i < 0 || i >= maxSpaces || !spaces[i].used {
		return nil
	}
	return &spaces[i]
}

// spaceNew makes an address space whose kernel half (PML4 slots 252-255)
// is shared with every other.
//
//go:nosplit
func spaceNew() int64 {
	for i := range spaces {
		if spaces[i].used {
			continue
		}
		p, ok := phys.Alloc()
		if !ok {
			return -linux.ENOMEM
		}
		page := cpu.Virt(uintptr(p))
		cpu.ZeroPage(page)
		kern := cpu.Virt(kernelPML4)
		for slot := uintptr(252); slot < 512; slot++ {
			*cpu.Ptr64(page + slot*8) = *cpu.Ptr64(kern + slot*8)
		}
		spaces[i] = userSpace{used: true, pml4: uintptr(p), mmapBase: cpu.UserEnd}
		spaces[i].vmas.Init(UserLo, cpu.UserEnd)
		return int64(i)
	}
	return -linux.EAGAIN
}

//go:nosplit
func spaceFree(i int) int64 {
	s := getSpace(i)
	if s == nil {
		return -linux.EINVAL
	}
	if userRegs != 0 && userSpaceID == i {
		return -linux.EBUSY
	}
	if currentTables() == s.pml4 {
		loadTables(kernelPML4)
	}
	freeTables(s.pml4)
	phys.Free(uint64(s.pml4))
	s.vmas.Release()
	for p := s.vmas.Take(); p != 0; p = s.vmas.Take() {
		phys.Free(uint64(cpu.Phys(p)))
	}
	s.used = false
	return 0
}

//go:nosplit
func spaceMap(i int, addr, length uintptr, protFixed uint64) int64 {
	s := getSpace(i)
	if s == nil {
		return -linux.EINVAL
	}
	prot := vmspace.Prot(protFixed & 7)
	fixed := protFixed&(1<<8) != 0
	kind := vmspace.Anon
	key := uint32(protFixed >> 32)
	if protFixed&(1<<9) != 0 {
		kind = vmspace.Filled
	}
	if length == 0 || length+pageSize-1 < length {
		return -linux.EINVAL
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	// mm/mmap.c do_mmap: ENOMEM once the mappings are more than the
	// limit (one more may be made at it).
	if s.vmas.Len() > maxMapCount {
		return -linux.ENOMEM
	}
	s.reserve()
	if fixed {
		if addr%pageSize != 0 {
			return -linux.EINVAL
		}
		if addr < s.vmas.Lo || addr+length > s.vmas.Hi || addr+length < addr {
			return -linux.ENOMEM
		}
		// Record the new mapping before freeing a page of the old:
		// SetKind fails, changing nothing, without the chunks it may
		// need, so a failure leaves the old mapping whole.
		if !s.mapCountOK(addr, length, -1) || !s.vmas.SetTagged(addr, length, prot, kind, tagAt(kind, key, addr)) {
			return -linux.ENOMEM
		}
		s.rss -= freeUserRange(s.pml4, addr, addr+length)
		return int64(addr)
	}
	a, ok := s.place(addr&^(pageSize-1), length)
	if !ok || !s.vmas.SetTagged(a, length, prot, kind, tagAt(kind, key, a)) {
		return -linux.ENOMEM
	}
	return int64(a)
}

// tagAt is the tag of a region of kind k mapped at start with the
// personality's key (a Filled region's file and the page offset there:
// the tag is the same for every part of a mapping, and for the next one
// of the same file at the offset that follows, which Linux merges).
//
//go:nosplit
func tagAt(k vmspace.Kind, key uint32, start uintptr) uint32 {
	if k != vmspace.Filled {
		return 0
	}
	return key - uint32(start/pageSize)
}

//go:nosplit
func spaceUnmap(i int, addr, length uintptr) int64 {
	s := getSpace(i)
	if s == nil || addr%pageSize != 0 || length == 0 {
		return -linux.EINVAL
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	if addr+length < addr || addr+length > s.vmas.Hi {
		return -linux.EINVAL
	}
	lo := addr
	if lo < s.vmas.Lo {
		lo = s.vmas.Lo
	}
	if lo >= addr+length {
		return 0
	}
	// A range strictly inside one region cuts it in two: refused at
	// the limit on mappings, or without memory for the region table.
	s.reserve()
	if !s.mapCountOK(lo, addr+length-lo, -1) || !s.vmas.Clear(lo, addr+length-lo) {
		return -linux.ENOMEM
	}
	s.rss -= freeUserRange(s.pml4, lo, addr+length)
	freeEmptyTables(s, lo, addr+length)
	return 0
}

// spaceZap frees the pages of [addr, addr+length) but keeps the
// mappings: the next touch gets a zero page (MADV_DONTNEED).
//
//go:nosplit
func spaceZap(i int, addr, length uintptr) int64 {
	s := getSpace(i)
	if s == nil || addr%pageSize != 0 || addr+length < addr || addr+length > s.vmas.Hi {
		return -linux.EINVAL
	}
	s.rss -= freeUserRange(s.pml4, addr, addr+length)
	return 0
}

// spaceProtect changes a mapped range's protection and rewrites the
// present pages' entries to match.
//
//go:nosplit
func spaceProtect(i int, addr, length uintptr, prot vmspace.Prot) int64 {
	s := getSpace(i)
	if s == nil || addr%pageSize != 0 || prot&^7 != 0 {
		return -linux.EINVAL
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	if length == 0 {
		return 0
	}
	s.reserve()
	if !s.mapCountOK(addr, length, int(prot)) || !s.vmas.Protect(addr, length, prot) {
		return -linux.ENOMEM
	}
	for va := addr; va < addr+length; va += pageSize {
		pte, span := walkIn(s.pml4, va, false, 0)
		if pte == nil {
			va = (va&^(span-1) + span) - pageSize
			continue
		}
		if *pte&ptePresent != 0 {
			if prot == 0 {
				// PROT_NONE keeps the page (its contents survive a later
				// mprotect) but makes it inaccessible.
				*pte = *pte&^ptePresent | pteProtNone
			} else {
				*pte = *pte&(pteFrame|pteCOW|pteShared|pteCopy) | userPTE(cowProt(prot, *pte))
			}
		} else if *pte&pteProtNone != 0 && prot != 0 {
			*pte = *pte&(pteFrame|pteCOW|pteShared|pteCopy) | userPTE(cowProt(prot, *pte))
		}
		if currentTables() == s.pml4 {
			cpu.Invlpg(va)
		}
	}
	return 0
}

// spacePage makes the page at addr present for access acc (if the VMA
// list allows it) and returns its physical address.
//
//go:nosplit
func spacePage(i int, addr uintptr, acc uint64) int64 {
	s := getSpace(i)
	if s == nil || acc > accForceRead {
		return -linux.EINVAL
	}
	p, st := userPopulate(s, addr, int(acc))
	switch st {
	case popOK:
		return int64(p)
	case popFill:
		return -linux.EAGAIN
	case popNoMemory:
		return -linux.ENOMEM
	}
	return -linux.EFAULT
}
