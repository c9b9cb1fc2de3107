package kernel

// Descriptor tables: GDT with a 64-bit TSS, the IDT, and the SYSCALL MSRs.
// Boot time only, before the Go runtime starts: //go:nosplit, no
// allocation.

import (
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

var (
	gdt [16]uint64 // Linux's GDT_ENTRIES
	// tss is the 64-bit TSS (AMD APM vol. 2, 12.2.5, figure 12-8): 104
	// bytes; RSP0 at 4, IST1..IST7 at 36..84, I/O map base at 102.
	tss     [26]uint32
	idt     [256][2]uint64
	descBuf [10]byte // LGDT/LIDT pseudo-descriptor
)

// MSRs for SYSCALL and SYSENTER (AMD APM vol. 2, 6.1.1 and appendix A).
const (
	msrSTAR        = 0xc0000081
	msrLSTAR       = 0xc0000082
	msrSFMASK      = 0xc0000084
	msrSysenterCS  = 0x174
	msrSysenterESP = 0x175
	msrSysenterEIP = 0x176
)

// syscallMask is SFMASK: every RFLAGS bit SYSCALL clears on entry, the
// set Linux masks (arch/x86/kernel/cpu/common.c, syscall_init): CF, PF,
// AF, ZF, SF, TF, IF, DF, OF, IOPL, NT, RF, AC, ID. The kernel then runs
// with flags it chose: no single-step, no string ops backwards, no SMAP
// override (AC), and no NT, which would make the kernel's next IRETQ #GP
// (AMD APM vol. 2, 8.9.4). The application's own flags come back from R11.
const syscallMask = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x3000 | 0x4000 | 0x10000 | 0x40000 | 0x200000

// Vectors whose gates are DPL3, so that INT3 and INT $4 from user mode
// arrive as #BP and #OF (as on Linux, arch/x86/kernel/idt.c); every
// other INT n from CPL3 is a #GP.
const (
	vecBreakpoint = 3
	vecOverflow   = 4
)

//go:nosplit
func setupDescriptors() {
	// Every descriptor has its accessed bit set, as Linux's: LAR shows
	// an application the same attributes, and no segment load writes
	// to the table.
	gdt[0] = 0
	gdt[1] = 0x00af9b000000ffff // kernel code: L, P, DPL0, execute/read
	gdt[2] = 0x00cf93000000ffff // kernel data
	gdt[3] = 0                  // unused (Linux's kernel data)
	gdt[4] = 0                  // SysretBase: no 32-bit user code (Linux's __USER32_CS)
	gdt[5] = 0x00cff3000000ffff // user data, DPL3
	gdt[6] = 0x00affb000000ffff // user code, L, DPL3
	gdt[7] = 0
	// Slots 10-14 are Linux's LDT and TLS descriptors, none here. Slot
	// 15 is its per-CPU segment (__CPUNODE_SEG, setup_getcpu): DPL3
	// read-only expand-down data whose limit is the CPU number and node
	// (node<<12 | cpu), which LSL reads from user mode (vdso_read_cpunode's
	// fallback): CPU 0, node 0.
	gdt[cpu.CPUNode/8] = 0x0040f50000000000

	trapStackTop = (addrOf(&trapStack[0]) + uintptr(len(trapStack))) &^ 15
	faultTop := (addrOf(&faultStack[0]) + uintptr(len(faultStack))) &^ 15
	setTSS64(4, uint64(trapStackTop))  // RSP0: traps from user mode
	setTSS64(36, uint64(trapStackTop)) // IST1: interrupts, syscalls' stack
	setTSS64(44, uint64(faultTop))     // IST2: faults that may strike a handler
	vcTop := (addrOf(&vcStack[0]) + uintptr(len(vcStack))) &^ 15
	setTSS64(52, uint64(vcTop)) // IST3: #VC, which may strike anywhere
	vcFX = (addrOf(&vcFXArea[0]) + 15) &^ 15
	tss[25] = 104 << 16 // I/O map base beyond the limit: no bitmap

	// 64-bit TSS descriptor (AMD APM vol. 2, 4.8.3, figure 4-22): type 9.
	base := uint64(addrOf((*byte)(unsafe.Pointer(&tss[0]))))
	limit := uint64(104 - 1)
	gdt[cpu.TSSel/8] = limit&0xffff | (base&0xffffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	gdt[cpu.TSSel/8+1] = base >> 32
	loadDesc(cpu.Lgdt, uint16(len(gdt)*8-1), uint64(addrOf((*byte)(unsafe.Pointer(&gdt[0])))))
	cpu.Ltr(cpu.TSSel)
	// No LDT: at reset LDTR is usable with base 0 and limit 0xffff
	// (AMD APM vol. 2, 14.1.3, table 14-1), so a CPL3 load of an LDT
	// selector (mov %ax, %ds with TI set, lar, a far call) read a
	// descriptor from linear address 0 (a page the application may map)
	// where it must #GP with the selector as on Linux.
	cpu.Lldt(0)

	// Interrupt gates (AMD APM vol. 2, 4.8.4, figure 4-24): type 0xE, P=1.
	// Faults that can happen inside a handler use IST2 so they still get a
	// clean stack to report on.
	for v := 0; v < 256; v++ {
		ist := uint64(1)
		off := uint64(stubAddr(uintptr(v)))
		switch v {
		case 2, 8, 13, 14, 18: // NMI, #DF, #GP, #PF, #MC
			ist = 2
		case vecVC:
			ist, off = 3, uint64(vcEntryAddr())
		}
		attr := uint64(0x8e) // P, DPL0, 64-bit interrupt gate
		if v == vecBreakpoint || v == vecOverflow {
			attr = 0xee // DPL3
		}
		idt[v][0] = off&0xffff | cpu.KCode<<16 | ist<<32 | attr<<40 | (off>>16&0xffff)<<48
		idt[v][1] = off >> 32
	}
	loadDesc(cpu.Lidt, uint16(len(idt)*16-1), uint64(addrOf((*byte)(unsafe.Pointer(&idt[0])))))

	// SYSCALL: CS=KCode, SS=KCode+8; SYSRET to UCode/UData (SysretBase+16, +8).
	cpu.Wrmsr(msrSTAR, uint64(cpu.SysretBase)<<48|uint64(cpu.KCode)<<32)
	cpu.Wrmsr(msrLSTAR, uint64(funcAddr(1)))
	cpu.Wrmsr(msrSFMASK, syscallMask)
	// SYSENTER is not an entry into Cocoon: a null CS makes it #GP (Intel
	// SDM vol. 2B, SYSENTER; AMD CPUs #UD it in long mode anyway), and
	// no stack or entry point is left for it (as Linux without IA32
	// emulation, syscall_init).
	cpu.Wrmsr(msrSysenterCS, 0)
	cpu.Wrmsr(msrSysenterESP, 0)
	cpu.Wrmsr(msrSysenterEIP, 0)
}

//go:nosplit
func setTSS64(off int, v uint64) {
	tss[off/4] = uint32(v)
	tss[off/4+1] = uint32(v >> 32)
}

//go:nosplit
func loadDesc(load func(uintptr), limit uint16, base uint64) {
	descBuf[0], descBuf[1] = byte(limit), byte(limit>>8)
	for i := 0; i < 8; i++ {
		descBuf[2+i] = byte(base >> (8 * i))
	}
	load(addrOf(&descBuf[0]))
}
