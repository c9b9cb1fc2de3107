// Package simwire is the transport of the SIMULATED VSM (lvbs/vsmsim): how
// Cocoon's VTL1 kernel, run under QEMU, reaches the host-side process
// that plays Hyper-V and VTL0. Hyper-V's own interface is unchanged: the
// kernel makes hypercalls and VTL returns by calling the hypercall page,
// whose code the simulator writes (as Hyper-V overlays its own; TLFS
// hypercall-interface.md, "Establishing the Hypercall Interface"); that
// code posts the call in a shared mailbox page and waits for the answer.
// Only what the CPU does itself on Hyper-V (CPUID leaves 0x40000000 and
// up, the synthetic MSRs), which QEMU's TCG does not provide, goes through
// the mailbox directly, from the kernel's simulated-machine code.
//
// The mailbox is one page of guest memory outside the secure kernel, at
// the GPA the simulator writes into skloader.bin's header
// (lvbs/skimage.OffMailbox; zero on Hyper-V). Cocoon's own layout, not
// Hyper-V's; little endian:
//
//	0    8  Seq: the guest's last request, incremented to post one
//	8    8  Done: the host's last answered request
//	16   8  Op: what the request is
//	24   120 Regs: RAX RBX RCX RDX RSI RDI RBP R8-R15 (vtlcall.Regs order)
//	256  8  Go: nonzero when the trampoline may enter VTL1 (below)
//	264  8  CR3, 272 RIP, 280 RSP of the initial VP context
//	288  10 GDTR (limit, base), 304 10 IDTR
//
// A request: the guest writes Op and Regs, then Seq+1, and spins until
// Done equals it; the host answers in Regs. Ops:
//
//	OpHypercall: in RCX control, RDX input GPA, R8 output GPA; out RAX result
//	OpVTLReturn: in every shared register as VTL0 gets them (RAX and RCX
//	             from the VP assist page); out every shared register at
//	             the next entry into VTL1
//	OpCPUID:     in RAX leaf, RCX subleaf; out RAX RBX RCX RDX
//	OpRDMSR:     in RCX MSR; out RAX value (64 bits)
//	OpWRMSR:     in RCX MSR, RDX value (64 bits)
//
// The trampoline (the simulator's PVH image) waits for Go, loads CR3,
// GDTR, IDTR, the context's control registers, RSP, and the boot call's
// registers from Regs, and jumps to RIP: the VP's first entry into VTL1.
package simwire

// Mailbox offsets.
const (
	OffSeq  = 0
	OffDone = 8
	OffOp   = 16
	OffRegs = 24
	OffGo   = 256
	OffCR3  = 264
	OffRIP  = 272
	OffRSP  = 280
	OffGDTR = 288
	OffIDTR = 304
	// NRegs is the number of shared registers in Regs.
	NRegs = 15
)

// Register indices in Regs.
const (
	RAX = iota
	RBX
	RCX
	RDX
	RSI
	RDI
	RBP
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// Ops.
const (
	OpHypercall = 1
	OpVTLReturn = 2
	OpCPUID     = 3
	OpRDMSR     = 4
	OpWRMSR     = 5
)

// Offsets in the hypercall page of the simulator's code: the hypercall
// entry and the VTL return sequence (what HvRegisterVsmCodePageOffsets
// reports; the VTL call sequence is VTL0's and unused by VTL1).
const (
	HypercallOffset = 0x000
	VtlCallOffset   = 0x200
	VtlReturnOffset = 0x400
)
