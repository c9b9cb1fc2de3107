// Package boot holds Cocoon's entry paths: the PVH 32-bit entry (QEMU
// -kernel, Firecracker, Cloud Hypervisor), which builds early page tables,
// enters long mode and hands the machine to the kernel.
//
// Importing this package (blank) from a main package makes that program a
// Cocoon kernel: tools/mkimage links it with -E on pvhEntry.
package boot

const bootStackSize = 64 << 10

// Memory the entry assembly uses before any allocator exists. Zero-filled
// by the ELF loader (bss).
var (
	bootTables [8 << 12]byte // PML4, PDPT, 4 PDs, SNP's split page (snp.go), + a page for alignment
	bootStack  [bootStackSize]byte
	earlyTLS   [16]uint64
	earlyGDTR  [10]byte
	// entryTSC is the TSC at the entry's first instruction (PVH or
	// UEFI), for the boot timeline.
	entryTSC uint64
)

// earlyGDT is the boot GDT (AMD APM vol. 2, 4.8 "Long-Mode Segment
// Descriptors"); the kernel replaces it with one that has a TSS. The
// selectors match kernel/cpu.
var earlyGDT = [8]uint64{
	0,
	0x00af9a000000ffff, // 0x08 kernel code, 64-bit
	0x00cf92000000ffff, // 0x10 kernel data
	0x00cff2000000ffff, // 0x18 user data
	0x00affa000000ffff, // 0x20 user code, 64-bit
}

// pvhEntry is the ELF entry and the PVH entry point (physical).
func pvhEntry()
