// Package vc decodes, in trap context, the instruction behind an SEV-ES/SNP
// #VC exception for the exits whose parameters the guest must supply
// itself. Under SEV-ES and SEV-SNP the hypervisor cannot read guest
// registers or instruction bytes, so for these "non-automatic exits" (GHCB
// specification v2, section 4.1) the #VC handler decodes the faulting
// instruction itself to tell the hypervisor what it does:
//
//   - IOIO (DecodeIO): the port, size and direction, and SW_EXITINFO1 in
//     the format of the IOIO intercept's EXITINFO1 (AMD APM vol. 2,
//     section 15.10.2, Figure 15-2);
//   - MMIO read and write (DecodeMMIO): the address of the access
//     (Access.Address gives the linear address, which the handler
//     translates), its size, and the data, read from registers
//     (Access.Value) or written back to them with the instruction's
//     widening rules (Access.Complete).
//
// Package snp/mmio decodes the same MMIO moves with
// golang.org/x/arch/x86/x86asm. That decoder returns interface-typed
// operands and errors built with fmt, so it allocates and may grow the
// stack: it is fine host-side and in tests, but the #VC handler runs on an
// interrupt stack with interrupts off, where neither is allowed. This
// package is the decoder the handler calls: every function is
// //go:nosplit, allocates nothing (no interfaces, maps, closures, defer or
// run-time errors; results are small Status codes) and never panics, on
// any input. It accepts exactly the instructions snp/mmio accepts, with the
// same meaning, and its tests hold it to that by differential fuzzing
// against snp/mmio (FuzzMMIOAgainstX86asm) and against x86asm for I/O
// instructions (FuzzIOAgainstX86asm).
//
// Both decoders read prefixes the way x86asm does in 64-bit mode: any
// number of legacy prefixes in any order, the last of a group winning; ES,
// CS, SS and DS overrides have no effect (AMD APM vol. 3, section 1.2.4),
// so only FS and GS override a segment; a REX prefix counts only
// immediately before the opcode, and a REX followed by another prefix
// leaves the instruction refused; no instruction is longer than MaxLen.
//
// A 32-bit displacement is sign-extended, as the CPU does (AMD APM vol.
// 1, section 2.2.3, "Displacements and Immediates"); x86asm reports it
// zero-extended, which snp/mmio corrects under 64-bit addressing (the
// differential fuzz target found that snp/mmio did not), and which is
// the same address under 32-bit addressing.
//
// Trap context: every function in this package is //go:nosplit and
// allocates nothing.
package vc
