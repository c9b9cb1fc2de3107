package boot

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel"
)

// struct hvm_start_info (Xen public/arch-x86/hvm/start_info.h), version 1.
const (
	startInfoMagic   = 0x336ec578
	siMagic          = 0  // u32
	siVersion        = 4  // u32
	siNrModules      = 12 // u32
	siModlistPaddr   = 16 // u64
	siCmdlinePaddr   = 24 // u64
	siMemmapPaddr    = 40 // u64, version >= 1
	siMemmapEntries  = 48 // u32, version >= 1
	startInfoSize    = 56
	modlistEntrySize = 32 // struct hvm_modlist_entry: paddr, size, cmdline_paddr, reserved
	memmapEntrySize  = 24 // struct hvm_memmap_table_entry: addr, size, type, reserved
)

// parseStartInfo fills info from a PVH start_info block si. read returns
// n bytes of physical memory at addr (nil if out of range). It reports
// false if si is not a PVH start_info. //go:nosplit: runs before the Go
// runtime.
//
//go:nosplit
func parseStartInfo(si []byte, siAddr uint64, read func(addr, n uint64) []byte, info *kernel.BootInfo) bool {
	le := binary.LittleEndian
	if len(si) < startInfoSize || le.Uint32(si[siMagic:]) != startInfoMagic {
		return false
	}
	keep(info, siAddr, startInfoSize)
	info.Cmdline = le.Uint64(si[siCmdlinePaddr:])
	if info.Cmdline != 0 {
		keep(info, info.Cmdline, 4096)
	}
	if n := uint64(le.Uint32(si[siNrModules:])); n > 0 {
		ml := le.Uint64(si[siModlistPaddr:])
		keep(info, ml, n*modlistEntrySize)
		if m := read(ml, modlistEntrySize); m != nil {
			info.Initrd = le.Uint64(m[0:])
			info.InitrdSize = le.Uint64(m[8:])
			keep(info, info.Initrd, info.InitrdSize)
		}
	}
	if le.Uint32(si[siVersion:]) >= 1 {
		mm := le.Uint64(si[siMemmapPaddr:])
		n := uint64(le.Uint32(si[siMemmapEntries:]))
		if n > uint64(len(info.Mem)) {
			n = uint64(len(info.Mem))
		}
		keep(info, mm, n*memmapEntrySize)
		for i := uint64(0); i < n; i++ {
			e := read(mm+i*memmapEntrySize, memmapEntrySize)
			if e == nil {
				break
			}
			info.Mem[info.NMem] = kernel.MemRegion{Base: le.Uint64(e[0:]), Size: le.Uint64(e[8:]), Type: le.Uint32(e[16:])}
			info.NMem++
		}
	}
	return true
}

//go:nosplit
func keep(info *kernel.BootInfo, base, size uint64) {
	if size == 0 {
		return
	}
	if info.NKeep < len(info.Keep) {
		info.Keep[info.NKeep] = kernel.MemRegion{Base: base, Size: size}
	}
	info.NKeep++ // past len(Keep): kernel.Boot refuses to boot
}
