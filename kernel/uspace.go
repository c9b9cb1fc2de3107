package kernel

// Application address spaces and user mode, goroutine side: the API the
// Linux personality (north/) builds on. Goroutine context: ordinary Go.
// Each call that changes trap-layer state is a private system call, so the
// trap layer's structures are only ever touched with interrupts off.

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// UserRegs is an application thread's register state while it is not
// running: general registers, RIP, RFLAGS and RSP in Frame (CS and SS are
// always the user selectors), the FS base, the extended state, and the
// details of the last exit from user mode. Create with NewUserRegs.
type UserRegs struct {
	Frame  cpu.Frame
	FSBase uint64
	fpOff  uint64
	// Vector, ErrCode and Addr describe the last fault: the exception
	// vector, its error code and, for page faults, the faulting address;
	// for #DB, DR6 (what the step or breakpoint was).
	Vector, ErrCode, Addr uint64
	// The system-call fast path's partial save (see fpOwner in lazyfp.go).
	xmm    [256]byte
	mxcsr  uint64
	fpMode uint64
	// EnterTSC and ExitTSC are the TSC when the thread last entered user
	// mode and last came back from it (TSCNanos converts differences):
	// ExitTSC-EnterTSC is the time the last Run spent in user mode.
	EnterTSC, ExitTSC uint64
	// sel holds the thread's DS, ES, FS and GS selectors (16 bits each,
	// in that order) while another thread's are loaded (selOwner).
	sel uint64
	fp  [fpAreaSize + 64]byte
}

// The trap layer reads UserRegs through userRegsHead.
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.fpOff)-unsafe.Offsetof(userRegsHead{}.FPOff)]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.Addr)-unsafe.Offsetof(userRegsHead{}.Addr)]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.fpMode)-unsafe.Offsetof(userRegsHead{}.FPMode)]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.ExitTSC)-unsafe.Offsetof(userRegsHead{}.ExitTSC)]

// The assembly's offsets and limits (layout.h UR_*, USER_END).
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.FSBase)-176]
var _ = [1]struct{}{}[cpu.UserEnd-0x7e0000000000]
var _ = [1]struct{}{}[userFlags-0x254dd5]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.fpOff)-184]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.xmm)-216]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.mxcsr)-472]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.fpMode)-480]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.EnterTSC)-488]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.ExitTSC)-496]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.sel)-504]
var _ = [1]struct{}{}[unsafe.Offsetof(UserRegs{}.sel)-unsafe.Offsetof(userRegsHead{}.Sel)]

// NewUserRegs returns registers in their initial state: zero, with the x87
// and SSE control words at their reset values (FCW 0x37f, MXCSR 0x1f80;
// Intel SDM vol. 1, 8.1.5 and 10.2.3).
//
// Every page of the new registers is written here, not left to be paged
// in on first touch: trap context reads and writes them with interrupts
// off (enterUserAsm's XRSTOR, trapSaveFP's XSAVE, the system-call fast
// path), and a page fault on the extended-state area there cannot be
// served, since the fault's own entry saves to that same area
// (trapSaveFP) and faults again, forever. Go leaves a fresh span's pages
// untouched, and the area spans two pages: an execve'd program's first
// entry hung the guest that way.
func NewUserRegs() *UserRegs {
	r := new(UserRegs)
	// unsafe: a byte view of r itself, to write every page it spans.
	clear(unsafe.Slice((*byte)(unsafe.Pointer(r)), unsafe.Sizeof(*r)))
	base := uintptr(unsafe.Pointer(&r.fp[0]))
	r.fpOff = uint64((base+63)&^63 - uintptr(unsafe.Pointer(r)))
	fp := r.fpArea()
	binary.LittleEndian.PutUint16(fp[0:], 0x37f)
	binary.LittleEndian.PutUint32(fp[24:], 0x1f80)
	r.Frame.RFLAGS = cpu.FlagsKernel
	return r
}

