package kernel

// Application address spaces and user mode, trap-context side. The Linux
// personality (north/) reaches these through private system calls that
// only kernel code can make (numbers from sysPrivate up, SYSCALL at CPL0);
// see uspace.go for the goroutine-side API.
//
// Entering user mode: runUser (trap_amd64.s), called by the thread's
// goroutine, disables interrupts, records where to come back (its stack
// pointer, just below a return address), and IRETQs into the application.
// A system call from user mode saves the registers straight into the
// thread's UserRegs and returns into runUser (the fast path, no Go code);
// an interrupt or exception goes through userTrap, which turns the trap
// frame into that same continuation. Trap context.

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
	sysSpaceMap   = 1003 // (space, addr, len, prot | fixed<<8) -> addr
	sysSpaceUnmap = 1004 // (space, addr, len)
	sysSpaceProt  = 1005 // (space, addr, len, prot)
	sysSpacePage  = 1006 // (space, addr, write) -> physical page
	sysSpaceZap   = 1007 // (space, addr, len): drop pages, keep mappings
	sysFPSync     = 1008 // (regs): save regs' live extended state to its area
	sysFPRelease  = 1009 // (regs): forget regs as the owner of live state
)

// Exit kinds RunUser returns (in RAX of the kernel continuation).
const (
	exitSyscall   = 1
	exitFault     = 2
	exitInterrupt = 3
)

// UserLo is the lowest address an application may map.
const UserLo = 0x10000

// maxSpaces bounds the application address spaces alive at once.
const maxSpaces = 4

// userSpace is one application address space: its PML4 and the VMA list
// that decides which pages may be populated on demand.
type userSpace struct {
	used bool
	pml4 uintptr // physical
	vmas vmspace.Space
}

var spaces [maxSpaces]userSpace

// userMode tells the SYSCALL stub that the CPU runs the application.
var userMode bool

// kernelFS is the FS base of the current kernel thread: the TLS block FS
// points at while handling a trap from user mode (Go's ABI wrappers read
// g from -8(FS)). It follows threads.Cur().FSBase.
var kernelFS uint64

// UserRegs layout offsets used from trap context: the frame registers,
// then the FS base and the extended-state area. Mirrors uspace.go.
type userRegsHead struct {
	Frame  cpu.Frame
	FSBase uint64
	FPOff  uint64 // offset of the 64-byte aligned extended-state area
	Vector uint64 // exit details: vector, error code, CR2
	Err    uint64
	Addr   uint64
	// XMM and MXCSR are where the system-call fast path saves XMM0-15 and
	// MXCSR (layout.h UR_XMM, UR_MXCSR); FPMode is 1 while the rest of
	// the extended state is live in the CPU (see fpOwner).
	XMM    [256]byte
	MXCSR  uint64
	FPMode uint64
}

// RFLAGS bits the application may set and keeps across a trap (AMD APM
// vol. 2, 3.1.6): CF, PF, AF, ZF, SF, TF, DF, OF, NT, RF, AC, ID, the
// bits a CPL3 POPFQ changes (and RF, which the CPU sets in fault frames),
// as Linux keeps them. IF is always set; IOPL, VM, VIF and VIP are never
// the application's. Mirrored by layout.h USER_FLAGS.
const userFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4000 | 0x10000 | 0x40000 | 0x200000

const flagTF = 0x100

// dr6Reset is DR6 with no status bit set: its reserved bits read as ones
// (AMD APM vol. 2, 13.1.1.3).
const dr6Reset = 0xffff0ff0

//go:nosplit
func canonicalUser(a uint64) bool { return a < uint64(cpu.UserEnd) }

