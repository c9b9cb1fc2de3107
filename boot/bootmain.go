package boot

// The entry paths' hand-offs to kernel.Boot: bootMain (PVH) and efiBoot
// (UEFI). Boot context: they run before the Go runtime exists
// (//go:nosplit, no allocation).

import (
	"encoding/binary"
	"unsafe"

	"github.com/cocoon-vm/cocoon/hal/pc"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/snp"
)

// ImagePhys is where the kernel image's first byte (its ELF header) is
// loaded on the UEFI path. A PVH boot finds its image from its link
// address instead (imageBounds): a PVH-only kernel lies lower.
const ImagePhys = layout.ImagePhys

// textStart returns the link address of the kernel's first text byte
// (the linker's runtime.text, kbuild's -T), one page past the ELF header.
func textStart() uintptr

var (
	info     kernel.BootInfo
	platform pc.PC
)

// bootMain is the first Go code to run: long mode, the boot page tables
// (physical memory at cpu.KernBase), the boot stack and a dummy TLS. Like
// all boot code it must not grow the stack or allocate.
//
//go:nosplit
func bootMain(startInfo uintptr) {
	kernel.MarkAt(kernel.PhaseEntry, entryTSC)
	platform.Init()
	say("cocoon: boot\n")
	if why, ok := detect(); !ok {
		say(why)
		platform.PowerOff(1)
	}
	if encryption.Kind == snp.SNP {
		// Unreachable on hardware (see detect); SNP boots through UEFI.
		say("cocoon: an SEV-SNP guest must boot through UEFI (an OVMF AmdSev build; docs/SNP.md)\n")
		platform.PowerOff(1)
	}
	if !parseStartInfo(cpu.Bytes(cpu.Virt(startInfo), startInfoSize), uint64(startInfo), readPhys, &info) {
		say("cocoon: no PVH start_info: boot with a PVH loader (QEMU -kernel)\n")
		platform.PowerOff(1)
	}
	info.ImageStart, info.ImageEnd = imageBounds()
	kernel.Boot(&platform, &info)
}

// say prints s without allocating (a []byte conversion would escape).
//
//go:nosplit
func say(s string) { platform.ConsoleWrite(unsafe.Slice(unsafe.StringData(s), len(s))) }

//go:nosplit
func readPhys(addr, n uint64) []byte {
	if addr+n < addr || addr+n > uint64(cpu.DirectMapSize) {
		return nil
	}
	return cpu.Bytes(cpu.Virt(uintptr(addr)), uintptr(n))
}

// imageBounds reads the kernel's own ELF program headers, loaded with the
// first segment (the ELF header) one page below the text, for the extent
// of the image including bss. That is the memory size tools/kbuild wrote,
// which may end before the linker's runtime.end: kbuild trims a tail of
// bss the kernel never touches (kbuild.trimBSS).
//
//go:nosplit
func imageBounds() (start, end uintptr) {
	hdr := textStart() - 0x1000
	eh := cpu.Bytes(hdr, 64)
	le := binary.LittleEndian
	phoff := uintptr(le.Uint64(eh[0x20:]))
	phnum := uintptr(le.Uint16(eh[0x38:]))
	start, end = hdr, hdr
	for i := uintptr(0); i < phnum; i++ {
		ph := cpu.Bytes(hdr+phoff+i*56, 56)
		if le.Uint32(ph[0:]) != 1 { // PT_LOAD
			continue
		}
		if e := uintptr(le.Uint64(ph[0x10:]) + le.Uint64(ph[0x28:])); e > end {
			end = e
		}
	}
	return start, (end + 4095) &^ 4095
}

// efiBoot runs at ImagePhys on the PVH boot page tables (under SNP after
// efiSNPStart, snp.go).
//
//go:nosplit
func efiBoot() {
	kernel.MarkAt(kernel.PhaseEntry, entryTSC)
	if efiCBit != 0 {
		info.VC = &snpPlatform
		kernel.Boot(&snpPlatform, &info)
	}
	kernel.Boot(&platform, &info)
}