// FPState is the extended-state area in XSAVE (or, without XSAVE, FXSAVE)
// format. Its first 512 bytes are always the FXSAVE layout. Any state the
// thread left live in the CPU is saved into it first, so it is current
// and may be changed.
func (r *UserRegs) FPState() []byte {
	if r.fpMode != 0 {
		privcall(sysFPSync, uintptr(unsafe.Pointer(r)), 0, 0, 0)
	}
	return r.fpArea()
}

func (r *UserRegs) fpArea() []byte {
	start := r.fpOff - uint64(unsafe.Offsetof(r.fp))
	return r.fp[start : start+fpAreaSize]
}

// Release must be called when the thread is gone, before r may be
// reused or collected: the kernel may still record it as the owner of
// live extended state.
func (r *UserRegs) Release() {
	privcall(sysFPRelease, uintptr(unsafe.Pointer(r)), 0, 0, 0)
}

// CopyFrom makes r a copy of o (for clone), keeping r's own layout. The
// segment selectors come too (copy_thread saves the parent's).
func (r *UserRegs) CopyFrom(o *UserRegs) {
	privcall(sysSelSync, uintptr(unsafe.Pointer(o)), 0, 0, 0)
	r.Frame, r.FSBase, r.sel = o.Frame, o.FSBase, o.sel
	copy(r.FPState(), o.FPState())
}

// XSAVE reports whether FPState is in XSAVE format.
func XSAVE() bool { return useXSAVE }

// ExitKind says why RunUser returned.
type ExitKind int

const (
	// ExitSyscall: the application made a system call (RAX and the
	// argument registers are in Frame; RIP is past the SYSCALL).
	ExitSyscall ExitKind = exitSyscall
	// ExitFault: an exception (Vector, ErrCode, Addr say which).
	ExitFault ExitKind = exitFault
	// ExitInterrupt: an interrupt; nothing for the application to see.
	ExitInterrupt ExitKind = exitInterrupt
)

// Space is an application address space.
type Space struct {
	id int
	// mu serialises changes to the mappings and copies in and out.
	mu sync.Mutex
	// pages remembers the last translations copies used (guarded by mu).
	pages pageCache
	// fill provides a page of a Filled region that a copy in or out
	// touches (SetFiller); without it such a copy faults.
	fill func(addr uint64, write bool) error
	// grow may map an address where nothing is (SetGrower).
	grow func(addr uint64) bool
}

// privcall makes a private system call into the trap layer.
func privcall(nr, a0, a1, a2, a3 uintptr) (r1 uintptr, err syscall.Errno)

func errnoOf(r uintptr, e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// NewSpace creates an empty application address space.
func NewSpace() (*Space, error) {
	id, e := privcall(sysSpaceNew, 0, 0, 0, 0)
	if e != 0 {
		return nil, e
	}
	return &Space{id: int(id)}, nil
}

// Free releases the address space and all its memory.
func (s *Space) Free() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errnoOf(privcall(sysSpaceFree, uintptr(s.id), 0, 0, 0))
}

// SetMmapBase sets where Map without a usable hint searches for room:
// the highest free range below base, as Linux's top-down layout
// (mm->mmap_base), or with base 0 the lowest from a third of the range
// up, its legacy layout. A new space searches down from its top.
func (s *Space) SetMmapBase(base uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errnoOf(privcall(sysSpaceBase, uintptr(s.id), uintptr(base), 0, 0))
}

// FindFree returns the lowest address in [lo, hi) where length bytes
// are free (MAP_32BIT's search, bottom-up in the low 2 GiB).
func (s *Space) FindFree(lo, hi, length uint64) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := privcall(sysSpaceFind, uintptr(s.id), uintptr(lo), uintptr(hi), uintptr(length))
	return uint64(r), e == 0
}

// Map maps [addr, addr+length) to zero-filled memory with prot (Linux
// PROT_* bits). With fixed, exactly there (replacing what was mapped);
// otherwise addr is a hint, and without a free range there the mapping
// goes where SetMmapBase says. Pages are allocated on first touch.
func (s *Space) Map(addr, length uint64, prot uint8, fixed bool) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pf := uintptr(prot)
	if fixed {
		pf |= 1 << 8
	}
	r, e := privcall(sysSpaceMap, uintptr(s.id), uintptr(addr), uintptr(length), pf)
	return uint64(r), errnoOf(r, e)
}

