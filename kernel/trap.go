package kernel

// The trap dispatcher: every interrupt, exception and system call arrives
// here from trap_amd64.s with a frame on the trap stack. Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/sched"
)

var trapDepth int

// trap handles one trap and then lets the scheduler pick the context the
// frame returns to.
//
//go:nosplit
func trap(f *cpu.Frame) {
	trapDepth++
	if trapDepth > 1 {
		if trapDepth == 2 {
			kprint("\ncocoon: fault inside a trap handler\n")
			kernelFault(f)
		}
		platform.PowerOff(ExitKernelFault)
		cpu.Halt()
	}
	if f.Vector >= 32 && f.Vector != cpu.VectorSyscall {
		interrupts++
	}
	if inWindow {
		windowTrap(f)
		trapDepth--
		return
	}
	if f.FromUser() {
		userTrap(f)
		if userMode { // a page fault served: straight back to the application
			armTimerUser()
		} else {
			reschedule(f)
		}
		trapDepth--
		return
	}
	switch {
	case f.Vector == cpu.VectorSyscall:
		handleSyscall(f)
	case f.Vector == vecTimer:
		profRecord(f)
		armedAt = 0
		platform.EOI()
	case f.Vector == vecNet:
		netInterrupt()
		platform.EOI()
	case f.Vector == vecSpurious:
	case f.Vector == vecPageFault && !f.FromUser() && demandFault(cpu.Rcr2(), f.ErrCode):

	case f.Vector >= 32:
		platform.EOI() // a device interrupt nobody asked for
	default:
		kernelFault(f)
	}
	reschedule(f)
	trapDepth--
}

// Exit windows (trapCommon): a trap from kernel mode that found FS not
// holding the kernel thread's TLS interrupted code between loading an
// FS base for the context being entered and leaving CPL0, with
// interrupts off. Only an NMI or #MC can do that; it is handled without
// rescheduling, and the exit path puts windowFS and windowLoaded back.
var (
	inWindow     bool
	windowFS     uint64
	windowLoaded uint64
)

// windowTrap handles a trap taken in an exit window.
//
//go:nosplit
func windowTrap(f *cpu.Frame) {
	switch {
	case f.Vector == vecNMI:
		kprint("\ncocoon: NMI ignored\n")
		return
	case f.Vector == vecDebug && f.RIP == uint64(funcAddr(1)):
		// A CPU that single-steps SYSCALL itself when the application
		// set TF traps on the entry's first instruction: the step
		// belongs to the application, whose TF comes back from R11.
		cpu.Ldr6(dr6Reset)
		f.RFLAGS &^= flagTF
		return
	}
	kprint("\ncocoon: trap while leaving the kernel\n")
	kernelFault(f)
}

// reschedule wakes sleepers whose time has come, lets the scheduler pick
// the next thread and, if it changed, swaps the frame on the trap stack
// for the new thread's registers.
//
//go:nosplit
func reschedule(f *cpu.Frame) {
	now := nanotime()
	reloadTLB(now)
	threads.Expire(now)
	cur := threads.Current()
	// A thread that blocked or yielded in this trap already saved its
	// frame (block, sched_yield); one that exited needs none.
	stopped := cur != sched.Idle && threads.T[cur].State != sched.Running
	prev, next := threads.Pick(now)
	if prev != next {
		countSwitch(prev, next, now)
	}
	if prev == next {
		if stopped {
			*f = threads.T[cur].Frame // woken at once: resume with its result
		}
		armTimer(now)
		return
	}
	p := &threads.T[prev]
	if !stopped {
		p.Frame = *f
	}
	p.FPValid = fpRestore
	// The next thread's XRSTOR would overwrite live application state.
	if fpOwner != 0 {
		spillFP()
	}
	n := &threads.T[next]
	*f = n.Frame
	fpArea = areaOf(next)
	fpRestore = n.FPValid
	fsWant = n.FSBase
	kernelFS = n.FSBase
	kernelFPArea = fpArea
	armTimer(now)
}

// Idle and switch accounting for /proc/uptime and /proc/stat (Linux's
// idle task time and nr_context_switches): written only here, in trap
// context; read by goroutines as single words.
var (
	idleNS    int64 // time the idle thread ran, up to idleSince
	idleSince int64 // when the idle thread last started running; 0 if it is not running
	switches  uint64
	// interrupts counts the external interrupts taken (Linux's
	// kstat_irqs_sum over all IRQs).
	interrupts uint64
)

// countSwitch notes a switch from thread prev to next at time now.
//
//go:nosplit
func countSwitch(prev, next int, now int64) {
	switches++
	if prev == sched.Idle && idleSince != 0 {
		idleNS += now - idleSince
		idleSince = 0
	}
	if next == sched.Idle {
		idleSince = now
	}
}

// block saves the current thread's registers and blocks it (see
// sched.Table.Block). The system call's result is set when it wakes.
//
//go:nosplit
func block(f *cpu.Frame, key uintptr, deadline, onTimeout, restart int64) {
	threads.Cur().Frame = *f
	threads.Block(key, deadline, onTimeout, restart)
}

var vectorNames = [32]string{
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
	"", "", "", "", "", "", "#HV hypervisor injection", "#VC VMM communication",
	"#SX security", "",
}

// kernelFault reports an exception the kernel cannot handle and powers
// off with ExitKernelFault.
//
//go:nosplit
func kernelFault(f *cpu.Frame) {
	kernelBugBanner()
	kprint("cocoon: kernel fault: vector ")
	kprintDec(int64(f.Vector))
	if f.Vector < 32 {
		kprint(" (")
		kprint(vectorNames[f.Vector])
		kprint(")")
	}
	kprint("\n  rip=")
	kprintHex(f.RIP)
	kprint(" rsp=")
	kprintHex(f.RSP)
	kprint(" err=")
	kprintHex(f.ErrCode)
	kprint(" cr2=")
	kprintHex(uint64(cpu.Rcr2()))
	kprint(" cs=")
	kprintHex(f.CS)
	kprint(" tid=")
	kprintDec(int64(threads.Cur().Tid))
	kprint("\n  rax=")
	kprintHex(f.RAX)
	kprint(" rbx=")
	kprintHex(f.RBX)
	kprint(" rcx=")
	kprintHex(f.RCX)
	kprint(" rdx=")
	kprintHex(f.RDX)
	kprint(" rsi=")
	kprintHex(f.RSI)
	kprint(" rdi=")
	kprintHex(f.RDI)
	kprint("\n")
	powerOff(ExitKernelFault)
}

// powerOff prints the exit status on the console and stops the machine.
//
//go:nosplit
func powerOff(status int) {
	kprint("cocoon: exit status ")
	kprintDec(int64(status))
	kprint("\n")
	platform.PowerOff(status)
	cpu.Halt()
}
