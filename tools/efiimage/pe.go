// Package efiimage writes Cocoon kernels as UEFI applications and disk
// images, and reads them back.
//
// A Cocoon kernel is an ELF linked at KernBase+ImagePhys that carries its
// own UEFI entry (boot.efiEntry; boot/efi.go explains the design). Build
// wraps its PT_LOAD segments in a PE32+ image without converting any code:
// each segment becomes one section at RVA = physical load address -
// ImagePhys, so the firmware lays the image out exactly as the kernel
// expects to find itself at ImagePhys, only at another base. The image is
// relocatable without fixups (the entry is position-independent and moves
// the kernel to ImagePhys after ExitBootServices); its .reloc section
// holds a single empty block for loaders that want one.
//
// The headers also carry a Linux x86 boot-protocol setup header ("HdrS"
// at 0x202), as a Linux bzImage with an EFI stub does: QEMU's x86 -kernel
// accepts only bzImage, multiboot and ELF files, and with it OVMF's
// -kernel loader (QemuKernelLoaderFsDxe + X86QemuLoadImageLib) starts the
// PE through LoadImage and serves -initrd through LoadFile2 and -append as
// the load options. That is the path OVMF's measured direct boot
// (kernel hashes) covers.
//
// Output is a function of the input only: no timestamps, no random IDs.
package efiimage

import (
	"bytes"
	"debug/elf"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/cocoon-vm/cocoon/kernel/layout"
)

// EntrySymbol is the kernel's UEFI entry, boot.efiEntry (Go assembly:
// the ABI0 symbol carries a ".abi0" suffix when a Go reference to it also
// made the linker emit a wrapper).
const EntrySymbol = "github.com/cocoon-vm/cocoon/boot.efiEntry"

// Options add a payload to the image.
type Options struct {
	// Initrd, if set, is embedded as the .initrd section: the
	// application archive of a self-contained image. The entry uses it
	// instead of asking the firmware for one.
	Initrd []byte
	// Cmdline, if set, is embedded as the .cmdline section: the command
	// line the kernel uses when the firmware passes no load options (a
	// disk boot).
	Cmdline string
}

// PE/COFF layout constants (Microsoft PE/COFF specification, 3.3 "COFF
// File Header", 3.4 "Optional Header", 4 "Section Table").
const (
	fileAlign    = 0x200
	sectionAlign = 0x1000
	// peOffset is where the PE signature goes: after the Linux setup
	// header (0x1f1..0x26c in boot protocol 2.15), which boot loaders
	// patch in place.
	peOffset   = 0x280
	coffSize   = 20
	optSize    = 240 // PE32+ with 16 data directories
	secHdrSize = 40

	imageFileExecutableImage   = 0x0002
	imageFileLargeAddressAware = 0x0020
	imageFileDebugStripped     = 0x0200

	imageSubsystemEFIApplication = 10

	imageDllCharDynamicBase = 0x0040
	imageDllCharNXCompat    = 0x0100

	scnCntCode              = 0x00000020
	scnCntInitializedData   = 0x00000040
	scnCntUninitializedData = 0x00000080
	scnMemDiscardable       = 0x02000000
	scnMemExecute           = 0x20000000
	scnMemRead              = 0x40000000
	scnMemWrite             = 0x80000000

	dirBaseReloc = 5
)

// Linux x86 boot protocol setup header (Documentation/arch/x86/boot.rst,
// "The Real-Mode Kernel Header"), offsets from the start of the file.
const (
	hdrSetupSects    = 0x1f1 // u8: 512-byte sectors after the first in the "setup" part
	hdrSyssize       = 0x1f4 // u32: the rest, in 16-byte units
	hdrBootFlag      = 0x1fe // u16: 0xaa55
	hdrMagic         = 0x202 // "HdrS"
	hdrVersion       = 0x206 // u16
	hdrLoadflags     = 0x211 // u8
	hdrCode32Start   = 0x214 // u32
	hdrInitrdAddrMax = 0x22c // u32, protocol 2.03+
	hdrCmdlineSize   = 0x238 // u32, protocol 2.06+

	// bootProtocol 2.06: cmdline_size exists; below 2.09, so QEMU adds
	// no setup_data (a random seed it would write into the image).
	bootProtocol = 0x0206
	loadedHigh   = 0x01
)

// Section names; the entry looks the payload sections up by name (see
// boot/efimem.go).
const (
	SecText    = ".text"
	SecRodata  = ".rodata"
	SecData    = ".data"
	SecInitrd  = ".initrd"
	SecCmdline = ".cmdline"
	SecReloc   = ".reloc"
)

