package vsmsim

import (
	"bytes"
	"debug/elf"
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/simwire"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Machine code the simulator writes into the guest, hand-encoded from the
// Intel SDM vol. 2 opcode tables (code_test.go decodes it back). x86
// register numbers: RAX 0, RCX 1, RDX 2, RBX 3, RSP 4, RBP 5, RSI 6, RDI 7,
// R8-R15 8-15.
const (
	rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi = 0, 1, 2, 3, 4, 5, 6, 7
	r8                                     = 8
)

// mailboxReg maps simwire's register order (vtlcall.Regs) to x86 numbers.
var mailboxReg = [simwire.NRegs]int{rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r8 + 1, r8 + 2, r8 + 3, r8 + 4, r8 + 5, r8 + 6, r8 + 7}

// The MOVs between RBX and CR2, DR0-DR3, DR6 (simwire's Debug order):
// opcode byte after 0F, then ModRM 11 reg 011.
var (
	debugFrom = [simwire.NDebug][2]byte{{0x20, 0xD3}, {0x21, 0xC3}, {0x21, 0xCB}, {0x21, 0xD3}, {0x21, 0xDB}, {0x21, 0xF3}}
	debugTo   = [simwire.NDebug][2]byte{{0x22, 0xD3}, {0x23, 0xC3}, {0x23, 0xCB}, {0x23, 0xD3}, {0x23, 0xDB}, {0x23, 0xF3}}
)

type asm struct{ b []byte }

func (a *asm) bytes(b ...byte) { a.b = append(a.b, b...) }
func (a *asm) u16(v uint16)    { a.b = binary.LittleEndian.AppendUint16(a.b, v) }
func (a *asm) u32(v uint32)    { a.b = binary.LittleEndian.AppendUint32(a.b, v) }
func (a *asm) u64(v uint64)    { a.b = binary.LittleEndian.AppendUint64(a.b, v) }

// rexW is REX.W with R (reg >= 8) and B (rm >= 8).
func rexW(reg, rm int) byte { return 0x48 | byte(reg>>3)<<2 | byte(rm>>3) }

// movImm64: MOV r64, imm64 (REX.W B8+r).
func (a *asm) movImm64(reg int, v uint64) {
	a.bytes(rexW(0, reg), 0xB8+byte(reg&7))
	a.u64(v)
}

// store: MOV [base+disp32], reg (REX.W 89 /r, mod 10). base is neither
// RSP nor R12 (which need a SIB byte).
func (a *asm) store(base, disp, reg int) {
	a.bytes(rexW(reg, base), 0x89, 0x80|byte(reg&7)<<3|byte(base&7))
	a.u32(uint32(disp))
}

// load: MOV reg, [base+disp32] (REX.W 8B /r, mod 10).
func (a *asm) load(reg, base, disp int) {
	a.bytes(rexW(reg, base), 0x8B, 0x80|byte(reg&7)<<3|byte(base&7))
	a.u32(uint32(disp))
}

// post: MOV qword [base+OffOp], op (REX.W C7 /0, mod 10); then Seq+1
// through tmp (MOV tmp, [base]; INC tmp; MOV [base], tmp) and a wait
// until Done equals it (PAUSE; CMP [base+8], tmp; JNE back). base and
// tmp are RAX or RBX.
func (a *asm) post(base, tmp int, op uint32) {
	a.bytes(0x48, 0xC7, 0x80|byte(base))
	a.u32(simwire.OffOp)
	a.u32(op)
	a.bytes(0x48, 0x8B, byte(tmp)<<3|byte(base))      // MOV tmp, [base]
	a.bytes(0x48, 0xFF, 0xC0|byte(tmp))               // INC tmp
	a.bytes(0x48, 0x89, byte(tmp)<<3|byte(base))      // MOV [base], tmp
	a.bytes(0xF3, 0x90)                               // PAUSE
	a.bytes(0x48, 0x39, 0x40|byte(tmp)<<3|byte(base)) // CMP [base+disp8], tmp
	a.bytes(simwire.OffDone)
	a.bytes(0x75, 0xF8) // JNE to the PAUSE
}

func regOff(i int) int { return simwire.OffRegs + 8*i }

// HypercallPage returns the hypercall page the simulator overlays at the
// GPA VTL1 writes into HV_X64_MSR_HYPERCALL: at HypercallOffset the
// hypercall (RCX control, RDX input GPA, R8 output GPA; RAX result: TLFS
// hypercall-interface.md), at VtlReturnOffset the VTL return, both posting
// to the mailbox at kernel address mb; INT3 elsewhere (VTL1 never makes a
// VTL call).
func HypercallPage(mb uint64) []byte {
	page := bytes.Repeat([]byte{0xCC}, hv.PageSize)

	var h asm
	h.bytes(0x50 + rbx) // PUSH RBX
	h.movImm64(rbx, mb)
	h.store(rbx, regOff(simwire.RCX), rcx)
	h.store(rbx, regOff(simwire.RDX), rdx)
	h.store(rbx, regOff(simwire.R8), r8)
	h.post(rbx, rax, simwire.OpHypercall)
	h.load(rax, rbx, regOff(simwire.RAX))
	h.bytes(0x58+rbx, 0xC3) // POP RBX; RET
	copy(page[simwire.HypercallOffset:], h.b)

	var r asm
	r.bytes(0x50 + rax) // PUSH RAX: RAX (VTL1's) is the mailbox base from here
	r.movImm64(rax, mb)
	for i, reg := range mailboxReg {
		if i != simwire.RAX && i != simwire.RCX {
			r.store(rax, regOff(i), reg)
		}
	}
	// CR2 and the debug registers as VTL1 leaves them, through RBX
	// (saved above): MOV RBX, CR2 (0F 20 /r), MOV RBX, DRn (0F 21 /r).
	for i, mov := range debugFrom {
		r.bytes(0x0F, mov[0], mov[1])
		r.store(rax, simwire.OffDebug+8*i, rbx)
	}
	r.post(rax, rbx, simwire.OpVTLReturn)
	// And as the next entry brings them (MOV CR2, RBX: 0F 22 /r; MOV
	// DRn, RBX: 0F 23 /r).
	for i, mov := range debugTo {
		r.load(rbx, rax, simwire.OffDebug+8*i)
		r.bytes(0x0F, mov[0], mov[1])
	}
	for i, reg := range mailboxReg {
		if i != simwire.RAX {
			r.load(reg, rax, regOff(i))
		}
	}
	r.load(rax, rax, regOff(simwire.RAX))
	r.bytes(0x48, 0x83, 0xC4, 0x08) // ADD RSP, 8: drop the pushed RAX
	r.bytes(0xC3)
	copy(page[simwire.VtlReturnOffset:], r.b)
	return page
}

// CodePageOffsets is HvRegisterVsmCodePageOffsets for HypercallPage (TLFS
// vsm.md, "Hypercall Page Assist": bits 11:0 VtlCallOffset, 23:12
// VtlReturnOffset).
const CodePageOffsets = hv.CodePageOffsets(simwire.VtlReturnOffset<<12 | simwire.VtlCallOffset)

// Trampoline returns a PVH ELF (Xen's docs/misc/pvh.pandoc: entered in
// 32-bit protected mode, paging off) loaded at at, inside the part of the
// reservation the loader's page tables identity-map. It does what Hyper-V
// does when the boot call enters VTL1 at the initial VP context ctx
// (hv.InitialVPContext, TLFS datatypes/hv_initial_vp_context.md): loads
// CR4, CR3, EFER, GDTR, IDTR and CR0 (long mode from here, on VTL0's
// tables), the 64-bit code segment (selector 0x08 of the loader's GDT),
// DS-GS 0x10, SS 0, RSP, the shared registers regs of the boot call, and
// jumps to RIP. The TR the loader describes is not loaded: its TSS
// descriptor is busy (LTR would fault), and Cocoon loads its own.
func Trampoline(at uint32, ctx *hv.InitialVPContext, regs *vtlcall.Regs) []byte {
	const gdtrOff, idtrOff = 0x200, 0x210 // data after the code
	var a asm
	a.bytes(0xFA)                        // CLI
	a.bytes(0xB8)                        // MOV EAX, imm32
	a.u32(uint32(ctx.Cr4))               //
	a.bytes(0x0F, 0x22, 0xE0)            // MOV CR4, EAX
	a.bytes(0xB8)                        //
	a.u32(uint32(ctx.Cr3))               //
	a.bytes(0x0F, 0x22, 0xD8)            // MOV CR3, EAX
	a.bytes(0xB9)                        // MOV ECX, IA32_EFER
	a.u32(0xC000_0080)                   //
	a.bytes(0xB8)                        //
	a.u32(uint32(ctx.Efer) &^ (1 << 10)) // LMA is the processor's to set
	a.bytes(0x31, 0xD2)                  // XOR EDX, EDX
	a.bytes(0x0F, 0x30)                  // WRMSR
	a.bytes(0x0F, 0x01, 0x15)            // LGDT [disp32]
	a.u32(at + gdtrOff)                  //
	a.bytes(0x0F, 0x01, 0x1D)            // LIDT [disp32]
	a.u32(at + idtrOff)                  //
	a.bytes(0xB8)                        //
	a.u32(uint32(ctx.Cr0))               //
	a.bytes(0x0F, 0x22, 0xC0)            // MOV CR0, EAX: long mode (compatibility)
	a.bytes(0xEA)                        // JMP FAR ptr16:32
	far := len(a.b)                      //
	a.u32(0)                             // (patched: the 64-bit code)
	a.u16(0x08)                          //
	binary.LittleEndian.PutUint32(a.b[far:], at+uint32(len(a.b)))
	a.bytes(0xB8)                                           // MOV EAX, 0x10
	a.u32(0x10)                                             //
	a.bytes(0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xE0, 0x8E, 0xE8) // MOV DS, ES, FS, GS, AX
	a.bytes(0x31, 0xC0, 0x8E, 0xD0)                         // XOR EAX, EAX; MOV SS, AX
	a.movImm64(rsp, ctx.Rsp)
	vals := [simwire.NRegs]uint64{regs.Rax, regs.Rbx, regs.Rcx, regs.Rdx, regs.Rsi, regs.Rdi, regs.Rbp,
		regs.R8, regs.R9, regs.R10, regs.R11, regs.R12, regs.R13, regs.R14, regs.R15}
	for i, reg := range mailboxReg {
		a.movImm64(reg, vals[i])
	}
	a.bytes(0xFF, 0x25, 0, 0, 0, 0) // JMP [RIP+0]
	a.u64(ctx.Rip)
	if len(a.b) > gdtrOff {
		panic("vsmsim: trampoline code overlaps its data")
	}
	code := append(a.b, make([]byte, gdtrOff-len(a.b))...)
	code = binary.LittleEndian.AppendUint16(code, ctx.Gdtr.Limit)
	code = binary.LittleEndian.AppendUint32(code, uint32(ctx.Gdtr.Base))
	code = append(code, make([]byte, idtrOff-len(code))...)
	code = binary.LittleEndian.AppendUint16(code, ctx.Idtr.Limit)
	code = binary.LittleEndian.AppendUint32(code, uint32(ctx.Idtr.Base))
	return pvhELF(at, code)
}

// pvhELF wraps 32-bit code entered at its first byte, loaded at physical
// at, in an ELF64 executable with the Xen PVH entry note
// (XEN_ELFNOTE_PHYS32_ENTRY, type 18, name "Xen"), which QEMU's -kernel
// boots.
func pvhELF(at uint32, code []byte) []byte {
	const ehdr, phdr, noteOff, codeOff = 64, 56, 64 + 2*56, 0x1000
	note := []byte{4, 0, 0, 0, 4, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0}
	note = binary.LittleEndian.AppendUint32(note, at)
	var b bytes.Buffer
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: uint64(at), Phoff: ehdr, Ehsize: ehdr, Phentsize: phdr, Phnum: 2}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Off: codeOff, Vaddr: uint64(at), Paddr: uint64(at), Filesz: uint64(len(code)), Memsz: uint64(len(code)), Align: 0x1000})
	binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_NOTE), Flags: uint32(elf.PF_R),
		Off: noteOff, Vaddr: uint64(at) + noteOff, Paddr: uint64(at) + noteOff, Filesz: uint64(len(note)), Memsz: uint64(len(note)), Align: 4})
	b.Write(note)
	b.Write(make([]byte, codeOff-b.Len()))
	b.Write(code)
	return b.Bytes()
}

// kernelVA is where Cocoon's kernel sees guest physical address gpa (its
// direct map).
func kernelVA(gpa uint64) uint64 { return uint64(layout.KernBase) + gpa }
