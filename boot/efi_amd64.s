// UEFI entry (see efi.go for the design). UEFI 2.10, 2.3.4 "x64 Platforms":
// long mode, identity-mapped paging, interrupts enabled, a 128 KiB stack;
// Microsoft x64 calling convention, RCX = image handle, RDX = system
// table. The image runs wherever the firmware loaded it (P), so the code
// before the jump to the kernel's link address is position-independent:
// only RIP-relative references and numbers.

#include "textflag.h"
#include "go_asm.h"
#include "../kernel/cpu/layout.h"

#define PTE_P_RW 0x3
#define PDE_2M_WB 0x83
#define PDE_2M_UC 0x9b
#define IMAGE_LINK (KERNBASE+const_ImagePhys)

// Offsets in efiFirmware: what the Microsoft x64 convention makes
// callee-saved, and CR3, to hand back to the firmware on failure.
#define FW_SP 64
#define FW_CR3 72
#define FW_XMM 80

// EFI_UNSUPPORTED (UEFI 2.10, appendix D).
#define EFI_UNSUPPORTED 0x8000000000000003

// Link-time addresses, read at run time to find the load address. The
// image's end is runtime.end unless tools/kbuild trimmed bss the kernel
// never touches (kbuild.trimBSS): it writes the trimmed end here.
DATA ·efiEntryLink+0(SB)/8, $·efiEntry(SB)
GLOBL ·efiEntryLink(SB), RODATA|NOPTR, $8
DATA ·efiImageEndLink+0(SB)/8, $runtime·end(SB)
GLOBL ·efiImageEndLink(SB), RODATA|NOPTR, $8

// An empty IDT (limit 0) for the moments between the firmware's IDT and
// the kernel's.
GLOBL ·efiNullIDTR(SB), NOPTR, $16

