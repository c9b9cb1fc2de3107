// LVBS entry: the first VTL1 instruction after the boot call, at the
// initial VP context the LVBS VTL0 kernel built (heki-linux/lvbs-linux
// drivers/hv/hv_vsm_boot.c; docs/LVBS.md "The boot protocol"): 64-bit
// mode, paging on with only the first 16 MiB of the reservation mapped
// (identity), interrupts off, RSP in the reservation's page 4095, and the
// boot call's arguments in RDI (CPU count), RSI (reservation start), RDX
// (its end) and R8 (end of VTL0 RAM). skloader.bin's first instruction
// jumps here (lvbs/skimage), so this code runs at its physical address.
//
// It saves every shared register, checks that the kernel lies where it
// was linked (reservation at skimage.Base), builds Cocoon's boot page
// tables in the stage-0 area (the reservation's first 2 MiB, which is no
// RAM of the kernel's), moves the application archive above the kernel's
// bss and zeroes the bss (the loader zeroed the reservation, but the
// archive and the loader's own pages lie there), then joins the PVH
// path's shape: boot GDT, the kernel's link addresses, the boot stack,
// cpuSetup, and lvbsMain.

#include "textflag.h"
#include "go_asm.h"
#include "../kernel/cpu/layout.h"

#define PTE_P_RW 0x3
#define PDE_2M_WB 0x83
#define PDE_2M_UC 0x9b

// The stage-0 area's page tables: PML4, PDPT and four page directories.
#define EARLY_PT (const_lvbsBase+0x10000)

DATA ·lvbsLinked+0(SB)/8, $·lvbsEntry(SB)
GLOBL ·lvbsLinked(SB), RODATA|NOPTR, $8

TEXT ·lvbsEntry(SB),NOSPLIT|NOFRAME,$0
	CLI
	CLD
	// The shared registers as the boot call left them (vtlcall.Regs
	// order), into initialised data: the bss is not zero yet.
	MOVQ AX, ·lvbsSaved+0(SB)
	MOVQ BX, ·lvbsSaved+8(SB)
	MOVQ CX, ·lvbsSaved+16(SB)
	MOVQ DX, ·lvbsSaved+24(SB)
	MOVQ SI, ·lvbsSaved+32(SB)
	MOVQ DI, ·lvbsSaved+40(SB)
	MOVQ BP, ·lvbsSaved+48(SB)
	MOVQ R8, ·lvbsSaved+56(SB)
	MOVQ R9, ·lvbsSaved+64(SB)
	MOVQ R10, ·lvbsSaved+72(SB)
	MOVQ R11, ·lvbsSaved+80(SB)
	MOVQ R12, ·lvbsSaved+88(SB)
	MOVQ R13, ·lvbsSaved+96(SB)
	MOVQ R14, ·lvbsSaved+104(SB)
	MOVQ R15, ·lvbsSaved+112(SB)
	RDTSC                    // the boot timeline's first mark
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ·lvbsSaved+120(SB)
	// VTL0's CR2 and debug registers, also shared (lvbs.DebugRegs): MOV
	// RAX, CR2 (0F 20 /r) and MOV RAX, DRn (0F 21 /r), ModRM 11 reg 000.
	BYTE $0x0F; BYTE $0x20; BYTE $0xD0
	MOVQ AX, ·lvbsSaved+128(SB)
	BYTE $0x0F; BYTE $0x21; BYTE $0xC0
	MOVQ AX, ·lvbsSaved+136(SB)
	BYTE $0x0F; BYTE $0x21; BYTE $0xC8
	MOVQ AX, ·lvbsSaved+144(SB)
	BYTE $0x0F; BYTE $0x21; BYTE $0xD0
	MOVQ AX, ·lvbsSaved+152(SB)
	BYTE $0x0F; BYTE $0x21; BYTE $0xD8
	MOVQ AX, ·lvbsSaved+160(SB)
	BYTE $0x0F; BYTE $0x21; BYTE $0xF0
	MOVQ AX, ·lvbsSaved+168(SB)

	// Where this code runs (RIP-relative: physical, identity-mapped)
	// must be where it was linked, less KERNBASE; and the reservation
	// must start at skimage.Base.
	LEAQ ·lvbsEntry(SB), AX
	MOVQ ·lvbsLinked(SB), BX
	MOVQ $KERNBASE, CX
	SUBQ CX, BX
	CMPQ AX, BX
	JNE wrongbase
	MOVQ ·lvbsSaved+32(SB), SI
	CMPQ SI, $const_lvbsBase
	JNE wrongbase
	MOVQ $const_lvbsBase, BX
	MOVQ ·lvbsMagic(SB), AX
	CMPQ AX, 0x10(BX)
	JNE wrongbase

	// Boot page tables in the stage-0 area: identity (PML4 slot 0, for
	// the jump to the high half) and KERNBASE (slot 252), 4 GiB in 2 MiB
	// pages, 3-4 GiB uncached, as the PVH entry builds them.
	MOVQ $EARLY_PT, DX
	MOVQ DX, DI
	XORQ AX, AX
	MOVQ $(6*512), CX
	REP; STOSQ
	LEAQ (4096+PTE_P_RW)(DX), AX
	MOVQ AX, 0(DX)
	MOVQ AX, (252*8)(DX)
	LEAQ 4096(DX), DI
	LEAQ (8192+PTE_P_RW)(DX), AX
	MOVQ $4, CX
