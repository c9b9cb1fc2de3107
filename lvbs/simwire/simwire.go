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
//	144  48 Debug: CR2 DR0 DR1 DR2 DR3 DR6, the other shared registers
//	        (lvbs.DebugRegs), of a VTL return and of the next entry
//
// A request: the guest writes Op and Regs, then Seq+1, and spins until
// Done equals it; the host answers in Regs. Ops:
//
//	OpHypercall: in RCX control, RDX input GPA, R8 output GPA; out RAX result
//	OpVTLReturn: in every shared register as VTL0 gets them (RAX and RCX
//	             from the VP assist page) and Debug; out every shared
//	             register and Debug at the next entry into VTL1
//	OpCPUID:     in RAX leaf, RCX subleaf; out RAX RBX RCX RDX
//	OpRDMSR:     in RCX MSR; out RAX value (64 bits)
//	OpWRMSR:     in RCX MSR, RDX value (64 bits)
package simwire

// Mailbox offsets.
const (
	OffSeq   = 0
	OffDone  = 8
	OffOp    = 16
	OffRegs  = 24
	OffDebug = 144
	// NRegs is the number of shared registers in Regs, NDebug in Debug.
	NRegs  = 15
	NDebug = 6
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