TEXT ·efiEntry(SB),NOSPLIT|NOFRAME,$0
	// The boot timeline's first mark (kernel/timeline.go); R8 is
	// volatile in the UEFI calling convention, RDX is the system table.
	MOVQ DX, R8
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ·entryTSC(SB)
	MOVQ R8, DX
	LEAQ ·efiFirmware(SB), AX
	MOVQ BX, 0(AX)
	MOVQ BP, 8(AX)
	MOVQ DI, 16(AX)
	MOVQ SI, 24(AX)
	MOVQ R12, 32(AX)
	MOVQ R13, 40(AX)
	MOVQ R14, 48(AX)
	MOVQ R15, 56(AX)
	MOVQ SP, FW_SP(AX)
	MOVQ CR3, BX
	MOVQ BX, FW_CR3(AX)
	MOVUPS X6, (FW_XMM+0)(AX)
	MOVUPS X7, (FW_XMM+16)(AX)
	MOVUPS X8, (FW_XMM+32)(AX)
	MOVUPS X9, (FW_XMM+48)(AX)
	MOVUPS X10, (FW_XMM+64)(AX)
	MOVUPS X11, (FW_XMM+80)(AX)
	MOVUPS X12, (FW_XMM+96)(AX)
	MOVUPS X13, (FW_XMM+112)(AX)
	MOVUPS X14, (FW_XMM+128)(AX)
	MOVUPS X15, (FW_XMM+144)(AX)
	MOVQ CX, ·efiImageHandle(SB)
	MOVQ DX, ·efiSystemTable(SB)
	CLD

	// R12 = P: where efiEntry runs less its offset from ImagePhys.
	LEAQ ·efiEntry(SB), AX
	MOVQ ·efiEntryLink(SB), BX
	MOVQ $IMAGE_LINK, CX
	SUBQ CX, BX
	SUBQ BX, AX
	MOVQ AX, ·efiLoadBase(SB)
	MOVQ AX, R12

	// R13 = the kernel's size, ImagePhys to the end of bss.
	MOVQ ·efiImageEndLink(SB), BX
	SUBQ CX, BX
	ADDQ $0xfff, BX
	ANDQ $~0xfff, BX
	MOVQ BX, ·efiKernelSize(SB)
	MOVQ BX, R13

	// The tables below are 4-level: refuse 5-level paging (CR4.LA57).
	MOVQ CR4, AX
	BTQ $12, AX
	JCS unsupported

	// The SEV-SNP C-bit, for every entry of the tables below.
	CALL ·efiEncryptionBit(SB)
	MOVQ AX, ·efiCBit(SB)

	// R14 = pages for the stage-1 tables: PML4, PDPT, one page
	// directory, one page table per 2 MiB of kernel. The kernel must
	// fit in the page directory's 1 GiB.
	MOVQ R13, R14
	ADDQ $0x1fffff, R14
	SHRQ $21, R14
	CMPQ R14, $(511-(const_ImagePhys>>21))
	JHI unsupported
	ADDQ $3, R14

	// AllocatePages(AllocateAnyPages, EfiLoaderData, R14, &addr).
	MOVQ ·efiSystemTable(SB), AX
	MOVQ const_stBootService(AX), AX
	MOVQ const_bsAllocatePages(AX), AX
	SUBQ $40, SP             // shadow space + addr; RSP 16-aligned
	MOVQ $0, 32(SP)
	MOVQ $const_allocateAnyPages, CX
	MOVQ $const_memLoaderData, DX
	MOVQ R14, R8
	LEAQ 32(SP), R9
	CALL AX
	MOVQ 32(SP), R15         // R15 = PML4
	ADDQ $40, SP
	TESTQ AX, AX
	JNZ fail
	MOVQ R15, ·efiTables(SB)
	MOVQ R14, AX
	SHLQ $12, AX
	MOVQ AX, ·efiTablesSize(SB)

	// Zero them.
	MOVQ R15, DI
	MOVQ R14, CX
	SHLQ $9, CX
	XORQ AX, AX
	REP; STOSQ

	// PML4: the firmware's entries (its identity map, whatever it
	// covers), and slot 252 (KERNBASE) -> PDPT -> page directory.
	MOVQ ·efiFirmware+FW_CR3(SB), SI
	ANDQ $~0xfff, SI
	MOVQ R15, DI
	MOVQ $512, CX
	REP; MOVSQ
	MOVQ ·efiCBit(SB), BX
	LEAQ (4096+PTE_P_RW)(R15), AX
	ORQ BX, AX
	MOVQ AX, (252*8)(R15)
	LEAQ (8192+PTE_P_RW)(R15), AX
	ORQ BX, AX
	MOVQ AX, 4096(R15)

	// Page directory entries from ImagePhys on -> the page tables.
	MOVQ R14, CX
	SUBQ $3, CX
	LEAQ (8192+(const_ImagePhys>>21)*8)(R15), DX
	LEAQ (12288+PTE_P_RW)(R15), AX
	ORQ BX, AX
pd:
	MOVQ AX, (DX)
	ADDQ $4096, AX
	ADDQ $8, DX
	DECQ CX
	JNZ pd

	// Page table entries: IMAGE_LINK + i*4K -> P + i*4K.
	LEAQ 12288(R15), DX
	MOVQ R13, CX
	SHRQ $12, CX
	MOVQ R12, AX
	ORQ $PTE_P_RW, AX
	ORQ BX, AX
pt:
	MOVQ AX, (DX)
	ADDQ $4096, AX
	ADDQ $8, DX
	DECQ CX
	JNZ pt

	MOVQ R15, AX
	ORQ BX, AX
	MOVQ AX, CR3

	// Continue at the link address.
	LEAQ ·efiHigh(SB), AX
	SUBQ R12, AX
	MOVQ $IMAGE_LINK, BX
	ADDQ BX, AX
	JMP AX

unsupported:
	MOVQ $EFI_UNSUPPORTED, AX
fail:
	LEAQ ·efiFirmware(SB), CX
	JMP restore<>(SB)

// efiHigh runs stage 1 at the kernel's link address, on the firmware's
// stack.
TEXT ·efiHigh(SB),NOSPLIT|NOFRAME,$0
	CALL ·loadEarlyTLS(SB)
	XORPS X15, X15

	SUBQ $8, SP
	CALL ·efiMain(SB)
	MOVQ 0(SP), AX           // EFI_STATUS
	ADDQ $8, SP

	// Failure: return to the firmware from the identity-mapped copy of
	// this code, with its page tables and registers.
	MOVQ $IMAGE_LINK, DX
	LEAQ restore<>(SB), BX
	SUBQ DX, BX
	ADDQ ·efiLoadBase(SB), BX
	LEAQ ·efiFirmware(SB), CX
	SUBQ DX, CX
	ADDQ ·efiLoadBase(SB), CX
	JMP BX

