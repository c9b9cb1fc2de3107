package boot

// Pure helpers of the UEFI entry: the memory map, the command line and the
// PE section table. They run before the Go runtime (//go:nosplit, no
// allocation) and are tested on the host.

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel"
)

// EFI_MEMORY_TYPE (UEFI 2.10, 7.2, table 7-6 "Memory Type Usage before
// ExitBootServices()" and 7-7 "after").
const (
	memReserved            = 0
	memLoaderCode          = 1
	memLoaderData          = 2
	memBootServicesCode    = 3
	memBootServicesData    = 4
	memRuntimeServicesCode = 5
	memRuntimeServicesData = 6
	memConventional        = 7
	memUnusable            = 8
	memACPIReclaim         = 9
	memACPINVS             = 10
	memMMIO                = 11
	memMMIOPortSpace       = 12
	memPalCode             = 13
	memPersistent          = 14
	memUnaccepted          = 15
)

// E820 address range types (ACPI 6.5, table 15.1), which BootInfo uses.
const (
	e820RAM        = kernel.MemRAM
	e820Reserved   = 2
	e820ACPI       = 3
	e820NVS        = 4
	e820Unusable   = 5
	e820Persistent = 7
)

// EFI_MEMORY_DESCRIPTOR field offsets (UEFI 2.10, 7.2 GetMemoryMap). The
// firmware's descriptor size may be larger than the structure.
const (
	mdType       = 0  // u32
	mdPhysStart  = 8  // u64
	mdNumPages   = 24 // u64
	mdMinSize    = 40
	efiPageShift = 12
)

// e820Type maps a UEFI memory type to its E820 type once boot services
// have exited: loader and boot-services memory become RAM (UEFI 2.10,
// table 7-7; ACPI 6.5, table 15.6 "UEFI Memory Types and Mapping to ACPI
// Address Range Types"). Unaccepted memory (SEV-SNP, TDX) is not RAM until
// accepted: an SNP guest validates it (forUnaccepted, snp.go) and adds it
// then.
//
//go:nosplit
func e820Type(t uint32) uint32 {
	switch t {
	case memLoaderCode, memLoaderData, memBootServicesCode, memBootServicesData, memConventional:
		return e820RAM
	case memACPIReclaim:
		return e820ACPI
	case memACPINVS:
		return e820NVS
	case memUnusable:
		return e820Unusable
	case memPersistent:
		return e820Persistent
	}
	return e820Reserved
}

// convertMemoryMap fills info.Mem from a UEFI memory map mm of descSize
// descriptors, merging neighbours of the same E820 type. BootInfo holds
// 64 regions: RAM goes in first, then the other types while room is
// left, so that a long map loses only information the kernel does not
// use.
//
//go:nosplit
func convertMemoryMap(mm []byte, descSize uintptr, info *kernel.BootInfo) {
	info.NMem = 0
	if descSize < mdMinSize {
		return
	}
	for pass := 0; pass < 2; pass++ {
		for off := uintptr(0); off+descSize <= uintptr(len(mm)); off += descSize {
			d := mm[off : off+descSize]
			t := e820Type(binary.LittleEndian.Uint32(d[mdType:]))
			if (t == e820RAM) != (pass == 0) {
				continue
			}
			base := binary.LittleEndian.Uint64(d[mdPhysStart:])
			size := binary.LittleEndian.Uint64(d[mdNumPages:]) << efiPageShift
			if size == 0 {
				continue
			}
			addRegion(info, base, size, t)
		}
	}
}

// clipRAM drops RAM at and above limit from info.Mem (it becomes
// reserved there): an SNP guest's boot tables map 3-4 GiB shared (the
// MMIO hole), and memory the kernel used there would be the host's to
// read and write.
//
//go:nosplit
func clipRAM(info *kernel.BootInfo, limit uint64) {
	for i := 0; i < info.NMem; i++ {
		r := &info.Mem[i]
		if r.Type != e820RAM || r.Base+r.Size <= limit {
			continue
		}
		if r.Base >= limit {
			r.Type = e820Reserved
			continue
		}
		r.Size = limit - r.Base
	}
}

// forUnaccepted calls fn for each range of unaccepted memory
// (EfiUnacceptedMemoryType) in the memory map mm below limit, clipped to
// it, and stops early when fn returns false, as it then does.
//
//go:nosplit
func forUnaccepted(mm []byte, descSize uintptr, limit uint64, fn func(base, size uint64) bool) bool {
	if descSize < mdMinSize {
		return true
	}
	for off := uintptr(0); off+descSize <= uintptr(len(mm)); off += descSize {
		d := mm[off : off+descSize]
		if binary.LittleEndian.Uint32(d[mdType:]) != memUnaccepted {
			continue
		}
		base := binary.LittleEndian.Uint64(d[mdPhysStart:])
		size := binary.LittleEndian.Uint64(d[mdNumPages:]) << efiPageShift
		if base >= limit || size == 0 {
			continue
		}
		size = min(size, limit-base)
		if !fn(base, size) {
			return false
		}
	}
	return true
}

// addRegion appends a region to info.Mem, or grows an existing region of
// the same type that it touches.
//
//go:nosplit
func addRegion(info *kernel.BootInfo, base, size uint64, t uint32) {
	for i := 0; i < info.NMem; i++ {
		r := &info.Mem[i]
		if r.Type != t {
			continue
		}
		if r.Base+r.Size == base {
			r.Size += size
			return
		}
		if base+size == r.Base {
			r.Base = base
			r.Size += size
			return
		}
	}
	if info.NMem < len(info.Mem) {
		info.Mem[info.NMem] = kernel.MemRegion{Base: base, Size: size, Type: t}
		info.NMem++
	}
}

