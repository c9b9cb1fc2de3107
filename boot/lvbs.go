package boot

// The LVBS entry's hand-off to kernel.Boot (lvbs_amd64.s; docs/LVBS.md
// "Boot entry"). Boot context: it runs before the Go runtime exists
// (//go:nosplit, no allocation).

import (
	"encoding/binary"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/lvbs/vtl1"
)

// The image format of lvbs/skimage, restated for the entry (TestLVBSLayout
// checks the two agree): the reservation starts at lvbsBase, 2 MiB below
// the kernel, and skloader.bin's header lies at its start.
const (
	lvbsBase       = ImagePhys - 2<<20
	lvbsOffMailbox = 0x30
	lvbsOffCmdline = 0x1000
	// lvbsMinRAM is the least RAM above the kernel and its archive the
	// kernel boots with (kernel.Boot wants 4 MiB free; the runtime more).
	lvbsMinRAM = 16 << 20
)

var (
	// lvbsSaved holds the shared registers at the boot call (vtlcall.Regs
	// order), the TSC at entry, then VTL0's CR2, DR0-DR3 and DR6. lvbsInitrd is where the entry
	// moved the application archive, and its length. Initialised data,
	// not bss: the entry writes them before it zeroes the bss.
	lvbsSaved  = [22]uint64{15: 1}
	lvbsInitrd = [2]uint64{1, 1}
	// lvbsMagic is "COCOSK01", skloader.bin's magic, little endian.
	lvbsMagic = uint64(0x31304B534F434F43)

	lvbsMsgBase = [...]byte{ // cocoon: LVBS: load the secure kernel at 0x1e00000 (securekernel=SIZE@0x1e00000) from mkimage's skloader.bin and vmlinux.bin; stopped
		0x63, 0x6f, 0x63, 0x6f, 0x6f, 0x6e, 0x3a, 0x20, 0x4c, 0x56, 0x42, 0x53,
		0x3a, 0x20, 0x6c, 0x6f, 0x61, 0x64, 0x20, 0x74, 0x68, 0x65, 0x20, 0x73,
		0x65, 0x63, 0x75, 0x72, 0x65, 0x20, 0x6b, 0x65, 0x72, 0x6e, 0x65, 0x6c,
		0x20, 0x61, 0x74, 0x20, 0x30, 0x78, 0x31, 0x65, 0x30, 0x30, 0x30, 0x30,
		0x30, 0x20, 0x28, 0x73, 0x65, 0x63, 0x75, 0x72, 0x65, 0x6b, 0x65, 0x72,
		0x6e, 0x65, 0x6c, 0x3d, 0x53, 0x49, 0x5a, 0x45, 0x40, 0x30, 0x78, 0x31,
		0x65, 0x30, 0x30, 0x30, 0x30, 0x30, 0x29, 0x20, 0x66, 0x72, 0x6f, 0x6d,
		0x20, 0x6d, 0x6b, 0x69, 0x6d, 0x61, 0x67, 0x65, 0x27, 0x73, 0x20, 0x73,
		0x6b, 0x6c, 0x6f, 0x61, 0x64, 0x65, 0x72, 0x2e, 0x62, 0x69, 0x6e, 0x20,
		0x61, 0x6e, 0x64, 0x20, 0x76, 0x6d, 0x6c, 0x69, 0x6e, 0x75, 0x78, 0x2e,
		0x62, 0x69, 0x6e, 0x3b, 0x20, 0x73, 0x74, 0x6f, 0x70, 0x70, 0x65, 0x64,
		0x0d, 0x0a, 0x00,
	}
	lvbsMsgSmall = [...]byte{ // cocoon: LVBS: the securekernel= reservation is too small for the image; stopped
		0x63, 0x6f, 0x63, 0x6f, 0x6f, 0x6e, 0x3a, 0x20, 0x4c, 0x56, 0x42, 0x53,
		0x3a, 0x20, 0x74, 0x68, 0x65, 0x20, 0x73, 0x65, 0x63, 0x75, 0x72, 0x65,
		0x6b, 0x65, 0x72, 0x6e, 0x65, 0x6c, 0x3d, 0x20, 0x72, 0x65, 0x73, 0x65,
		0x72, 0x76, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x20, 0x69, 0x73, 0x20, 0x74,
		0x6f, 0x6f, 0x20, 0x73, 0x6d, 0x61, 0x6c, 0x6c, 0x20, 0x66, 0x6f, 0x72,
		0x20, 0x74, 0x68, 0x65, 0x20, 0x69, 0x6d, 0x61, 0x67, 0x65, 0x3b, 0x20,
		0x73, 0x74, 0x6f, 0x70, 0x70, 0x65, 0x64, 0x0d, 0x0a, 0x00,
	}

	lvbsPlatform vtl1.Platform
)

