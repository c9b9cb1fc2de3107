// PVH entry: from 32-bit protected mode to the kernel's Go code in long
// mode. Xen PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h and
// docs/misc/pvh.pandoc): CR0.PE=1, CR0.PG=0, flat 32-bit CS/DS, EBX =
// physical address of struct hvm_start_info, no stack.
//
// The kernel is linked at KERNBASE + physical address, but this code runs
// before paging, at the physical address. Go assembles amd64 only, so the
// 32-bit part uses only instructions whose encodings mean the same in both
// modes (checked by TestEntryEncodings), and finds physical addresses with
// PHYS32: CALL pushes the physical address of the next instruction; LEAL
// sym(SB) is RIP-relative in 64-bit mode, and the same bytes in 32-bit mode
// load the link-time displacement (sym - end of the LEAL) as an absolute
// number. Their sum, plus the 7 bytes between the two, is sym's physical
// address.

#include "textflag.h"
#include "go_asm.h"
#include "../kernel/cpu/layout.h"

// EARLY_STACK: the 4 KiB below 2 MiB are RAM that nothing is loaded into
// (the kernel image starts at ImagePhys, above).
#define EARLY_STACK 0x200000

#define PHYS32(sym) BYTE $0xE8; LONG $0; POPQ BX; LEAL sym(SB), AX; ADDL BX, AX; ADDL $7, AX

// Page-table entry bits (AMD APM vol. 2, 5.3.3 "4-Kbyte page translation").
#define PTE_P_RW 0x3
#define PDE_2M_WB 0x83
#define PDE_2M_UC 0x9b

TEXT ·pvhEntry(SB),NOSPLIT|NOFRAME,$0
	CLI
	CLD
	MOVL BX, DI              // EDI = hvm_start_info (physical), kept to the end
	RDTSC                    // the boot timeline's first mark (kernel/timeline.go)
	MOVL AX, SI
	MOVL DX, CX
	PHYS32(·entryTSC)
	MOVL SI, (AX)
	MOVL CX, 4(AX)
	MOVL $EARLY_STACK, SP

	// ESI = page-aligned physical base of bootTables:
	// +0 PML4, +4K PDPT, +8K..+24K four page directories (4 GiB).
	PHYS32(·bootTables)
	ADDL $0xfff, AX
	ANDL $0xfffff000, AX
	MOVL AX, SI

	// Zero PML4 and PDPT.
	MOVL SI, DX
	MOVL $2048, CX
zero:
	MOVL $0, (DX)
	ADDL $4, DX
	DECL CX
	JNZ zero

	// PML4[0] (identity, for the jump to the high half) and PML4[252]
	// (KERNBASE) both point at the PDPT.
	MOVL SI, AX
	ADDL $(4096+PTE_P_RW), AX
	MOVL AX, (SI)
	MOVL AX, (252*8)(SI)

	// PDPT[0..3] -> the four page directories.
	MOVL SI, DX
	ADDL $4096, DX
	MOVL SI, AX
	ADDL $(8192+PTE_P_RW), AX
	MOVL $4, CX
pdpt:
	MOVL AX, (DX)
	ADDL $4096, AX
	ADDL $8, DX
	DECL CX
	JNZ pdpt

	// 2048 2 MiB pages: 0..3 GiB write-back, 3..4 GiB (MMIO: LAPIC,
	// IOAPIC, flash) uncached.
	MOVL SI, DX
	ADDL $8192, DX
	MOVL $PDE_2M_WB, AX
	MOVL $0, BX
	MOVL $2048, CX