// Unmap removes the mappings of [addr, addr+length) and frees their pages.
func (s *Space) Unmap(addr, length uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errnoOf(privcall(sysSpaceUnmap, uintptr(s.id), uintptr(addr), uintptr(length), 0))
}

// Protect changes the protection of the mapped range [addr, addr+length).
func (s *Space) Protect(addr, length uint64, prot uint8) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errnoOf(privcall(sysSpaceProt, uintptr(s.id), uintptr(addr), uintptr(length), uintptr(prot)))
}

// Zap frees the pages of [addr, addr+length) but keeps the mappings, so
// the next touch sees zeros (MADV_DONTNEED).
func (s *Space) Zap(addr, length uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errnoOf(privcall(sysSpaceZap, uintptr(s.id), uintptr(addr), uintptr(length), 0))
}

// Initrd returns the boot module (the application archive) in place, or
// nil if the machine was booted without one.
func Initrd() []byte {
	if initrdSize == 0 {
		return nil
	}
	return cpu.Bytes(cpu.Virt(uintptr(initrdPhys)), uintptr(initrdSize))
}

// ErrFault is returned by the copy functions for a bad address.
var ErrFault = syscall.EFAULT

// page returns the direct-map address of the page holding addr, made
// present for access acc (accRead, accWrite, accForce) if the mapping
// allows it. A read of an untouched anonymous page returns the shared
// zero frame: only accWrite and accForce return a page that may be
// written.
func (s *Space) page(addr uint64, acc int) (uintptr, error) {
	va := addr &^ (pageSize - 1)
	gen := atomic.LoadUint64(&ptGen)
	if forced(acc) {
		// A forced write may copy the page: its cached translation goes
		// (the others stand: only this page changes). A forced read may
		// see a page the application cannot: not cached.
		s.pages.drop(va)
	} else if p, ok := s.pages.lookup(gen, va, acc == accWrite); ok {
		return p, nil
	}
	p, e := privcall(sysSpacePage, uintptr(s.id), uintptr(va), uintptr(acc), 0)
	switch e {
	case 0:
		p = cpu.Virt(p)
		if !forced(acc) {
			s.pages.add(gen, va, p, acc == accWrite)
		}
		return p, nil
	case syscall.EAGAIN, syscall.ENOMEM:
		return 0, e
	}
	return 0, ErrFault
}