// lvbsEntry is the first instruction of VTL1 (lvbs_amd64.s), which
// skloader.bin jumps to.
func lvbsEntry()

// lvbsEntryAddr keeps lvbsEntry in the link, as efiEntryAddr does
// efiEntry.
var lvbsEntryAddr uintptr

func init() {
	f := lvbsEntry
	// unsafe: a func value points at a word holding the code address.
	lvbsEntryAddr = **(**uintptr)(unsafe.Pointer(&f))
}

// lvbsMain is the first Go code on the LVBS path: the kernel's link
// addresses, the boot page tables, the bss zeroed.
//
//go:nosplit
func lvbsMain() {
	kernel.MarkAt(kernel.PhaseEntry, lvbsSaved[15])
	p := &lvbsPlatform
	p.PC.Init()
	r := &p.BootRegs
	r.Rax, r.Rbx, r.Rcx, r.Rdx = lvbsSaved[0], lvbsSaved[1], lvbsSaved[2], lvbsSaved[3]
	r.Rsi, r.Rdi, r.Rbp, r.R8 = lvbsSaved[4], lvbsSaved[5], lvbsSaved[6], lvbsSaved[7]
	r.R9, r.R10, r.R11, r.R12 = lvbsSaved[8], lvbsSaved[9], lvbsSaved[10], lvbsSaved[11]
	r.R13, r.R14, r.R15 = lvbsSaved[12], lvbsSaved[13], lvbsSaved[14]
	d := &p.BootDebug
	d.CR2, d.DR0, d.DR1, d.DR2, d.DR3, d.DR6 = lvbsSaved[16], lvbsSaved[17], lvbsSaved[18], lvbsSaved[19], lvbsSaved[20], lvbsSaved[21]
	hdr := cpu.Bytes(cpu.Virt(lvbsBase), lvbsOffCmdline)
	p.Mailbox = binary.LittleEndian.Uint64(hdr[lvbsOffMailbox:])
	if p.Mailbox != 0 {
		say("cocoon: boot (LVBS secure kernel in VTL1, SIMULATED VSM: the hypervisor and VTL0 are a host-side simulator)\n")
	} else {
		say("cocoon: boot (LVBS secure kernel in VTL1)\n")
	}
	start, end := r.Rsi, r.Rdx // the boot call's a1 and a2, checked by the entry
	initrdEnd := lvbsInitrd[0] + lvbsInitrd[1]
	switch {
	case end > uint64(cpu.DirectMapSize) || end%pageSize != 0:
		say("cocoon: LVBS: the reservation must end page-aligned below 4 GiB\n")
		p.PowerOff(1)
	case end < initrdEnd+lvbsMinRAM:
		say("cocoon: LVBS: the securekernel= reservation leaves the kernel less than 16 MiB of RAM: make it larger\n")
		p.PowerOff(1)
	}
	p.Start, p.End = start, end
	// RAM is the reservation from the kernel up: the first 2 MiB hold
	// skloader.bin's header and command line and the boot page tables.
	info.Mem[0] = kernel.MemRegion{Base: ImagePhys, Size: end - ImagePhys, Type: kernel.MemRAM}
	info.NMem = 1
	info.Cmdline = lvbsBase + lvbsOffCmdline
	if lvbsInitrd[1] != 0 {
		info.Initrd, info.InitrdSize = lvbsInitrd[0], lvbsInitrd[1]
		keep(&info, info.Initrd, info.InitrdSize)
	}
	info.ImageStart, info.ImageEnd = imageBounds()
	kernel.Boot(p, &info)
}
