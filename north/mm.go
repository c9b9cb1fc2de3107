package north

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Memory the personality provides: file mappings, shared anonymous memory
// and SysV shared memory. Their pages are a file's page cache (a
// mem.Pager): a MAP_SHARED mapping maps the cache's frames themselves, so
// read, write, every shared mapping and every thread see the same bytes;
// a MAP_PRIVATE mapping maps them read-only and copies a page when it is
// first written. The kernel records such ranges as Filled regions and
// sends their first touch (and a write to a copy-on-write page) here as a
// page fault with kernel.PFNeedFill; the kernel fills anonymous private
// memory itself.

// pagedSpace is what a Machine needs for pages provided here (the
// kernel's Space; the host tests' fakes lack it and get ENODEV).
type pagedSpace interface {
	MapFilled(addr, length uint64, prot mem.Prot, fixed bool, key uint32) (uint64, error)
	Fill(addr, frame uint64, cow bool) error
	FillRange(addr uint64, frames []uint64, cow bool) error
	Move(from, to, length uint64) error
	Zap(addr, length uint64) error
	Covered(addr, length uint64) bool
	Usage() (total, data uint64)
	SetFiller(fill func(addr uint64, write bool) error)
}

// mapKey is the key of a mapping whose first page is page pgoff of pg's
// file (kernel.Space.MapFilled): the file's identity plus pgoff, so that
// the kernel merges two mappings' regions only where Linux would merge
// their VMAs, the same file at contiguous offsets and the same flags; one
// without a file merges with none. accounted is VM_ACCOUNT, which a
// private mapping made writable has for good (mm/mmap.c
// accountable_mapping): a static program's RELRO, made read-only, stays
// apart from the read-only segment before it.
func mapKey(pg mem.Pager, pgoff int64, accounted bool) uint32 {
	id := uint64(anonKey.Add(1))
	if d, ok := pg.(describer); ok {
		if dev, ino, _ := d.Describe(); dev|ino != 0 {
			id = dev*0x9e3779b97f4a7c15 ^ ino*0xc2b2ae3d27d4eb4f
		}
	}
	if accounted {
		id ^= 0x5bd1e995
	}
	return uint32(id^id>>32) + uint32(pgoff)
}

// anonKey numbers the mappings without a file for mapKey.
var anonKey atomic.Uint64

// fileVMA is a range of the address space whose pages come from a Pager.
type fileVMA struct {
	start, end uint64
	pager      mem.Pager
	pgoff      int64 // the file's page index at start
	shared     bool
	mayWrite   bool // shared: the file is open for writing
	shmem      bool // shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, SysV): RssShmem
}

// mmState is the file-backed ranges of an address space, shared by the
// processes using it (a vfork child until it execs). mu also serialises
// every change to the address space's layout (mmap, munmap, mremap,
// mprotect, brk), so that a range found free stays free while it is
// taken.
type mmState struct {
	mu    sync.Mutex
	vmas  []*fileVMA // sorted by start, disjoint
	users int        // processes using it (guarded by mu)
	// exe is the program it runs, held until the last user ends or
	// execs (set_mm_exe_file): no one may write the file meanwhile
	// (ETXTBSY). Nil for an address space that runs no file.
	exe Executable
	// stackSP is where the program's stack pointer started: the region
	// holding it is [stack] in /proc/PID/maps.
	stackSP atomic.Uint64
	// vmPeak is the highest size of the address space seen before it
	// shrank (hiwater_vm; procmem.go noteVMPeak).
	vmPeak atomic.Uint64
	// locked is the locked ranges, sorted and disjoint, and lockFuture
	// says mlockall(MCL_FUTURE) locks every new mapping (mlock.go;
	// guarded by mu).
	locked     []span
	lockFuture bool
	// dontfork and wipeonfork are the ranges madvise advised
	// MADV_DONTFORK and MADV_WIPEONFORK, sorted and disjoint
	// (forkadvice.go; guarded by mu).
	dontfork, wipeonfork []span
	// sealed is the ranges mseal sealed, sorted and disjoint (guarded
	// by mu; sys_mseal.go).
	sealed []span
	// drop is the MAP_DROPPABLE ranges, grows the MAP_GROWSDOWN ones
	// (guarded by mu).
	drop, grows []span
	// strings is where the program's argument and environment strings
	// are on its stack (mm->arg_start ... env_end; guarded by mu).
	strings [4]uint64
	// segments are the program's start_code, end_code, start_data and
	// end_data (stat's; Program.Segments; guarded by mu).
	segments [4]uint64
	// stack is the main stack's mapping [low, high) and the size of the
	// guard below it, which a fault below grows (stackgrow.go; guarded
	// by mu).
	stack [3]uint64
	// stackLow is stack[0], read without mu: a copy in or out that
	// faults sees whether the stack may grow there before it takes mu
	// (growStackIn), so that one far from the stack never waits on it.
	stackLow atomic.Uint64
	// auxv is the program's auxiliary vector (mm->saved_auxv;
	// Program.Auxv; guarded by mu, never changed in place).
	auxv []byte
	// vdso and vvar are where the vDSO's code and its data page are
	// (Program.VDSO, VVar): mapped as anonymous memory, named [vdso]
	// and [vvar] in /proc/PID/maps as Linux's special mappings
	// (_install_special_mapping) are. Unmapping or replacing a part
	// ends its name there, mremap moves it, fork copies it (guarded by
	// mu; forkadvice.go).
	vdso, vvar []span
}

