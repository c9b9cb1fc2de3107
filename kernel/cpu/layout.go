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
// 6.1.1 "SYSCALL and SYSRET"): STAR[47:32]=KCode, STAR[63:48]+8=UData,
// +16=UCode.
const (
	KCode = 0x08
	KData = 0x10
	UData = 0x18 | 3
	UCode = 0x20 | 3
	TSSel = 0x28
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