// memRange is a physical address range.
type memRange struct{ base, size uint64 }

//go:nosplit
func (r memRange) overlaps(o memRange) bool {
	return r.size > 0 && o.size > 0 && r.base < o.base+o.size && o.base < r.base+r.size
}

// rangeIsRAM reports whether every page of r is RAM once boot services
// have exited, according to the UEFI memory map mm. If not, it returns
// the first address that is not.
//
//go:nosplit
func rangeIsRAM(mm []byte, descSize uintptr, r memRange) (uint64, bool) {
	if descSize < mdMinSize {
		return r.base, false
	}
	cur, end := r.base, r.base+r.size
	for cur < end {
		next := cur
		for off := uintptr(0); off+descSize <= uintptr(len(mm)); off += descSize {
			d := mm[off : off+descSize]
			base := binary.LittleEndian.Uint64(d[mdPhysStart:])
			dend := base + binary.LittleEndian.Uint64(d[mdNumPages:])<<efiPageShift
			if base <= cur && cur < dend && e820Type(binary.LittleEndian.Uint32(d[mdType:])) == e820RAM {
				next = dend
				break
			}
		}
		if next == cur {
			return cur, false
		}
		cur = next
	}
	return 0, true
}

// loadOptionsCmdline converts the loaded image's options, UCS-2 text as
// the boot manager or OVMF's -kernel loader passes them, into the
// NUL-terminated ASCII command line out. It reports false, leaving out
// empty, if the options are not printable text: a boot manager entry may
// carry binary data there (EDK2 puts a GUID in the options of the entries
// it creates for removable media). OVMF adds "initrd=initrd" for the Linux
// EFI stub's benefit when QEMU has an -initrd; that word is dropped, so
// the kernel sees exactly -append.
//
//go:nosplit
func loadOptionsCmdline(opts []byte, out []byte) bool {
	out[0] = 0
	n := 0
	for i := 0; i+1 < len(opts); i += 2 {
		c := uint16(opts[i]) | uint16(opts[i+1])<<8
		if c == 0 {
			break
		}
		if c == '\t' || c == '\n' || c == '\r' {
			c = ' '
		}
		if c < 0x20 || c > 0x7e {
			out[0] = 0
			return false
		}
		if n == len(out)-1 {
			break
		}
		out[n] = byte(c)
		n++
	}
	n = dropWord(out[:n], "initrd=initrd")
	out[n] = 0
	return n > 0
}

// copyCmdline copies an embedded command line (ASCII, NUL-terminated or
// not) into out.
//
//go:nosplit
func copyCmdline(src []byte, out []byte) {
	n := 0
	for _, c := range src {
		if c == 0 || n == len(out)-1 {
			break
		}
		out[n] = c
		n++
	}
	out[n] = 0
}

// dropWord removes the first space-separated word equal to w from b (and
// a space next to it) and returns the new length.
//
//go:nosplit
func dropWord(b []byte, w string) int {
	for i := 0; i+len(w) <= len(b); i++ {
		if (i > 0 && b[i-1] != ' ') || (i+len(w) < len(b) && b[i+len(w)] != ' ') {
			continue
		}
		match := true
		for j := 0; j < len(w); j++ {
			if b[i+j] != w[j] {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		start, end := i, i+len(w)
		if end < len(b) {
			end++ // the space after
		} else if start > 0 {
			start-- // the space before
		}
		n := copy(b[start:], b[end:])
		return start + n
	}
	return len(b)
}

// Sections tools/efiimage adds to a self-contained image.
const (
	secInitrd  = ".initrd"
	secCmdline = ".cmdline"
)

// peSection finds the section called name in the PE headers hdr (as
// loaded: the firmware copies the headers to the image base) and returns
// its RVA and size (Microsoft PE/COFF specification, 3 "Section Table").
//
//go:nosplit
func peSection(hdr []byte, name string) (rva, size uint32, ok bool) {
	le := binary.LittleEndian
	if len(hdr) < 0x40 || hdr[0] != 'M' || hdr[1] != 'Z' {
		return 0, 0, false
	}
	pe := uintptr(le.Uint32(hdr[0x3c:]))
	if pe+24 > uintptr(len(hdr)) || le.Uint32(hdr[pe:]) != 0x4550 { // "PE\0\0"
		return 0, 0, false
	}
	nsec := uintptr(le.Uint16(hdr[pe+6:]))
	sec := pe + 24 + uintptr(le.Uint16(hdr[pe+20:]))
	for i := uintptr(0); i < nsec; i++ {
		s := sec + i*40
		if s+40 > uintptr(len(hdr)) {
			return 0, 0, false
		}
		if !sectionNameIs(hdr[s:s+8], name) {
			continue
		}
		return le.Uint32(hdr[s+12:]), le.Uint32(hdr[s+8:]), true
	}
	return 0, 0, false
}

//go:nosplit
func sectionNameIs(field []byte, name string) bool {
	if len(name) > 8 {
		return false
	}
	for i := 0; i < 8; i++ {
		var c byte
		if i < len(name) {
			c = name[i]
		}
		if field[i] != c {
			return false
		}
	}
	return true
}
