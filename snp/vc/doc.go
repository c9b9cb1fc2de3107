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
// This is the only instruction decoder in the #VC path, and it runs where
// golang.org/x/arch/x86/x86asm cannot (that decoder returns
// interface-typed operands and errors built with fmt, so it allocates and
// may grow the stack): every function is //go:nosplit, allocates nothing
// (no interfaces, maps, closures, defer or run-time errors; results are
// small Status codes) and never panics, on any input. x86asm, which is not
// Cocoon's code, is the oracle its tests fuzz it against
// (FuzzMMIOAgainstX86asm, FuzzIOAgainstX86asm): the same instructions
// accepted, with the same operands, as x86asm reads them.
//
// Prefixes are read the way x86asm reads them in 64-bit mode: any number
// of legacy prefixes in any order, the last of a group winning; ES, CS, SS
// and DS overrides have no effect (AMD APM vol. 3, section 1.2.4), so only
// FS and GS override a segment; a REX prefix counts only immediately
// before the opcode, and a REX followed by another prefix leaves the
// instruction refused; no instruction is longer than MaxLen.
//
// A 32-bit displacement is sign-extended, as the CPU does (AMD APM vol.
// 1, section 2.2.3, "Displacements and Immediates"); x86asm reports it
// zero-extended, which the fuzz oracle corrects.
//
// Trap context: every function in this package is //go:nosplit and
// allocates nothing.
package vc