// dropMM ends the process's use of its ranges, and ends the ranges with
// the last user.
func (p *Process) dropMM() {
	mm := p.mm
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.users--; mm.users > 0 {
		return
	}
	for _, v := range mm.vmas {
		v.pager.Unmap()
	}
	mm.vmas = nil
	if mm.exe != nil {
		mm.exe.Close()
		mm.exe = nil
	}
}

// find returns the index of the VMA holding addr, or -1.
func (s *mmState) find(addr uint64) int {
	i := sort.Search(len(s.vmas), func(i int) bool { return s.vmas[i].end > addr })
	if i < len(s.vmas) && s.vmas[i].start <= addr {
		return i
	}
	return -1
}

// invalidator returns the Invalidate function of v: pages that left the
// file leave the address space too, so the next touch is a SIGBUS past
// the end of the file or a fresh page in a punched hole.
func (p *Process) invalidator(v *fileVMA) func(from, to int64) {
	return invalidatorIn(p.m, p.mm, v) // the address space v is in, even after an execve
}

// invalidatorIn is Process.invalidator for a range of address space m
// with ranges mm.
func invalidatorIn(m Machine, mm *mmState, v *fileVMA) func(from, to int64) {
	return func(from, to int64) {
		ps, ok := m.(pagedSpace)
		if !ok {
			return
		}
		mm.mu.Lock()
		defer mm.mu.Unlock()
		if mm.find(v.start) < 0 || mm.vmas[mm.find(v.start)] != v {
			return // unmapped meanwhile
		}
		lo := max(from, v.pgoff)
		hi := v.pgoff + int64((v.end-v.start)/mem.PageSize)
		if to >= 0 {
			hi = min(hi, to)
		}
		if lo >= hi {
			return
		}
		ps.Zap(v.start+uint64(lo-v.pgoff)*mem.PageSize, uint64(hi-lo)*mem.PageSize)
	}
}

// addVMA records v (its range must hold no other).
func (p *Process) addVMA(v *fileVMA) { p.mm.add(v) }

// add records v (its range must hold no other).
func (s *mmState) add(v *fileVMA) {
	i := sort.Search(len(s.vmas), func(i int) bool { return s.vmas[i].start >= v.start })
	s.vmas = append(s.vmas, nil)
	copy(s.vmas[i+1:], s.vmas[i:])
	s.vmas[i] = v
}

// forget drops the file-backed ranges in [start, end), ending, trimming
// or splitting the VMAs there. The caller unmaps or replaces the pages.
func (p *Process) forget(start, end uint64) { p.mm.forget(p.m, start, end) }

// forget is Process.forget for the ranges s of address space m.
func (s *mmState) forget(m Machine, start, end uint64) {
	s.unlock(start, end)
	s.clearAdvice(start, end)
	var keep []*fileVMA
	for _, v := range s.vmas {
		if v.end <= start || v.start >= end {
			keep = append(keep, v)
			continue
		}
		if v.start < start {
			left := *v
			left.end = start
			if v.end > end {
				right := *v
				right.start = end
				right.pgoff = v.pgoff + int64((end-v.start)/mem.PageSize)
				rp := &right
				rp.pager = v.pager.Clone(invalidatorIn(m, s, rp))
				keep = append(keep, v, rp)
				v.end = start
				continue
			}
			v.end = start
			keep = append(keep, v)
			continue
		}
		if v.end > end {
			v.pgoff += int64((end - v.start) / mem.PageSize)
			v.start = end
			keep = append(keep, v)
			continue
		}
		v.pager.Unmap()
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].start < keep[j].start })
	s.vmas = keep
}

// splitAt makes addr a VMA boundary if a VMA spans it.
func (p *Process) splitAt(addr uint64) {
	i := p.mm.find(addr)
	if i < 0 || p.mm.vmas[i].start == addr {
		return
	}
	v := p.mm.vmas[i]
	right := *v
	right.start = addr
	right.pgoff = v.pgoff + int64((addr-v.start)/mem.PageSize)
	rp := &right
	rp.pager = v.pager.Clone(p.invalidator(rp))
	v.end = addr
	p.addVMA(rp)
}

// errSIGBUS and errOOM are fillPage's outcomes that end in a signal.
var (
	errSIGBUS = errors.New("access beyond the end of a mapped file")
	errOOM    = errors.New("out of memory")
)

// fillPage provides the page at addr of a file-backed range: the file's
// page itself (shared, or private read), or a private copy of it
// (private write).
func (p *Process) fillPage(addr uint64, write bool) error {
	return fillPage(p.m, p.mm, addr, write)
}

