package hal

// Frame is the register state of an interrupted context as the kernel's
// exception entry saves it (kernel/trap_amd64.s): general registers
// pushed by the stub, then the vector and error code, then the interrupt
// frame the CPU pushes (AMD APM vol. 2, 8.9.3 "Interrupt Stack Frame").
// It is part of the South contract because a platform that emulates
// instructions (VCHandler) reads and advances it; the kernel names it
// cpu.Frame, and kernel/cpu/layout.h mirrors its offsets.
type Frame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64

	Vector, ErrCode uint64

	RIP, CS, RFLAGS, RSP, SS uint64
}

// FromUser reports whether the frame was taken at CPL3.
//
//go:nosplit
func (f *Frame) FromUser() bool { return f.CS&3 == 3 }
