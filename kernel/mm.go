package kernel

// Memory for the kernel's own runtime: its mmap window (kspace) backed by
// physical pages mapped on first touch, and checked access to memory the
// runtime passes to system calls. Trap context.

import (
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

const pageSize = 4096

// Page-table entry bits (AMD APM vol. 2, 5.4.1, figure 5-21).
const (
	ptePresent = 1 << 0
	pteWrite   = 1 << 1
	pteUser    = 1 << 2
	pteHuge    = 1 << 7
	pteNX      = 1 << 63
	pteAddr    = 0x000f_ffff_ffff_f000
)

// Under SEV-SNP every entry that maps or points to private memory carries
// the C-bit (AMD APM vol. 2, 15.34.5 "Page Table Support"; its position
// comes from CPUID 0x8000_001F), and the physical frame of an entry is
// its address bits without it. Set once at boot (BootInfo.CBit); zero
// elsewhere.
var (
	ptePrivate uint64
	pteFrame   uint64 = pteAddr
)

// loadedTables is the physical address of the tables loadTables last
// loaded, 0 before the first. Only loadTables writes CR3 after boot, so
// it is the tables in CR3, known without reading it.
var loadedTables uintptr

// loadTables switches to the page tables at physical pml4. The address
// space userEnter checked (enterSpace) is no longer the loaded one.
//
//go:nosplit
func loadTables(pml4 uintptr) {
	cpu.Lcr3(pml4 | uintptr(ptePrivate))
	loadedTables = pml4
	enterSpace = -1
}

// tlbReload is the time between two reloads of CR3 by reloadTLB: 10 ms
// after boot, doubling at each up to a second.
var (
	tlbReload     int64 = 10_000_000 // ns
	tlbReloadedAt int64
)

// reloadTLB reloads CR3 with the tables it holds, flushing the TLB, when
// tlbReload has passed since it last did. That is for QEMU's TCG, where
// the application's tables otherwise stay loaded for good: TCG sizes an
// emulated CPU's software TLB only when the guest flushes it whole
// (accel/tcg/cputlb.c: tlb_flush_one_mmuidx_locked calls
// tlb_mmu_resize_locked, which doubles the table when more than 70% of
// its entries were in use), so a kernel that never reloads CR3 keeps the
// 256 entries TCG starts with, in which the kernel's working set (its Go
// runtime, gVisor's netstack, the direct map that copies go through)
// keeps missing. Linux reloads CR3 at every switch between processes.
// The reloads come often while the kernel boots, so that the table grows
// in a few steps, then once a second: on hardware each costs the refills
// of the TLB after it.
//
//go:nosplit
func reloadTLB(now int64) {
	if now-tlbReloadedAt < tlbReload {
		return
	}
	tlbReloadedAt = now
	if tlbReload < 1_000_000_000 {
		tlbReload *= 2
	}
	cpu.Lcr3(cpu.Rcr3())
}

// currentTables returns the physical address of the tables in CR3.
//
//go:nosplit
func currentTables() uintptr {
	if loadedTables != 0 {
		return loadedTables
	}
	return cpu.Rcr3() & uintptr(pteFrame)
}

// pager backs kspace with memory: it makes the page at va present, and
// drops the pages of a range. On the machine it is the page-table pager
// below; host tests substitute one over host memory. Implementations must
// be //go:nosplit.
type pager interface {
	populate(va uintptr, write bool) bool
	drop(start, end uintptr)
}

var kpager pager

var thePager ptPager

// Kernel image bounds (virtual), for system-call arguments that point into
// the image's data and bss (m0's stack, runtime globals).
var imageStart, imageEnd uintptr

// ptPager maps kspace pages with 4 KiB page-table entries.
type ptPager struct{}

// kernelPML4 is the physical address of the kernel's own PML4 (the boot
// page tables). Its kernel half is copied into every address space, and
// its slots never change after boot.
var kernelPML4 uintptr

// walk returns the page-table entry of va in the kernel's tables,
// creating intermediate tables if create. It returns nil, and the size of
// the missing span, if a level is absent and create is false (or no memory
// is left).
//
//go:nosplit
func walk(va uintptr, create bool) (*uint64, uintptr) {
	return walkIn(kernelPML4, va, create, 0)
}

// walkIn is walk in the tables at pml4; new intermediate tables get the
// extra entry bits (pteUser for application tables).
//
//go:nosplit
func walkIn(pml4, va uintptr, create bool, extra uint64) (*uint64, uintptr) {
	table, span := leafIn(pml4, va, create, extra)
	if table == 0 {
		return nil, span
	}
	return cpu.Ptr64(table + (va>>12&511)*8), 0
}

// leafIn is walkIn for the page table itself: the direct-map address of
// the last-level table covering va (its 512 entries map the 2 MiB span
// holding va), or 0 and the size of the missing span. Loops over a range
// walk once per table with it, not once per page.
//
//go:nosplit
func leafIn(pml4, va uintptr, create bool, extra uint64) (uintptr, uintptr) {
	table := cpu.Virt(pml4)
	for level := 3; level > 0; level-- {
		shift := uint(12 + 9*level)
		e := cpu.Ptr64(table + (va>>shift&511)*8)
		if *e&ptePresent == 0 {
			if !create {
				return 0, 1 << shift
			}
			// An application's tables are its demand; the kernel's are
			// the kernel's (pmem's reserve).
			var p uint64
			var ok bool
			if extra&pteUser != 0 {
				p, ok = phys.AllocUser()
			} else {
				p, ok = phys.Alloc()
			}
			if !ok {
				return 0, 1 << shift
			}
			cpu.ZeroPage(cpu.Virt(uintptr(p)))
			*e = p | ptePresent | pteWrite | extra | ptePrivate
		}
		if *e&pteHuge != 0 {
			return 0, 1 << shift // direct map: not managed here
		}
		table = cpu.Virt(uintptr(*e & pteFrame))
	}
	return table, 0
}

// leafSpan is the span one last-level page table maps.
const leafSpan = 512 * pageSize

//go:nosplit
func (*ptPager) populate(va uintptr, write bool) bool {
	r, ok := kspace.Lookup(va)
	if !ok || r.Prot == 0 || write && r.Prot&vmspace.Write == 0 {
		return false
	}
	pte, _ := walk(va, true)
	if pte == nil {
		return false
	}
	if *pte&ptePresent != 0 {
		return true
	}
	p, ok := phys.Alloc()
	if !ok {
		return false
	}
	cpu.ZeroPage(cpu.Virt(uintptr(p)))
	e := p | ptePresent | ptePrivate
	if r.Prot&vmspace.Write != 0 {
		e |= pteWrite
	}
	if r.Prot&vmspace.Exec == 0 {
		e |= pteNX
	}
	*pte = e
	return true
}

//go:nosplit
func (*ptPager) drop(start, end uintptr) {
	for va := start &^ (pageSize - 1); va < end && va >= start&^(pageSize-1); {
		pte, span := walk(va, false)
		if pte == nil {
			va = (va &^ (span - 1)) + span
			continue
		}
		if *pte&ptePresent != 0 {
			phys.Free(*pte & pteFrame)
			*pte = 0
			cpu.Invlpg(va)
		}
		va += pageSize
	}
}

// demandFault handles a kernel-mode page fault at addr: first touch of a
// mapped kspace page. It reports whether the fault was resolved.
//
//go:nosplit
func demandFault(addr uintptr, errCode uint64) bool {
	const pfPresent, pfWrite = 1 << 0, 1 << 1 // AMD APM vol. 2, 8.4.2
	if errCode&pfPresent != 0 {
		return false // protection violation, not a missing page
	}
	return kpager.populate(addr, errCode&pfWrite != 0)
}

// accessible reports whether [addr, addr+n) may be read (or written) by a
// system call on the runtime's behalf, and makes its pages present.
//
//go:nosplit
func accessible(addr, n uintptr, write bool) bool {
	if n == 0 {
		return true
	}
	if addr+n < addr {
		return false
	}
	if addr >= imageStart && addr+n <= imageEnd {
		return !write || imageWritable(addr, n)
	}
	want := vmspace.Read
	if write {
		want = vmspace.Write
	}
	if !kspace.Covered(addr, n, want) {
		return false
	}
	for p := addr &^ (pageSize - 1); p < addr+n; p += pageSize {
		if !kpager.populate(p, write) {
			return false
		}
	}
	return true
}

// imageWritable reports whether [addr, addr+n), inside the image, lies
// in its writable segments (protectKernel maps the rest read-only).
//
//go:nosplit
func imageWritable(addr, n uintptr) bool {
	for p := addr &^ (pageSize - 1); p < addr+n; p += pageSize {
		if w, _, _ := pagePerm(p); !w {
			return false
		}
	}
	return true
}

// kspaceChunks hold kspace's regions (vmspace.Chunk): static memory, as
// the kernel's own mmap cannot take frames that its runtime's heap may
// need, so the window has at most 10 chunks, at least 8*85 regions once
// a change's spares are set aside (the runtime makes a few dozen).
var kspaceChunks [10]vmspace.Chunk

// kspaceInit empties kspace, sets its window and gives it its chunks.
//
//go:nosplit
func kspaceInit(lo, hi uintptr) {
	kspace.Init(lo, hi)
	for i := range kspaceChunks {
		kspace.Give(uintptr(unsafe.Pointer(&kspaceChunks[i])))
	}
}

// mmap for the kernel's runtime: anonymous memory in kspace only.
//
//go:nosplit
func sysMmap(addr, length uintptr, prot, flags uint64) int64 {
	if length == 0 || prot&^7 != 0 {
		return -linux.EINVAL
	}
	if flags&linux.MapAnonymous == 0 {
		return -linux.ENODEV
	}
	if length+pageSize-1 < length {
		return -linux.ENOMEM
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	p := vmspace.Prot(prot)
	if flags&linux.MapFixed != 0 {
		if addr%pageSize != 0 {
			return -linux.EINVAL
		}
		if addr < kspace.Lo || addr+length > kspace.Hi || addr+length < addr {
			return -linux.ENOMEM
		}
		kpager.drop(addr, addr+length)
		if !kspace.Set(addr, length, p) {
			return -linux.ENOMEM
		}
		return int64(addr)
	}
	hint := addr &^ (pageSize - 1)
	if flags&linux.MapFixedNoreplace != 0 {
		if addr%pageSize != 0 {
			return -linux.EINVAL
		}
		if !kspace.Free(addr, length) {
			return -linux.EEXIST
		}
	}
	a, ok := kspace.FindFree(hint, length, pageSize)
	if !ok || !kspace.Set(a, length, p) {
		return -linux.ENOMEM
	}
	return int64(a)
}

//go:nosplit
func sysMunmap(addr, length uintptr) int64 {
	if addr%pageSize != 0 || length == 0 || addr+length < addr {
		return -linux.EINVAL
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	if addr < kspace.Lo || addr+length > kspace.Hi {
		return -linux.EINVAL
	}
	kpager.drop(addr, addr+length)
	kspace.Clear(addr, length)
	return 0
}

// sysMadvise honours MADV_DONTNEED and MADV_FREE by releasing the pages
// (the next touch maps a zero page, as Linux does for private anonymous
// memory) and accepts every other advice as a no-op.
//
//go:nosplit
func sysMadvise(addr, length uintptr, advice uint64) int64 {
	if addr%pageSize != 0 || addr+length < addr {
		return -linux.EINVAL
	}
	if advice == linux.MadvDontneed || advice == linux.MadvFree {
		end := (addr + length + pageSize - 1) &^ (pageSize - 1)
		if addr < kspace.Lo || end > kspace.Hi {
			return -linux.EINVAL
		}
		kpager.drop(addr, end)
	}
	return 0
}