// fillPage is Process.fillPage for address space m with ranges mm.
func fillPage(m Machine, mm *mmState, addr uint64, write bool) error {
	ps, ok := m.(pagedSpace)
	if !ok {
		return mem.ErrFault
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	i := mm.find(addr)
	if i < 0 {
		return mem.ErrFault
	}
	v := mm.vmas[i]
	page := addr &^ (mem.PageSize - 1)
	frame, err := v.pager.Page(v.pgoff + int64((page-v.start)/mem.PageSize))
	switch {
	case errors.Is(err, mem.ErrBeyondEOF):
		return errSIGBUS
	case errors.Is(err, mem.ErrNoMemory):
		return errOOM
	case err != nil:
		return errSIGBUS // no room in tmpfs: SIGBUS, as shmem_fault gives
	}
	frames := v.pager.Frames()
	defer frames.Free(frame)
	if fs, ok := ps.(sharedFiller); ok && v.shared {
		err := fs.FillShared(page, frame) // stays shared across fork
		if err == nil && !write {
			faultAround(ps, v, page)
		}
		return fillErr(err)
	}
	if v.shared || !write {
		err := ps.Fill(page, frame, !v.shared)
		if err == nil && !v.shared {
			faultAround(ps, v, page)
		}
		return fillErr(err)
	}
	cp, err := frames.Alloc()
	if err != nil {
		return errOOM
	}
	defer frames.Free(cp)
	*frames.Bytes(cp) = *frames.Bytes(frame)
	return fillErr(ps.Fill(page, cp, false))
}

// faultAroundBytes is the window a read fault of a private file mapping
// also maps (Linux's fault_around_bytes default, mm/memory.c).
const faultAroundBytes = 64 << 10

// cachedPager is a Pager that tells which pages the file holds already
// (vfs.Mapping.Cached).
type cachedPager interface {
	Cached(from, to int64, fn func(first int64, frames []uint64) error) error
}

// aroundFiller is a Machine that can map pages around a fault without
// replacing those there (kernel Space.FillAround).
type aroundFiller interface {
	FillAround(addr uint64, frames []uint64, cow, shared bool) error
}

// faultAround maps the pages of the file the page cache holds in the
// aligned window around page of file mapping v (copy-on-write if
// private), leaving the pages there already (mm/memory.c
// do_fault_around, for a read fault): a child whose fork left v's pages
// to its faults, or a program reading a file mapping, takes one fault per
// window, not per page. Best effort: what fails stays for a later fault.
func faultAround(ps pagedSpace, v *fileVMA, page uint64) {
	cp, ok := v.pager.(cachedPager)
	fa, ok2 := ps.(aroundFiller)
	if !ok || !ok2 {
		return
	}
	start := max(v.start, page&^(faultAroundBytes-1))
	end := min(v.end, page&^(faultAroundBytes-1)+faultAroundBytes)
	pg := func(a uint64) int64 { return v.pgoff + int64((a-v.start)/mem.PageSize) }
	cp.Cached(pg(start), pg(end), func(first int64, frames []uint64) error {
		return fa.FillAround(v.start+uint64(first-v.pgoff)*mem.PageSize, frames, !v.shared, v.shared)
	})
}

func fillErr(err error) error {
	if errors.Is(err, mem.ErrNoMemory) {
		return errOOM
	}
	return err
}

// pageFault serves a page fault the kernel sent here and reports whether
// the thread may go on; if not, it has been signalled.
func (t *Task) pageFault() bool {
	r := t.regs
	soft := r.ErrCode & kernel.PFSoft
	r.ErrCode &^= kernel.PFSoft
	var err error
	switch {
	case soft&kernel.PFNoMemory != 0:
		err = errOOM
	case soft&kernel.PFNeedFill != 0:
		err = t.p.fillPage(r.Addr, r.ErrCode&2 != 0)
	default:
		return false
	}
	switch err {
	case nil:
		return true
	case errOOM:
		// The kernel's garbage may hold the frames: collected, the
		// fault is tried again.
		if !kernel.UserMemoryShort() {
			return true
		}
		t.outOfMemory()
	case errSIGBUS:
		t.trapSignal(sigInfo{signo: linux.SigBus, code: linux.BusAdrerr, addr: r.Addr, trapno: 14, errcode: r.ErrCode})
	default:
		return false
	}
	return true
}

// fillForCopy returns the filler of the process's address space: it
// provides a page a system call's copy in or out touches, EFAULT where
// the application would get SIGBUS, ENOMEM out of memory. It keeps to the
// address space and ranges of now (another process sharing them may
// fault after this one execs).
func (p *Process) fillForCopy() func(addr uint64, write bool) error {
	m, mm := p.m, p.mm
	return func(addr uint64, write bool) error { return fillCopy(m, mm, addr, write) }
}

func fillCopy(m Machine, mm *mmState, addr uint64, write bool) error {
	switch err := fillPage(m, mm, addr, write); err {
	case nil:
		return nil
	case errOOM:
		return mem.ErrNoMemory
	default:
		return mem.ErrFault
	}
}
