// Package layout holds the kernel's virtual and physical memory layout as
// plain constants, so host tools (the image builder, tests) can use them
// without importing guest code. Keep in sync with kernel/cpu/layout.h.
package layout

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

// ImagePhys is the physical address of the kernel image's first byte (its
// ELF header) in a kernel that boots through UEFI (and PVH); the text is
// linked at KernBase + ImagePhys + 0x1000. It lies above OVMF's MEMFD (8 MiB up to the DXE firmware volume's end at
// 22 MiB, OvmfPkg/OvmfPkgX64.fdf and AmdSev/AmdSevX64.fdf), whose SEV
// pages (secrets, CPUID, GHCB backups, the S3 lock box) stay reserved
// after ExitBootServices: the UEFI entry copies the kernel here then.
// The kernel is 2 MiB-aligned (the entry paths map it with 2 MiB pages).
const ImagePhys = 0x2000000

// PVHImagePhys is where a PVH-only kernel (tools/kbuild's PVHOnly) is
// linked and loaded instead: no firmware lives in RAM under a PVH boot
// (QEMU's start_info, command line and memory map sit below 1 MiB, which
// the kernel keeps), so the image can start at the first 2 MiB boundary
// past the 4 KiB early stack below it (boot/entry_amd64.s) and a small
// machine keeps its low 30 MiB. Such a kernel cannot boot through UEFI
// (tools/efiimage refuses it).
const PVHImagePhys = 0x200000

// EntrySymbol is the linker name of the PVH entry (boot.pvhEntry), the
// kernel ELF's entry point.
const EntrySymbol = "github.com/cocoon-vm/cocoon/boot.pvhEntry"