//go:nosplit
func regsAt(p uintptr) *userRegsHead { return (*userRegsHead)(ptrAt(p)) }

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
		return spaceMap(int(a0), uintptr(a1), uintptr(a2), a3)
	case sysSpaceUnmap:
		return spaceUnmap(int(a0), uintptr(a1), uintptr(a2))
	case sysSpaceProt:
		return spaceProtect(int(a0), uintptr(a1), uintptr(a2), vmspace.Prot(a3))
	case sysSpacePage:
		return spacePage(int(a0), uintptr(a1), a2 != 0)
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
		return 0
	}
	if r, ok := memSyscall(f.RAX, a0, a1, a2, a3); ok {
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
		clear(cpu.Bytes(page, pageSize))
		kern := cpu.Virt(kernelPML4)
		for slot := uintptr(252); slot < 512; slot++ {
			*cpu.Ptr64(page + slot*8) = *cpu.Ptr64(kern + slot*8)
		}
		spaces[i] = userSpace{used: true, pml4: uintptr(p)}
		spaces[i].vmas.Init(UserLo, cpu.UserEnd)
		return int64(i)
	}
	return -linux.ENOMEM
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
	freeUserRange(s.pml4, UserLo, cpu.UserEnd, true)
	phys.Free(uint64(s.pml4))
	if currentTables() == s.pml4 {
		loadTables(kernelPML4)
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
	if protFixed&(1<<9) != 0 {
		kind = vmspace.Filled
	}
	if length == 0 || length+pageSize-1 < length {
		return -linux.EINVAL
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	if fixed {
		if addr%pageSize != 0 {
			return -linux.EINVAL
		}
		if addr < s.vmas.Lo || addr+length > s.vmas.Hi || addr+length < addr {
			return -linux.ENOMEM
		}
		// Record the new mapping before freeing a page of the old: SetKind
		// splits at most one region and adds one, so with two free slots
		// it cannot fail, and a failure leaves the old mapping whole.
		if s.vmas.Len()+2 > vmspace.MaxRegions || !s.vmas.SetKind(addr, length, prot, kind) {
			return -linux.ENOMEM
		}
		freeUserRange(s.pml4, addr, addr+length, false)
		return int64(addr)
	}
	a, ok := s.vmas.FindFree(addr&^(pageSize-1), length, pageSize)
	if !ok || !s.vmas.SetKind(a, length, prot, kind) {
		return -linux.ENOMEM
	}
	return int64(a)
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
	freeUserRange(s.pml4, lo, addr+length, false)
	s.vmas.Clear(lo, addr+length-lo)
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
	freeUserRange(s.pml4, addr, addr+length, false)
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
	if !s.vmas.Protect(addr, length, prot) {
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
				*pte = *pte&(pteFrame|pteCOW) | userPTE(cowProt(prot, *pte))
			}
		} else if *pte&pteProtNone != 0 && prot != 0 {
			*pte = *pte&(pteFrame|pteCOW) | userPTE(cowProt(prot, *pte))
		}
		if currentTables() == s.pml4 {
			cpu.Invlpg(va)
		}
	}
	return 0
}

// pteProtNone marks a kept page made inaccessible by PROT_NONE (an
// available bit, AMD APM vol. 2, 5.4.1).
const pteProtNone = 1 << 9

//go:nosplit
func userPTE(prot vmspace.Prot) uint64 {
	e := uint64(ptePresent|pteUser) | ptePrivate
	if prot&vmspace.Write != 0 {
		e |= pteWrite
	}
	if prot&vmspace.Exec == 0 {
		e |= pteNX
	}
	return e
}