// restore returns AX to the firmware. CX = efiFirmware (identity-mapped
// address); runs identity-mapped.
TEXT restore<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ FW_CR3(CX), DX
	MOVQ DX, CR3
	MOVQ 0(CX), BX
	XCHGQ BP, 8(CX)          // (as a MOVQ; vet's frame-pointer check reads this as saving BP)
	MOVQ 16(CX), DI
	MOVQ 24(CX), SI
	MOVQ 32(CX), R12
	MOVQ 40(CX), R13
	MOVQ 48(CX), R14
	MOVQ 56(CX), R15
	MOVUPS (FW_XMM+0)(CX), X6
	MOVUPS (FW_XMM+16)(CX), X7
	MOVUPS (FW_XMM+32)(CX), X8
	MOVUPS (FW_XMM+48)(CX), X9
	MOVUPS (FW_XMM+64)(CX), X10
	MOVUPS (FW_XMM+80)(CX), X11
	MOVUPS (FW_XMM+96)(CX), X12
	MOVUPS (FW_XMM+112)(CX), X13
	MOVUPS (FW_XMM+128)(CX), X14
	MOVUPS (FW_XMM+144)(CX), X15
	MOVQ FW_SP(CX), SP
	RET

// func efiCall(fn, a1, a2, a3, a4, a5, a6 uintptr) uintptr
// Microsoft x64: RCX, RDX, R8, R9, then the stack above 32 bytes of
// shadow space; RSP 16-byte aligned at the call; RBX, RBP, RDI, RSI,
// R12-R15 and XMM6-XMM15 preserved.
TEXT ·efiCall(SB),NOSPLIT,$0-64
	MOVQ fn+0(FP), AX
	MOVQ a1+8(FP), CX
	MOVQ a2+16(FP), DX
	MOVQ a3+24(FP), R8
	MOVQ a4+32(FP), R9
	MOVQ a5+40(FP), R10
	MOVQ a6+48(FP), R11
	MOVQ SP, R12
	SUBQ $48, SP
	ANDQ $~15, SP
	MOVQ R10, 32(SP)
	MOVQ R11, 40(SP)
	CALL AX
	MOVQ R12, SP
	MOVQ AX, ret+56(FP)
	RET

// efiStage2 leaves the firmware's stack (boot-services memory, RAM from
// now on) for the kernel's boot stack and runs efiAfterExit.
TEXT ·efiStage2(SB),NOSPLIT|NOFRAME,$0
	CLI
	LEAQ ·bootStack(SB), SP
	ADDQ $const_bootStackSize, SP
	CALL ·efiAfterExit(SB)
	CLI
	HLT

// func efiEnterKernel(src, n uintptr)
TEXT ·efiEnterKernel(SB),NOSPLIT|NOFRAME,$0-16
	CLI
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ $const_ImagePhys, DI
	CMPQ SI, DI
	JEQ copied
	// The copy runs from the image at P, through the firmware's
	// identity map; nothing touches the stack until CR3 changes, so the
	// copied stack is the one in use.
	SHRQ $3, CX
	REP; MOVSQ
copied:
	// The PVH entry's boot page tables (entry_amd64.s), in the copy:
	// PML4[0] and PML4[252] -> PDPT -> four page directories of 2 MiB
	// pages, 0..3 GiB write-back and 3..4 GiB uncached.
	LEAQ ·bootTables(SB), SI
	MOVQ $KERNBASE, AX
	SUBQ AX, SI
	ADDQ $0xfff, SI
	ANDQ $~0xfff, SI
	MOVQ SI, DI
	XORQ AX, AX
	MOVQ $1024, CX
	REP; STOSQ
	// R8 = the C-bit: on every entry but those of the 3-4 GiB MMIO
	// hole, which must stay shared with the host.
	MOVQ ·efiCBit(SB), R8
	LEAQ (4096+PTE_P_RW)(SI), AX
	ORQ R8, AX
	MOVQ AX, (SI)
	MOVQ AX, (252*8)(SI)
	LEAQ 4096(SI), DX
	LEAQ (8192+PTE_P_RW)(SI), AX
	ORQ R8, AX
	MOVQ $4, CX
