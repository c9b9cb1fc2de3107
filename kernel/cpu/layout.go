// Package cpu holds the x86-64 machine primitives of Cocoon's kernel: the
// virtual memory layout, segment and trap-frame layouts, the trap entry
// stubs and privileged instructions wrapped as Go functions.
package cpu

import "github.com/cocoon-vm/cocoon/kernel/layout"

// The memory layout (see package layout for what each range is).
const (
	KernBase      = layout.KernBase
	DirectMapSize = layout.DirectMapSize
	HeapBase      = layout.HeapBase
	HeapEnd       = layout.HeapEnd
	UserEnd       = layout.UserEnd
)

// Segment selectors, in the order SYSCALL/SYSRET require (AMD APM vol. 2,
// 6.1.1 "SYSCALL and SYSRET"): STAR[47:32]=KCode, KCode+8=KData;
// STAR[63:48]=SysretBase, +8=UData, +16=UCode. The user selectors are
// Linux's (__USER_DS 0x2b, __USER_CS 0x33; arch/x86/include/asm/segment.h):
// an application sees them in its signal frames and segment registers,
// and a frame that names them is one rt_sigreturn takes.
const (
	KCode      = 0x08
	KData      = 0x10
	SysretBase = 0x20 | 3 // Linux's __USER32_CS slot, left empty: no 32-bit code
	UData      = 0x28 | 3
	UCode      = 0x30 | 3
	TSSel      = 0x40
	CPUNode    = 0x78 | 3 // Linux's __CPUNODE_SEG
)

// Phys returns the physical address of a kernel virtual address in the
// direct map.
//
//go:nosplit
func Phys(v uintptr) uintptr { return v - KernBase }

// Virt returns the direct-map virtual address of physical address p.
//
//go:nosplit
func Virt(p uintptr) uintptr { return p + KernBase }
