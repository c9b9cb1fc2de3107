// Package cpu holds the x86-64 machine primitives of Cocoon's kernel: the
// virtual memory layout, segment and trap-frame layouts, the trap entry
// stubs and privileged instructions wrapped as Go functions.
package cpu

// Virtual memory layout (one PML4 slot = 512 GiB). Everything the kernel
// owns sits in PML4 slots 252..255, shared by every address space and
// mapped supervisor-only; slots 0..251 belong to the application.
const (
	// KernBase maps physical memory 1:1 (physical p at KernBase+p). The
	// kernel image is linked inside it, at KernBase + load address.
	KernBase uintptr = 0x7e00_0000_0000
	// DirectMapSize is how much physical address space the boot page
	// tables map at KernBase (2 MiB pages, see boot/entry_amd64.s).
	DirectMapSize uintptr = 4 << 30
	// HeapBase..HeapEnd is where the kernel's own Go runtime gets its
	// mmap memory (PML4 slots 254 and 255).
	HeapBase uintptr = 0x7f00_0000_0000
	HeapEnd  uintptr = 0x7fff_ffff_0000
	// UserEnd is the first address the application may not map.
	UserEnd uintptr = 0x7e00_0000_0000
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
