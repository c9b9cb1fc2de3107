package kernel

// User mode, trap-context side: entering the application and handling
// what brings it back.
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
)

// Exit kinds RunUser returns (in RAX of the kernel continuation).
const (
	exitSyscall   = 1
	exitFault     = 2
	exitInterrupt = 3
)

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
	// EnterTSC and ExitTSC are the TSC when the thread last entered user
	// mode and when it last left it for its goroutine (enterUserAsm, the
	// system-call fast path, userTrap): CPU-time accounting without a
	// clock read of its own.
	EnterTSC uint64
	ExitTSC  uint64
	// Sel is UserRegs.sel: the thread's DS, ES, FS and GS (see selOwner).
	Sel uint64
}

// RFLAGS bits the application may set and keeps across a trap (AMD APM
// vol. 2, 3.1.6): CF, PF, AF, ZF, SF, TF, DF, OF, NT, RF, AC, ID, the
// bits a CPL3 POPFQ changes (and RF, which the CPU sets in fault frames),
// as Linux keeps them. IF is always set; IOPL, VM, VIF and VIP are never
// the application's. Mirrored by layout.h USER_FLAGS.
const userFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4000 | 0x10000 | 0x40000 | 0x200000

const flagTF = 0x100

// Page-fault error code bits (AMD APM vol. 2, 8.4.2).
const (
	pfUser  = 1 << 2
	pfFetch = 1 << 4
)

// dr6Reset is DR6 with no status bit set: its reserved bits read as ones
// (AMD APM vol. 2, 13.1.1.3).
const dr6Reset = 0xffff0ff0

//go:nosplit
func canonicalUser(a uint64) bool { return a < uint64(cpu.UserEnd) }

//go:nosplit
func regsAt(p uintptr) *userRegsHead { return (*userRegsHead)(ptrAt(p)) }

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
		// IRETQ or WRMSR would fault in the kernel: report a #GP instead,
		// with no time spent in user mode. A canonical RIP outside user
		// memory (a kernel address, rt_sigreturn may set one) is what
		// Linux enters and takes a page fault on, fetching at CPL3
		// (error code user, instruction fetch: AMD APM vol. 2, 8.4.2).
		r.Vector, r.Err, r.Addr = 13, 0, 0
		if s != nil && canonicalUser(r.FSBase) && (r.Frame.RIP < 1<<47 || r.Frame.RIP >= 0xffff_8000_0000_0000) {
			r.Vector, r.Err, r.Addr = 14, pfUser|pfFetch, r.Frame.RIP
		}
		r.EnterTSC = cpu.Rdtsc()
		r.ExitTSC = r.EnterTSC
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
	case f.Vector == vecNet:
		netInterrupt()
		platform.EOI()
	case f.Vector == vecSpurious:
	case f.Vector >= 32:
		platform.EOI()
	case f.Vector == vecPageFault:
		addr := cpu.Rcr2()
		const pfPresent, pfWrite = 1 << 0, 1 << 1
		var soft uint64
		if f.ErrCode&pfPresent == 0 {
			// The page was not present (AMD APM vol. 2, 8.4.2: error
			// code P clear), so no translation of it is cached: the
			// copies' pageCache holds present pages only, and making one
			// present where none was changes no other. ptGen stays: an
			// application growing its heap would otherwise make the next
			// copy of a system call's buffer ask for its page again.
			acc := accRead
			if f.ErrCode&pfWrite != 0 {
				acc = accWrite
			}
			_, st := userPopulate(&spaces[userSpaceID], addr, acc)
			if st == popOK {
				fsWant = r.FSBase // straight back to the application
				userMode = true
				return
			}
			soft = popErrBits(st)
		} else if f.ErrCode&pfWrite != 0 {
			ptGen++ // copying on write replaces a present page's frame (pageCache)
			st := cowBreak(&spaces[userSpaceID], addr, false)
			if st == popOK {
				fsWant = r.FSBase
				userMode = true
				return
			}
			soft = popErrBits(st)
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
	r.ExitTSC = cpu.Rdtsc()
	userRegs = 0
	// trapSaveUserFP saved the application's XMM0-15 and MXCSR into r and
	// left the rest live with r as fpOwner, as a system call does.
	fpUser = false
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