type section struct {
	name  string
	rva   uint32
	vsize uint32
	data  []byte
	flags uint32
}

// Build returns the kernel ELF kernel as a PE32+ UEFI application.
func Build(kernel []byte, o Options) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		return nil, fmt.Errorf("efiimage: kernel: %v", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, errors.New("efiimage: kernel is not an x86-64 ELF64 file")
	}
	entry, err := entryAddr(f)
	if err != nil {
		return nil, err
	}
	base := uint64(layout.KernBase) + layout.ImagePhys

	var secs []section
	var end uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if p.Vaddr == uint64(layout.KernBase)+layout.PVHImagePhys {
			return nil, fmt.Errorf("efiimage: the kernel is linked at %#x, below %#x: a PVH-only kernel (kbuild PVHOnly, mkimage --format elf) cannot boot through UEFI; build it for UEFI (mkimage build --format efi)",
				p.Vaddr, base)
		}
		if p.Vaddr < base || p.Vaddr-base+p.Memsz > 1<<30 {
			return nil, fmt.Errorf("efiimage: segment at %#x is outside the kernel's 1 GiB from %#x", p.Vaddr, base)
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return nil, fmt.Errorf("efiimage: segment at %#x: %v", p.Vaddr, err)
		}
		rva, memsz := p.Vaddr-base, p.Memsz
		// The first page holds the ELF headers; the PE headers take
		// its place.
		if rva < sectionAlign {
			skip := sectionAlign - rva
			if memsz <= skip {
				continue
			}
			if uint64(len(data)) > skip {
				data = data[skip:]
			} else {
				data = nil
			}
			rva, memsz = sectionAlign, memsz-skip
		}
		if rva%sectionAlign != 0 {
			return nil, fmt.Errorf("efiimage: segment at %#x is not page-aligned", p.Vaddr)
		}
		s := section{rva: uint32(rva), vsize: uint32(memsz), data: data}
		switch {
		case p.Flags&elf.PF_X != 0:
			s.name, s.flags = SecText, scnCntCode|scnMemExecute|scnMemRead
		case p.Flags&elf.PF_W != 0:
			s.name, s.flags = SecData, scnCntInitializedData|scnMemRead|scnMemWrite
		default:
			s.name, s.flags = SecRodata, scnCntInitializedData|scnMemRead
		}
		secs = append(secs, s)
		end = max(end, rva+memsz)
	}
	if len(secs) == 0 {
		return nil, errors.New("efiimage: kernel has no loadable segments")
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i].rva < secs[j].rva })
	for i := 1; i < len(secs); i++ {
		if secs[i].rva < secs[i-1].rva+secs[i-1].vsize {
			return nil, fmt.Errorf("efiimage: segments at RVA %#x and %#x overlap", secs[i-1].rva, secs[i].rva)
		}
	}
	if entry < base+sectionAlign || entry >= base+end {
		return nil, fmt.Errorf("efiimage: entry %#x is outside the image", entry)
	}

	next := alignUp(end, sectionAlign)
	add := func(name string, data []byte, flags uint32) {
		secs = append(secs, section{name: name, rva: uint32(next), vsize: uint32(len(data)), data: data, flags: flags})
		next = alignUp(next+uint64(len(data)), sectionAlign)
	}
	if len(o.Initrd) > 0 {
		add(SecInitrd, o.Initrd, scnCntInitializedData|scnMemRead)
	}
	if o.Cmdline != "" {
		add(SecCmdline, append([]byte(o.Cmdline), 0), scnCntInitializedData|scnMemRead)
	}
	// One base-relocation block for page 0 with two IMAGE_REL_BASED_ABSOLUTE
	// (padding) entries: no fixups (PE/COFF 6.6 ".reloc Section").
	relocRVA := uint32(next)
	reloc := []byte{0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0}
	add(SecReloc, reloc, scnCntInitializedData|scnMemRead|scnMemDiscardable)
	sizeOfImage := uint32(next)
	if next > 1<<32-1 {
		return nil, errors.New("efiimage: image larger than 4 GiB")
	}

	// Virtually contiguous sections (the specification asks for it):
	// each kernel section extends to the next one's start.
	for i := 0; i+1 < len(secs); i++ {
		if e := secs[i+1].rva; secs[i].name != SecReloc {
			if gap := e - secs[i].rva; gap > secs[i].vsize && secs[i].name != SecInitrd && secs[i].name != SecCmdline {
				secs[i].vsize = gap
			}
		}
	}

	headers := uint32(alignUp(uint64(peOffset+4+coffSize+optSize+secHdrSize*len(secs)), fileAlign))
	off := headers
	raw := make([]uint32, len(secs))
	var codeSize, dataSize, bssSize uint32
	for i, s := range secs {
		raw[i] = uint32(alignUp(uint64(len(s.data)), fileAlign))
		if s.flags&scnCntCode != 0 {
			codeSize += raw[i]
		} else {
			dataSize += raw[i]
		}
		if s.name == SecData && s.vsize > uint32(len(s.data)) {
			bssSize += s.vsize - uint32(len(s.data))
		}
	}

	fh := pe.FileHeader{
		Machine:              pe.IMAGE_FILE_MACHINE_AMD64,
		NumberOfSections:     uint16(len(secs)),
		SizeOfOptionalHeader: optSize,
		Characteristics:      imageFileExecutableImage | imageFileLargeAddressAware | imageFileDebugStripped,
	}
	oh := pe.OptionalHeader64{
		Magic:                   0x20b, // PE32+
		SizeOfCode:              codeSize,
		SizeOfInitializedData:   dataSize,
		SizeOfUninitializedData: bssSize,
		AddressOfEntryPoint:     uint32(entry - base),
		BaseOfCode:              sectionAlign,
		ImageBase:               layout.ImagePhys,
		SectionAlignment:        sectionAlign,
		FileAlignment:           fileAlign,
		SizeOfImage:             sizeOfImage,
		SizeOfHeaders:           headers,
		Subsystem:               imageSubsystemEFIApplication,
		DllCharacteristics:      imageDllCharDynamicBase | imageDllCharNXCompat,
		NumberOfRvaAndSizes:     16,
	}
	oh.DataDirectory[dirBaseReloc] = pe.DataDirectory{VirtualAddress: relocRVA, Size: uint32(len(reloc))}

	var hb bytes.Buffer
	hb.WriteString("PE\x00\x00")
	write(&hb, fh)
	write(&hb, oh)
	for i, s := range secs {
		sh := pe.SectionHeader32{
			VirtualSize:      s.vsize,
			VirtualAddress:   s.rva,
			SizeOfRawData:    raw[i],
			Characteristics:  s.flags,
			PointerToRawData: off,
		}
		if raw[i] == 0 {
			sh.PointerToRawData = 0
		}
		copy(sh.Name[:], s.name)
		write(&hb, sh)
		off += raw[i]
	}

	img := make([]byte, off)
	copy(img, "MZ")
	binary.LittleEndian.PutUint32(img[0x3c:], peOffset)
	writeSetupHeader(img, headers)
	copy(img[peOffset:], hb.Bytes())
	off = headers
	for i, s := range secs {
		copy(img[off:], s.data)
		off += raw[i]
	}
	return img, nil
}