pdpt:
	MOVQ AX, (DI)
	ADDQ $4096, AX
	ADDQ $8, DI
	DECQ CX
	JNZ pdpt
	LEAQ 8192(DX), DI
	MOVQ $PDE_2M_WB, AX
	MOVQ $2048, CX
pd:
	CMPQ CX, $512
	JNE 2(PC)
	ADDQ $(PDE_2M_UC-PDE_2M_WB), AX
	MOVQ AX, (DI)
	ADDQ $0x200000, AX
	ADDQ $8, DI
	DECQ CX
	JNZ pd
	MOVQ DX, CR3

	// The application archive follows the kernel in vmlinux.bin, inside
	// the bss: move it to the first page at or after both the bss's end
	// and its own (so the copy never overlaps), which must end inside
	// the reservation.
	MOVQ $const_lvbsBase, BX
	MOVQ 0x18(BX), SI        // KernelLen
	MOVQ 0x20(BX), AX        // MemLen
	MOVQ 0x28(BX), CX        // InitrdLen
	LEAQ (SI)(CX*1), DI
	CMPQ AX, DI
	JAE 2(PC)
	MOVQ DI, AX
	ADDQ $0xfff, AX
	ANDQ $~0xfff, AX
	ADDQ $const_ImagePhys, AX
	MOVQ AX, ·lvbsInitrd+0(SB)
	MOVQ CX, ·lvbsInitrd+8(SB)
	LEAQ (AX)(CX*1), DI
	CMPQ DI, ·lvbsSaved+24(SB)
	JHI toosmall
	MOVQ AX, DI
	ADDQ $const_ImagePhys, SI
	REP; MOVSB

	// Zero from the kernel's last file byte to the archive's new place:
	// the bss, the archive's old copy and the loader's pages there.
	MOVQ 0x18(BX), DI
	ADDQ $const_ImagePhys, DI
	MOVQ ·lvbsInitrd+0(SB), CX
	SUBQ DI, CX
	XORL AX, AX
	REP; STOSB

	// The boot GDT (physical base for now), then the 64-bit code
	// segment by a far return, on the boot stack at its physical
	// address: the loader's stack (page 4095) and tables (pages
	// 4081-4094) may lie under the archive's new place, which the far
	// return's pushes there would corrupt (a kernel 4 KiB longer put a
	// Go program's symbol table there, and it failed to start).
	LEAQ ·bootStack(SB), SP
	ADDQ $const_bootStackSize, SP
	LEAQ ·earlyGDT(SB), AX
	LEAQ ·earlyGDTR(SB), BX
	MOVW $(8*8-1), (BX)
	MOVQ AX, 2(BX)
	LGDT (BX)
	LEAQ ·lvbsLow(SB), AX
	PUSHQ $KCODE
	PUSHQ AX
	BYTE $0x48; BYTE $0xCB   // LRETQ

wrongbase:
	LEAQ ·lvbsMsgBase(SB), SI
	JMP ·lvbsStop(SB)
toosmall:
	LEAQ ·lvbsMsgSmall(SB), SI
	JMP ·lvbsStop(SB)

// lvbsLow runs in the boot GDT's code segment, still at its physical
// address.
TEXT ·lvbsLow(SB),NOSPLIT|NOFRAME,$0
	MOVW $KDATA, AX
	MOVW AX, DS
	MOVW AX, ES
	MOVW AX, SS
	MOVW AX, FS
	MOVW AX, GS
	LEAQ ·lvbsHigh(SB), AX
	MOVQ $KERNBASE, BX
	ADDQ BX, AX
	JMP AX

// lvbsHigh runs at the kernel's link address, as entryHigh does.
TEXT ·lvbsHigh(SB),NOSPLIT|NOFRAME,$0
	LEAQ ·bootStack(SB), SP
	ADDQ $const_bootStackSize, SP
	LEAQ ·earlyGDT(SB), AX
	LEAQ ·earlyGDTR(SB), BX
	MOVQ AX, 2(BX)
	LGDT (BX)
	CALL ·cpuSetup(SB)
	XORPS X15, X15
	CALL ·lvbsMain(SB)
	CLI
	HLT

// lvbsStop writes the NUL-terminated message at SI to COM1 and stops:
// nothing else can be done before the kernel runs where it was linked
// (VTL0's boot call then never returns).
TEXT ·lvbsStop(SB),NOSPLIT|NOFRAME,$0
	MOVW $0x3f8, DX
next:
	MOVB (SI), AL
	TESTB AL, AL
	JZ halt
	OUTB
	INCQ SI
	JMP next
halt:
	CLI
	HLT
	JMP halt
