package cpu

// Frame is the register state of an interrupted context as the trap stubs
// save it (trap_amd64.s): general registers pushed by the stub, then the
// vector and error code, then the interrupt frame the CPU pushes (AMD APM
// vol. 2, 8.9.3 "Interrupt Stack Frame"). The SYSCALL stub builds the same
// frame by hand. Offsets are mirrored in layout.h.
type Frame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64

	Vector, ErrCode uint64

	RIP, CS, RFLAGS, RSP, SS uint64
}

// VectorSyscall is the pseudo vector the SYSCALL stub records.
const VectorSyscall = 256

// FromUser reports whether the frame was taken at CPL3.
//
//go:nosplit
func (f *Frame) FromUser() bool { return f.CS&3 == 3 }

// RFLAGS bits (AMD APM vol. 2, 3.1.6).
const (
	FlagIF = 1 << 9
	// FlagsKernel is the RFLAGS of a fresh kernel thread: IF plus the
	// always-one bit 1.
	FlagsKernel = FlagIF | 1<<1
)
