package qemu

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// The floor image is the smallest guest QEMU's -kernel loader will boot
// through the PVH entry: an ELF64 executable with one PT_LOAD segment (the
// whole file, placed at 1 MiB) and one PT_NOTE segment holding the Xen
// PHYS32_ENTRY note. Its code reports exit status 0 to isa-debug-exit and
// halts, so booting it measures everything except the guest itself.
//
// File layout (offsets in the file; add floorLoadAddr for the guest
// physical address):
//
//	0x00  Elf64_Ehdr                       floorEhdrSize bytes
//	0x40  Elf64_Phdr PT_LOAD               floorPhdrSize bytes
//	0x78  Elf64_Phdr PT_NOTE               floorPhdrSize bytes
//	0xb0  Elf64_Nhdr, "Xen\0", entry       floorNoteSize bytes
//	0xc4  4 zero bytes                     see floorNotePad
//	0xc8  code
const (
	// floorLoadAddr is where the image is loaded: 1 MiB, the first
	// address above the legacy BIOS/VGA hole, as for a Linux bzImage.
	floorLoadAddr = 0x100000

	// Structure sizes for ELFCLASS64 from the System V generic ABI
	// (gABI): chapter 4 "ELF Header", chapter 5 "Program Header" and
	// "Note Section".
	floorEhdrSize = 64
	floorPhdrSize = 56
	floorNhdrSize = 12

	floorPhoff    = floorEhdrSize
	floorNoteOff  = floorPhoff + 2*floorPhdrSize
	floorNoteSize = floorNhdrSize + len(xenNoteName) + 4

	// floorNotePad zero bytes follow the note, outside its segment.
	// QEMU 7.2 (hw/i386/x86.c, read_pvh_start_addr) reads the
	// PHYS32_ENTRY descriptor of an ELF64 image through a size_t
	// pointer, 8 bytes from a 4-byte descriptor; the padding makes the
	// upper half zero. Newer QEMU reads 4 bytes (ldl_le_p).
	floorNotePad = 4
	floorCodeOff = floorNoteOff + floorNoteSize + floorNotePad

	// floorEntry is the guest physical address of the first
	// instruction.
	floorEntry = floorLoadAddr + floorCodeOff
)

// Xen PVH ELF note, from the Xen public headers
// (xen/include/public/elfnote.h): XEN_ELFNOTE_PHYS32_ENTRY is the
// "Physical entry point into the kernel. 32bit entry point into the
// kernel. When requested to launch the guest kernel in a HVM container,
// Xen will use this entry point to launch the guest in 32bit protected
// mode with paging disabled." The note's name is "Xen" and its
// descriptor a 32-bit physical address (Linux emits it with .long). The
// machine state at entry is the x86/HVM direct boot ABI of
// docs/misc/pvh.pandoc in the Xen tree.
const (
	xenElfnotePhys32Entry = 18
	xenNoteName           = "Xen\x00"
)

// isaDebugExitPort is the I/O port of the isa-debug-exit device every
// profile adds (-device isa-debug-exit,iobase=0xf4,iosize=0x04).
const isaDebugExitPort = 0xf4

// FloorImage returns the "empty guest": a minimal ELF64 x86-64 executable
// that QEMU's -kernel PVH loader boots at 1 MiB. Its 32-bit entry writes
// exit status 0 to the isa-debug-exit port and then halts forever, so
// Run reports success. Benchmarks use it as the floor for boot time.
func FloorImage() []byte {
	return pvhImage(reportStatus(0))
}

// reportStatus returns 32-bit protected-mode code (Intel SDM Vol. 2
// opcodes) that reports status to isa-debug-exit and halts:
//
//	b0 ss   mov al, status
//	e6 f4   out 0xf4, al
//	f4      1: hlt
//	eb fd   jmp 1b
//
// The PVH entry state has IF clear, so hlt only wakes on NMI or SMI; the
// jmp halts again if one arrives.
func reportStatus(status byte) []byte {
	return []byte{0xb0, status, 0xe6, isaDebugExitPort, 0xf4, 0xeb, 0xfd}
}

// pvhImage returns the floor image's ELF file with code as its
// instructions, entered at floorEntry.
func pvhImage(code []byte) []byte {
	size := uint64(floorCodeOff + len(code))

	hdr := elf.Header64{
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(elf.EM_X86_64),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     uint64(floorEntry),
		Phoff:     floorPhoff,
		Ehsize:    floorEhdrSize,
		Phentsize: floorPhdrSize,
		Phnum:     2,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	hdr.Ident[elf.EI_OSABI] = byte(elf.ELFOSABI_NONE)

	load := elf.Prog64{
		Type:   uint32(elf.PT_LOAD),
		Flags:  uint32(elf.PF_R | elf.PF_X),
		Off:    0,
		Vaddr:  floorLoadAddr,
		Paddr:  floorLoadAddr,
		Filesz: size,
		Memsz:  size,
		Align:  0x1000,
	}
	// p_align must be 4: QEMU pads the note name to p_align when it
	// looks for the descriptor, and the Xen note uses 4-byte padding.
	note := elf.Prog64{
		Type:   uint32(elf.PT_NOTE),
		Flags:  uint32(elf.PF_R),
		Off:    floorNoteOff,
		Vaddr:  floorLoadAddr + floorNoteOff,
		Paddr:  floorLoadAddr + floorNoteOff,
		Filesz: uint64(floorNoteSize),
		Memsz:  uint64(floorNoteSize),
		Align:  4,
	}
	nhdr := struct {
		Namesz, Descsz, Type uint32
	}{uint32(len(xenNoteName)), 4, xenElfnotePhys32Entry}

	var b bytes.Buffer
	// Writes to a bytes.Buffer cannot fail; binary.Write only errors on
	// types it cannot encode, and these are fixed-size structs.
	for _, v := range []any{hdr, load, note, nhdr} {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	b.WriteString(xenNoteName)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(floorEntry)))
	b.Write(make([]byte, floorNotePad))
	b.Write(code)
	return b.Bytes()
}