pd:
	CMPL CX, $512
	JNE 2(PC)
	ADDL $(PDE_2M_UC-PDE_2M_WB), AX
	MOVL AX, (DX)
	MOVL BX, 4(DX)
	ADDL $0x200000, AX
	ADDL $8, DX
	DECL CX
	JNZ pd

	MOVL SI, AX
	MOVL AX, CR3

	// CR4.PAE (bit 5).
	MOVL CR4, AX
	ORL $0x20, AX
	MOVL AX, CR4

	// EFER.LME (bit 8), EFER.NXE (bit 11), EFER.SCE (bit 0).
	MOVL $MSR_EFER, CX
	RDMSR
	ORL $0x901, AX
	WRMSR

	// GDTR pseudo-descriptor (limit, 32-bit base) built in place.
	PHYS32(·earlyGDT)
	MOVL AX, CX
	PHYS32(·earlyGDTR)
	MOVW $(8*8-1), (AX)
	MOVL CX, 2(AX)
	MOVL $0, 6(AX)
	LGDT (AX)

	// CR0: PG (31), WP (16), PE (0); long mode is active from here.
	MOVL CR0, AX
	ORL $0x80010001, AX
	MOVL AX, CR0

	// Far return into the 64-bit code segment.
	PHYS32(·entry64)
	PUSHQ $KCODE
	PUSHQ AX
	BYTE $0xCB               // LRET (32-bit: pop EIP, pop CS)

// entry64 runs in long mode at its physical address (identity map).
TEXT ·entry64(SB),NOSPLIT|NOFRAME,$0
	MOVW $KDATA, AX
	MOVW AX, DS
	MOVW AX, ES
	MOVW AX, SS
	MOVW AX, FS
	MOVW AX, GS
	LEAQ ·entryHigh(SB), AX  // physical here: RIP-relative from low half
	MOVQ $KERNBASE, BX
	ADDQ BX, AX
	JMP AX

// entryHigh runs at the kernel's link address.
TEXT ·entryHigh(SB),NOSPLIT|NOFRAME,$0
	LEAQ ·bootStack(SB), SP
	ADDQ $const_bootStackSize, SP

	// Reload the GDTR with the virtual base so it outlives the identity map.
	LEAQ ·earlyGDT(SB), AX
	LEAQ ·earlyGDTR(SB), BX
	MOVQ AX, 2(BX)
	LGDT (BX)

	CALL ·cpuSetup(SB)

	XORPS X15, X15
	MOVQ DI, AX              // start_info physical address
	SUBQ $16, SP
	MOVQ AX, 0(SP)
	CALL ·bootMain(SB)
	CLI
	HLT

// cpuSetup prepares the CPU for Go code, on both entry paths (PVH and
// UEFI): SSE (CR0.EM=0, CR0.MP=1; CR4.OSFXSR (9), OSXMMEXCPT (10)); x87
// errors as #MF (CR0.NE, 5) and alignment checks for CPL3 code that sets
// RFLAGS.AC (CR0.AM, 18), as Linux's CR0_STATE (a PVH entry has neither:
// an unmasked x87 exception went unreported, a misaligned access with AC
// set ran on; only CPL3 accesses are ever checked); XSAVE
// if CPUID.1:ECX.XSAVE (bit 26): CR4.OSXSAVE (18), then XCR0 = x87|SSE|AVX
// as supported (CPUID.(EAX=0Dh,ECX=0):EAX); and a TLS block for Go's ABI
// wrappers (they load g from -8(FS)). Clobbers AX, BX, CX, DX.
TEXT ·cpuSetup(SB),NOSPLIT|NOFRAME,$0
	MOVQ CR0, AX
	ANDQ $~4, AX
	ORQ $(2|1<<5|1<<18), AX
	MOVQ AX, CR0
	MOVQ CR4, AX
	ORQ $0x600, AX
	MOVQ AX, CR4

	MOVL $1, AX
	MOVL $0, CX
	CPUID
	BTL $26, CX
	JCC noxsave
	MOVQ CR4, AX
	ORQ $(1<<18), AX
	MOVQ AX, CR4
	MOVL $0xd, AX
	MOVL $0, CX
	CPUID
	ANDL $7, AX
	MOVL $0, DX
	MOVL $0, CX
	XSETBV
noxsave:
	JMP ·loadEarlyTLS(SB)

// loadEarlyTLS points FS at the boot TLS block, which Go's ABI wrappers
// need before any Go code runs (they load g from -8(FS)). Clobbers AX,
// CX, DX.
TEXT ·loadEarlyTLS(SB),NOSPLIT|NOFRAME,$0
	LEAQ ·earlyTLS+64(SB), AX
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
	RET

// func textStart() uintptr
TEXT ·textStart(SB),NOSPLIT|NOFRAME,$0-8
	LEAQ runtime·text(SB), AX
	MOVQ AX, ret+0(FP)
	RET