pdpt:
	MOVQ AX, (DX)
	ADDQ $4096, AX
	ADDQ $8, DX
	DECQ CX
	JNZ pdpt
	LEAQ 8192(SI), DX
	MOVQ $PDE_2M_WB, AX
	ORQ R8, AX
	MOVQ $2048, CX
pd2:
	CMPQ CX, $512
	JNE wb
	ADDQ $(PDE_2M_UC-PDE_2M_WB), AX
	XORQ R8, AX
wb:
	MOVQ AX, (DX)
	ADDQ $0x200000, AX
	ADDQ $8, DX
	DECQ CX
	JNZ pd2
	MOVQ SI, AX
	ORQ R8, AX
	MOVQ AX, CR3

	// The kernel's addresses now reach the copy at ImagePhys. The boot
	// GDT (virtual base), then CS through a far return.
	LEAQ ·earlyGDT(SB), AX
	LEAQ ·earlyGDTR(SB), BX
	MOVW $(8*8-1), 0(BX)
	MOVQ AX, 2(BX)
	LGDT (BX)
	LEAQ ·efiKernelHigh(SB), AX
	PUSHQ $KCODE
	PUSHQ AX
	BYTE $0x48; BYTE $0xCB   // LRETQ

// efiKernelHigh finishes what pvhEntry and entryHigh set up and calls
// efiBoot.
TEXT ·efiKernelHigh(SB),NOSPLIT|NOFRAME,$0
	MOVW $KDATA, AX
	MOVW AX, DS
	MOVW AX, ES
	MOVW AX, SS
	MOVW AX, FS
	MOVW AX, GS
	LEAQ ·bootStack(SB), SP
	ADDQ $const_bootStackSize, SP

	// No IDT until the kernel's: the firmware's handlers are in memory
	// that is free RAM now, so a fault should reset instead.
	LEAQ ·efiNullIDTR(SB), AX
	LIDT (AX)

	// An SEV-SNP guest brings its platform up and loads the kernel's
	// IDT (#VC gate) before anything below raises #VC (snp.go).
	MOVQ ·efiCBit(SB), AX
	TESTQ AX, AX
	JZ plain
	CALL ·loadEarlyTLS(SB)
	XORPS X15, X15
	CALL ·efiSNPStart(SB)
plain:
	// EFER.NXE (11), EFER.SCE (0), as pvhEntry sets them.
	MOVL $MSR_EFER, CX
	RDMSR
	ORL $0x901, AX
	WRMSR

	// SSE, XSAVE and the early TLS, as on the PVH path.
	CALL ·cpuSetup(SB)
	XORPS X15, X15
	CALL ·efiBoot(SB)
	CLI
	HLT

// efiEncryptionBit returns in AX the page-table C-bit of an SEV-SNP guest
// and 0 elsewhere, deciding as snp.Detect does: CPUID Fn8000_001F (AMD
// APM vol. 3, appendix E.4.17) must advertise SEV (EAX bit 1) before
// SEV_STATUS (MSR 0xC0010131, APM vol. 2, 15.34.10) may be read, and
// SEV_STATUS bit 2 says SNP is active; EBX[5:0] is the C-bit position.
// Runs under the firmware, whose #VC handler serves CPUID in an
// encrypted guest. Clobbers BX, CX, DX.
TEXT ·efiEncryptionBit(SB),NOSPLIT|NOFRAME,$0
	MOVL $0x80000000, AX
	XORL CX, CX
	CPUID
	CMPL AX, $0x8000001F
	JB none
	MOVL $0x8000001F, AX
	XORL CX, CX
	CPUID
	BTL $1, AX
	JCC none
	ANDL $0x3f, BX
	MOVL $0xC0010131, CX
	RDMSR
	BTL $2, AX
	JCC none
	MOVL BX, CX
	MOVL $1, AX
	SHLQ CX, AX
	RET
none:
	XORL AX, AX
	RET