// spacePage makes the page at addr present (if the VMA list allows the
// access) and returns its physical address.
//
//go:nosplit
func spacePage(i int, addr uintptr, write bool) int64 {
	s := getSpace(i)
	if s == nil {
		return -linux.EINVAL
	}
	p, st := userPopulate(s, addr, write)
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

// userPopulate makes the user page at va present if a VMA allows the
// access, and returns its physical address. It says popFill for a page
// of a Filled region the Linux personality has yet to provide (or a
// copy-on-write page written), popNoMemory when memory for the
// application is exhausted, popFault when no VMA allows the access.
//
//go:nosplit
func userPopulate(s *userSpace, va uintptr, write bool) (uintptr, int) {
	r, ok := s.vmas.Lookup(va)
	if !ok || r.Prot == 0 || write && r.Prot&vmspace.Write == 0 {
		return 0, popFault
	}
	pte, _ := walkIn(s.pml4, va, true, pteUser)
	if pte == nil {
		return 0, popNoMemory
	}
	if *pte&ptePresent != 0 {
		if write && *pte&pteCOW != 0 {
			return 0, popFill
		}
		return uintptr(*pte & pteFrame), popOK
	}
	if r.Kind == vmspace.Filled {
		return 0, popFill
	}
	p, ok := phys.AllocUser()
	if !ok {
		return 0, popNoMemory
	}
	clear(cpu.Bytes(cpu.Virt(uintptr(p)), pageSize))
	*pte = p | userPTE(r.Prot)
	return uintptr(p), popOK
}

// freeUserRange frees the pages of [start, end) in the tables at pml4,
// and with tables also the page-table pages themselves.
//
//go:nosplit
func freeUserRange(pml4, start, end uintptr, tables bool) {
	current := currentTables() == pml4
	for va := start; va < end; {
		pte, span := walkIn(pml4, va, false, 0)
		if pte == nil {
			va = va&^(span-1) + span
			continue
		}
		if *pte&(ptePresent|pteProtNone) != 0 {
			phys.Free(*pte & pteFrame)
			*pte = 0
			if current {
				cpu.Invlpg(va)
			}
		}
		va += pageSize
	}
	if tables {
		freeTables(pml4)
	}
}

// freeTables frees the user half's page-table pages (PML4 slots 0..251).
//
//go:nosplit
func freeTables(pml4 uintptr) {
	for i := uintptr(0); i < 252; i++ {
		e4 := cpu.Ptr64(cpu.Virt(pml4) + i*8)
		if *e4&ptePresent == 0 {
			continue
		}
		pdpt := uintptr(*e4 & pteFrame)
		for j := uintptr(0); j < 512; j++ {
			e3 := cpu.Ptr64(cpu.Virt(pdpt) + j*8)
			if *e3&ptePresent == 0 {
				continue
			}
			pd := uintptr(*e3 & pteFrame)
			for k := uintptr(0); k < 512; k++ {
				e2 := cpu.Ptr64(cpu.Virt(pd) + k*8)
				if *e2&ptePresent != 0 {
					phys.Free(*e2 & pteFrame)
				}
			}
			phys.Free(uint64(pd))
		}
		phys.Free(uint64(pdpt))
		*e4 = 0
	}
}

// Lazy extended state. XSAVE and XRSTOR are by far the dearest part of a
// system call under emulation, and the kernel's own Go code touches only
// XMM0-15 and MXCSR: the kernel's runtime runs with AVX disabled
// (RuntimeGodebug), and Go uses no x87. So the system-call fast path saves
// just those (into UserRegs.XMM/MXCSR) and leaves the rest of the
// application's extended state (x87, AVX upper halves) live in the CPU,
// recording its owner here. Before anything else could clobber that state
// (another thread entering user mode, a kernel thread switch, the Linux
// personality reading or writing the state for a signal, the thread's end)
// spillFP saves it with a full XSAVE, patched with the saved XMM and
// MXCSR, into the owner's area.
//
// Invariant: if fpOwner != 0, the CPU holds fpOwner's extended state but
// for XMM0-15 and MXCSR, which are in its UserRegs; fpOwner.FPMode is 1.
var fpOwner uintptr

// RuntimeGodebug is the GODEBUG the kernel gives its own runtime: no AVX,
// so kernel code never changes AVX state (see fpOwner).
const RuntimeGodebug = "GODEBUG=cpu.avx=off,cpu.avx2=off,cpu.avx512f=off"

// spillFP saves fpOwner's state into its area and clears fpOwner
// (trap_amd64.s). Clobbers X0.
func spillFP()

// The application thread in user mode, if any (one CPU: one at a time).
// userRegs is its *UserRegs; userKRSP/userKRBP are where its goroutine
// resumes: RSP points at the return address into runUser, so "RET with
// the exit kind in RAX" is the way back (trap_amd64.s, userResume).
var (
	userRegs    uintptr
	userSpaceID int
	userKRSP    uintptr
	userKRBP    uintptr
	// kernelFPArea is the current kernel thread's extended-state area,
	// where interrupts save state while it runs in kernel mode.
	kernelFPArea uintptr
)

// enterSpace is the address space userEnter last entered while its
// tables are still the loaded ones (loadTables resets it), or -1. For it,
// runUser does userEnter's work itself when the registers are enterable
// and the timer needs no arming (trap_amd64.s): the common return after
// a system call, with no Go call.
var enterSpace = -1

// userEnter prepares user mode for the goroutine in runUser: interrupts
// are off and the assembly that follows loads the registers and IRETQs.
// It returns 0, or an exit kind if the registers cannot be entered.
// runUser's fast path repeats what it does in the common case; keep the
// two in step.
//
//go:nosplit
func userEnter(regs uintptr, space int) uint64 {
	s := getSpace(space)
	r := regsAt(regs)
	if s == nil || !canonicalUser(r.Frame.RIP) || !canonicalUser(r.FSBase) {
		// IRETQ or WRMSR would fault in the kernel: report a #GP instead.
		r.Vector, r.Err, r.Addr = 13, 0, 0
		return exitFault
	}
	if currentTables() != s.pml4 {
		loadTables(s.pml4)
	}
	enterSpace = space
	userRegs, userSpaceID = regs, space
	fpArea = regs + uintptr(r.FPOff)
	fsWant = r.FSBase
	userMode = true
	armTimerUser()
	return 0
}

// userTrap handles an interrupt or exception taken in user mode (system
// calls take the assembly fast path). A page fault the VMA list allows is
// served here and the application resumes; everything else saves the
// application's registers and turns the frame into the goroutine's
// continuation, which returns from runUser with the exit kind.
//
//go:nosplit
func userTrap(f *cpu.Frame) {
	if userRegs == 0 {
		kprint("\ncocoon: user-mode trap without a user thread\n")
		kernelFault(f)
	}
	r := regsAt(userRegs)
	kind := uint64(exitInterrupt)
	switch {
	case f.Vector == cpu.VectorSyscall:
		kind = exitSyscall
	case f.Vector == vecTimer:
		armedAt = 0
		platform.EOI()
	case f.Vector == vecSpurious:
	case f.Vector >= 32:
		platform.EOI()
	case f.Vector == vecPageFault:
		addr := cpu.Rcr2()
		const pfPresent, pfWrite = 1 << 0, 1 << 1
		var soft uint64
		if f.ErrCode&pfPresent == 0 {
			_, st := userPopulate(&spaces[userSpaceID], addr, f.ErrCode&pfWrite != 0)
			if st == popOK {
				fsWant = r.FSBase // straight back to the application
				userMode = true
				return
			}
			soft = popErrBits(st)
		} else if f.ErrCode&pfWrite != 0 && cowPage(&spaces[userSpaceID], addr) {
			soft = PFNeedFill
		}
		kind = exitFault
		r.Addr = uint64(addr)
		f.ErrCode |= soft
	case f.Vector == vecDebug:
		// What the step or breakpoint was (DR6.BS, B0-B3) decides the
		// signal's si_code; the status is sticky, so reset it.
		kind = exitFault
		r.Addr = cpu.Rdr6()
		cpu.Ldr6(dr6Reset)
	default:
		kind = exitFault
		r.Addr = 0
	}
	if kind == exitFault {
		r.Vector, r.Err = f.Vector, f.ErrCode
	}
	r.Frame = *f
	userRegs = 0
	// trapCommon saved the application's full state into its area.
	if fpOwner == uintptr(ptrOf2(r)) {
		fpOwner = 0
	}
	r.FPMode = 0
	*f = cpu.Frame{
		RIP:    uint64(funcAddr(2)), // userResume: RET into runUser
		RSP:    uint64(userKRSP),
		RBP:    uint64(userKRBP),
		RAX:    kind,
		CS:     cpu.KCode,
		SS:     cpu.KData,
		RFLAGS: cpu.FlagsKernel,
	}
	fsWant = kernelFS
	fpArea = kernelFPArea
	fpRestore = false
}
