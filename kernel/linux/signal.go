package linux

// Signal numbers (arch/x86/include/uapi/asm/signal.h). SigKill and SigStop
// are in linux.go.
const (
	SigHup    = 1
	SigInt    = 2
	SigQuit   = 3
	SigIll    = 4
	SigTrap   = 5
	SigAbrt   = 6
	SigBus    = 7
	SigFpe    = 8
	SigUsr1   = 10
	SigSegv   = 11
	SigUsr2   = 12
	SigPipe   = 13
	SigAlrm   = 14
	SigTerm   = 15
	SigStkflt = 16
	SigChld   = 17
	SigCont   = 18
	SigTstp   = 20
	SigTtin   = 21
	SigTtou   = 22
	SigUrg    = 23
	SigXcpu   = 24
	SigXfsz   = 25
	SigVtalrm = 26
	SigProf   = 27
	SigWinch  = 28
	SigIO     = 29 // also SIGPOLL
	SigPwr    = 30
	SigSys    = 31
)

// sigaction sa_flags (arch/x86/include/uapi/asm/signal.h,
// include/uapi/asm-generic/signal-defs.h).
const (
	SaNocldstop = 0x00000001
	SaNocldwait = 0x00000002
	SaSiginfo   = 0x00000004
	SaRestorer  = 0x04000000
	SaOnstack   = 0x08000000
	SaRestart   = 0x10000000
	SaNodefer   = 0x40000000
	SaResethand = 0x80000000
)

// sigaltstack ss_flags (include/uapi/linux/signal.h). SSDisable is in
// linux.go.
const (
	SSOnstack    = 1
	SSAutodisarm = 1 << 31
)

// si_code values for any signal (include/uapi/asm-generic/siginfo.h):
// positive codes come from the kernel, zero and negative ones from a
// process.
const (
	SiUser    = 0
	SiKernel  = 0x80
	SiQueue   = -1
	SiTimer   = -2
	SiMesgq   = -3
	SiAsyncio = -4
	SiSigio   = -5
	SiTkill   = -6
)

// si_code values per signal (include/uapi/asm-generic/siginfo.h).
const (
	IllIllopc = 1 // SIGILL: illegal opcode
	IllIllopn = 2 // illegal operand
	IllIlladr = 3 // illegal addressing mode
	IllIlltrp = 4 // illegal trap
	IllPrvopc = 5 // privileged opcode
	IllPrvreg = 6 // privileged register
	IllCoproc = 7 // coprocessor error
	IllBadstk = 8 // internal stack error

	FpeIntdiv = 1 // SIGFPE: integer divide by zero
	FpeIntovf = 2 // integer overflow
	FpeFltdiv = 3 // floating-point divide by zero
	FpeFltovf = 4 // floating-point overflow
	FpeFltund = 5 // floating-point underflow
	FpeFltres = 6 // floating-point inexact result
	FpeFltinv = 7 // floating-point invalid operation
	FpeFltsub = 8 // subscript out of range

	SegvMaperr = 1 // SIGSEGV: address not mapped
	SegvAccerr = 2 // invalid permissions for a mapped object
	SegvBnderr = 3 // failed address bound checks
	SegvPkuerr = 4 // failed protection key checks

	BusAdraln = 1 // SIGBUS: invalid address alignment
	BusAdrerr = 2 // non-existent physical address
	BusObjerr = 3 // object-specific hardware error

	TrapBrkpt  = 1 // SIGTRAP: process breakpoint
	TrapTrace  = 2 // process trace trap
	TrapHwbkpt = 4 // hardware breakpoint or watchpoint

	CldExited    = 1 // SIGCHLD: child has exited
	CldKilled    = 2 // child was killed
	CldDumped    = 3 // child terminated abnormally
	CldTrapped   = 4 // traced child has trapped
	CldStopped   = 5 // child has stopped
	CldContinued = 6 // stopped child has continued

	PollIn  = 1 // SIGIO/SIGPOLL: data input available
	PollOut = 2 // output buffers available
	PollMsg = 3 // input message available
	PollErr = 4 // I/O error
	PollPri = 5 // high priority input available
	PollHup = 6 // device disconnected

	SysSeccomp = 1 // SIGSYS: seccomp triggered
)
