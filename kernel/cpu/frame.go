package cpu

import "github.com/cocoon-vm/cocoon/hal"

// Frame is the register state of an interrupted context as the trap stubs
// save it (trap_amd64.s); the SYSCALL stub builds the same frame by hand.
// It is defined by the South contract (hal.Frame), which platforms that
// emulate instructions read; offsets are mirrored in layout.h.
type Frame = hal.Frame

// VectorSyscall is the pseudo vector the SYSCALL stub records.
const VectorSyscall = 256

// RFLAGS bits (AMD APM vol. 2, 3.1.6).
const (
	FlagIF = 1 << 9
	// FlagsKernel is the RFLAGS of a fresh kernel thread: IF plus the
	// always-one bit 1.
	FlagsKernel = FlagIF | 1<<1
)