// copyPages runs fn over the pages of [addr, addr+n) through the direct
// map, each made present for access acc; fn nil only makes them present.
func (s *Space) copyPages(addr uint64, n int, acc int, fn func(page []byte)) error {
	if addr+uint64(n) < addr || addr+uint64(n) > uint64(cpu.UserEnd) {
		return ErrFault
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n > 0 {
		p, err := s.page(addr, acc)
		if err == syscall.EAGAIN && s.fill != nil {
			// The personality provides the page; it installs it through
			// Fill, which takes mu.
			s.mu.Unlock()
			err = s.fill(addr, acc == accWrite)
			s.mu.Lock()
			if err != nil {
				return err
			}
			continue
		}
		if err == ErrFault && s.grow != nil {
			if _, e := privcall(sysSpaceLookup, uintptr(s.id), uintptr(addr), 0, 0); e != 0 {
				// Nothing is mapped there: the stack may grow to it
				// (expand_stack). Once it has, the page is mapped and
				// this is not tried again.
				grow := s.grow
				s.mu.Unlock()
				ok := grow(addr)
				s.mu.Lock()
				if ok {
					continue
				}
			}
		}
		if err != nil {
			if err == syscall.EAGAIN {
				return ErrFault
			}
			return err
		}
		off := int(addr % pageSize)
		k := pageSize - off
		if k > n {
			k = n
		}
		if fn != nil {
			fn(cpu.Bytes(p+uintptr(off), uintptr(k)))
		}
		addr += uint64(k)
		n -= k
	}
	return nil
}

// CopyIn reads len(dst) bytes of application memory at addr.
func (s *Space) CopyIn(addr uint64, dst []byte) error {
	done := 0
	return s.copyPages(addr, len(dst), accRead, func(b []byte) { done += cpu.Copy(dst[done:], b) })
}

// CopyOut writes src to application memory at addr, which must be
// writable.
func (s *Space) CopyOut(addr uint64, src []byte) error {
	done := 0
	return s.copyPages(addr, len(src), accWrite, func(b []byte) { done += cpu.Copy(b, src[done:]) })
}

// CompareAndSwapUint32 sets the 4-aligned word at addr, which must be
// writable, to nv if it holds old, atomically against the application's
// own locked instructions on it (a futex word), and returns its value
// before.
func (s *Space) CompareAndSwapUint32(addr uint64, old, nv uint32) (uint32, error) {
	if addr%4 != 0 {
		return 0, ErrFault
	}
	var was uint32
	err := s.copyPages(addr, 4, accWrite, func(b []byte) {
		// unsafe: b is the word's 4 bytes in the direct map, as aligned as addr.
		p := (*uint32)(unsafe.Pointer(&b[0]))
		for {
			was = atomic.LoadUint32(p)
			if was != old || atomic.CompareAndSwapUint32(p, old, nv) {
				return
			}
		}
	})
	return was, err
}

// Load writes data at addr ignoring the protection (program loading).
func (s *Space) Load(addr uint64, data []byte) error {
	done := 0
	return s.copyPages(addr, len(data), accForce, func(b []byte) { done += cpu.Copy(b, data[done:]) })
}

// ForceIn reads len(dst) bytes at addr ignoring the protection: a
// PROT_NONE page too, read as ptrace's FOLL_FORCE does (/proc/PID/mem).
func (s *Space) ForceIn(addr uint64, dst []byte) error {
	done := 0
	return s.copyPages(addr, len(dst), accForceRead, func(b []byte) { done += cpu.Copy(dst[done:], b) })
}

// Populate makes the pages of [addr, addr+length) present as a read (an
// untouched anonymous page maps the zero frame) or, with write, as a
// write (a page of its own; copy-on-write broken) would, without
// changing their contents: MAP_POPULATE, mlock, MADV_POPULATE_READ and
// _WRITE. It stops at the first page the mapping does not allow.
func (s *Space) Populate(addr, length uint64, write bool) error {
	if length > uint64(cpu.UserEnd) {
		return ErrFault
	}
	acc := accRead
	if write {
		acc = accWrite
	}
	return s.copyPages(addr, int(length), acc, nil)
}

// runUser enters user mode (trap_amd64.s).
func runUser(regs *UserRegs, space uintptr) uintptr

// Run runs the application thread with registers r in this address space
// until it makes a system call, faults or is interrupted, and says which.
// r is updated with the registers at that point.
func (s *Space) Run(r *UserRegs) ExitKind {
	if timeline[PhaseUser] == 0 { // a clock read on the first entry only
		Mark(PhaseUser)
	}
	return ExitKind(runUser(r, uintptr(s.id)))
}

// FPStateSize is the size of the application's extended state in its
// save format: the XSAVE area for the enabled features (CPUID leaf 0xD,
// sub-leaf 0, EBX; Intel SDM vol. 1, 13.2), or 512 bytes of FXSAVE.
func FPStateSize() int {
	if !useXSAVE {
		return 512
	}
	_, b, _, _ := cpu.Cpuid(0xd, 0)
	if b == 0 || b > fpAreaSize {
		return fpAreaSize
	}
	return int(b)
}

// MXCSRMask returns the processor's MXCSR_MASK, the MXCSR bits it
// supports (FXSAVE bytes 28-31, 0 meaning 0xffbf: Intel SDM vol. 1,
// 11.6.6): setting any other bit makes FXRSTOR and XRSTOR #GP.
func MXCSRMask() uint32 {
	var buf [512 + 16]byte
	// unsafe: the 16-byte aligned start of buf, which FXSAVE requires.
	p := (*byte)(unsafe.Add(unsafe.Pointer(&buf[0]), (16-uintptr(unsafe.Pointer(&buf[0]))%16)%16))
	cpu.Fxsave(p)
	// unsafe: bytes 28-31 of the image just written.
	m := *(*uint32)(unsafe.Add(unsafe.Pointer(p), 28))
	if m == 0 {
		m = 0xffbf
	}
	return m
}

// XCR0 returns the extended features the kernel enabled (0 without XSAVE).
func XCR0() uint64 {
	if !useXSAVE {
		return 0
	}
	a, _, _, d := cpu.Cpuid(0xd, 0)
	return (uint64(d)<<32 | uint64(a)) & 7
}

// VDSO returns the vDSO's two pages (an ELF page with
// __vdso_clock_gettime, then the clock data page) for mapping into the
// application.
func VDSO() []byte { return cpu.Bytes(vdsoBase(), 2*pageSize) }

// TSC reads the time-stamp counter, the clock of UserRegs.EnterTSC and
// ExitTSC.
func TSC() uint64 { return cpu.Rdtsc() }

// TSCNanos converts a difference of TSC readings to nanoseconds (0
// before the clock is calibrated: host tests).
func TSCNanos(d uint64) int64 {
	hi, lo := bits.Mul64(d, tscMult)
	return int64(hi<<32 | lo>>32)
}

// Monotonic returns CLOCK_MONOTONIC as the vDSO computes it, or false
// before the clock is calibrated (host tests).
func Monotonic() (int64, bool) {
	if tscMult == 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(cpu.Rdtsc()-tscBase, tscMult)
	return int64(hi<<32 | lo>>32), true
}

// ptGen counts the trap layer's events that may change a translation of
// an application's page tables: every private system call but
// sysSpacePage, and every copy on write of a page fault in user mode (a
// fault that populates a page that was not present changes none). Trap
// context writes it; goroutines read it atomically.
var ptGen uint64

// pageCache holds a few translations sysSpacePage returned, so that the
// copies of a system call's arguments and results (read and write
// buffers, epoll events, futex words: the same pages call after call)
// need no private system call. An entry stands while ptGen has not
// moved since it was made, that is, while nothing could have unmapped,
// protected, forked (made copy-on-write) or replaced its page: a
// translation for writing (accWrite) was made writable by its
// sysSpacePage (copied if copy-on-write or the zero frame) and stays so
// until such an event; one for reading may be the zero frame, which a
// write translation of the page then replaces. sysSpacePage itself
// changes only the entry of the page it translates, which its result
// replaces here. Guarded by Space.mu.
type pageCache struct {
	gen  uint64
	next int
	e    [16]pageEntry
}

type pageEntry struct {
	va    uint64  // page address
	p     uintptr // its frame in the direct map; 0: unused
	write bool    // translated for writing
}

// lookup returns the direct-map address of page va if it is cached at
// generation gen, for writing if write.
func (c *pageCache) lookup(gen, va uint64, write bool) (uintptr, bool) {
	if c.gen != gen {
		return 0, false
	}
	for i := range c.e {
		if e := &c.e[i]; e.va == va && e.p != 0 && (e.write || !write) {
			return e.p, true
		}
	}
	return 0, false
}

// drop forgets page va.
func (c *pageCache) drop(va uint64) {
	for i := range c.e {
		if c.e[i].va == va {
			c.e[i] = pageEntry{}
		}
	}
}

// add records the translation of page va made at generation gen.
func (c *pageCache) add(gen, va uint64, p uintptr, write bool) {
	if c.gen != gen {
		*c = pageCache{gen: gen}
	}
	for i := range c.e {
		if c.e[i].va == va { // a write translation may follow a read one
			c.e[i] = pageEntry{va, p, write || c.e[i].write && c.e[i].p == p}
			return
		}
	}
	c.e[c.next] = pageEntry{va, p, write}
	c.next = (c.next + 1) % len(c.e)
}