// writeSetupHeader fills in the Linux boot-protocol header: the "setup"
// part is the PE headers, the "kernel" part everything after them.
func writeSetupHeader(img []byte, headers uint32) {
	le := binary.LittleEndian
	img[hdrSetupSects] = byte(headers/512 - 1)
	le.PutUint32(img[hdrSyssize:], (uint32(len(img))-headers+15)/16)
	le.PutUint16(img[hdrBootFlag:], 0xaa55)
	copy(img[hdrMagic:], "HdrS")
	le.PutUint16(img[hdrVersion:], bootProtocol)
	img[hdrLoadflags] = loadedHigh
	le.PutUint32(img[hdrCode32Start:], 0x100000)
	le.PutUint32(img[hdrInitrdAddrMax:], 0x7fffffff)
	le.PutUint32(img[hdrCmdlineSize:], 4095)
}

// entryAddr returns the link address of the UEFI entry.
func entryAddr(f *elf.File) (uint64, error) {
	syms, err := f.Symbols()
	if err != nil {
		return 0, fmt.Errorf("efiimage: kernel symbols: %v (link kernels with tools/kbuild, which keeps them)", err)
	}
	var wrapper uint64
	for _, s := range syms {
		switch s.Name {
		case EntrySymbol + ".abi0":
			return s.Value, nil
		case EntrySymbol:
			wrapper = s.Value
		}
	}
	if wrapper != 0 {
		return wrapper, nil
	}
	return 0, fmt.Errorf("efiimage: kernel has no UEFI entry %s: its main package must import github.com/cocoon-vm/cocoon/boot", EntrySymbol)
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// write appends the little-endian encoding of a fixed-size struct.
func write(b *bytes.Buffer, v any) {
	if err := binary.Write(b, binary.LittleEndian, v); err != nil {
		panic(err) // fixed-size structs into a bytes.Buffer cannot fail
	}
}
