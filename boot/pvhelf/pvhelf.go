// Package pvhelf turns a kernel ELF linked by the stock Go toolchain into
// one that PVH loaders (QEMU -kernel, Firecracker, Cloud Hypervisor) boot:
// it sets each segment's physical address and adds the Xen PVH entry note.
//
// Go's linker cannot emit ELF notes or separate load addresses, so this is
// a post-link step run by mkimage.
package pvhelf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// The PVH entry note: Xen public/elfnote.h, XEN_ELFNOTE_PHYS32_ENTRY (18),
// owner "Xen"; the descriptor is the 32-bit physical entry address.
const (
	noteTypePhys32Entry = 18
	noteName            = "Xen\x00"
	noteSize            = 12 + 4 + 4 // Elf64_Nhdr (ELF gABI, "Note Section") + name + desc
)

// ELF64 layout offsets (System V gABI, "ELF Header" and "Program Header").
const (
	ehdrPhoff     = 0x20
	ehdrShoff     = 0x28
	ehdrPhentsize = 0x36
	ehdrPhnum     = 0x38
	ehdrShentsize = 0x3a
	ehdrShnum     = 0x3c
	phdrType      = 0x00
	phdrOffset    = 0x08
	phdrVaddr     = 0x10
	phdrPaddr     = 0x18
	phdrFilesz    = 0x20
	phdrMemsz     = 0x28
	shdrOffset    = 0x18
	shdrSize      = 0x20
)

// Patch rewrites img in place: every segment's p_paddr becomes
// p_vaddr - virtBase, and a PVH note whose entry is e_entry - virtBase is
// added to the PT_NOTE segment (in the slack after it if there is room,
// else replacing its contents). It returns the physical entry address.
func Patch(img []byte, virtBase uint64) (entry uint32, err error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return 0, fmt.Errorf("not an ELF file: %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.ByteOrder != binary.LittleEndian {
		return 0, errors.New("not a little-endian ELF64 x86-64 file")
	}
	if f.Entry < virtBase || f.Entry-virtBase >= 1<<32 {
		return 0, fmt.Errorf("entry %#x is not in the 4 GiB above the virtual base %#x", f.Entry, virtBase)
	}
	entry = uint32(f.Entry - virtBase)

	le := binary.LittleEndian
	phoff := le.Uint64(img[ehdrPhoff:])
	phentsize := uint64(le.Uint16(img[ehdrPhentsize:]))
	phnum := uint64(le.Uint16(img[ehdrPhnum:]))
	if phentsize < 0x38 || phoff+phnum*phentsize > uint64(len(img)) {
		return 0, errors.New("program headers out of range")
	}
	var note []byte // the PT_NOTE program header
	for i := uint64(0); i < phnum; i++ {
		ph := img[phoff+i*phentsize : phoff+(i+1)*phentsize]
		typ := elf.ProgType(le.Uint32(ph[phdrType:]))
		vaddr := le.Uint64(ph[phdrVaddr:])
		if typ == elf.PT_LOAD || typ == elf.PT_NOTE || typ == elf.PT_PHDR {
			if vaddr < virtBase {
				return 0, fmt.Errorf("segment at %#x is below the virtual base %#x", vaddr, virtBase)
			}
			le.PutUint64(ph[phdrPaddr:], vaddr-virtBase)
		}
		if typ == elf.PT_NOTE && note == nil {
			note = ph
		}
	}
	if note == nil {
		return 0, errors.New("no PT_NOTE segment to hold the PVH note")
	}

	off := le.Uint64(note[phdrOffset:])
	size := le.Uint64(note[phdrFilesz:])
	end := (off + size + 3) &^ 3
	if end+noteSize <= nextFileUse(img, off+size) {
		// Room after the existing notes: append.
		writeNote(img[end:], entry)
		size = end + noteSize - off
	} else {
		if size < noteSize {
			return 0, errors.New("PT_NOTE segment too small for the PVH note")
		}
		// Replace the existing notes (the Go build ID is not needed at
		// boot) and zero what is left of them: QEMU 7.2 reads the 4-byte
		// descriptor as 8 bytes.
		clear(img[off : off+size])
		writeNote(img[off:], entry)
		size = noteSize
	}
	le.PutUint64(note[phdrFilesz:], size)
	le.PutUint64(note[phdrMemsz:], size)
	return entry, nil
}

// nextFileUse returns the lowest file offset at or after from that a
// section or segment starts at (the end of the header page if none).
func nextFileUse(img []byte, from uint64) uint64 {
	le := binary.LittleEndian
	limit := (from + 0xfff) &^ 0xfff
	shoff := le.Uint64(img[ehdrShoff:])
	shentsize := uint64(le.Uint16(img[ehdrShentsize:]))
	shnum := uint64(le.Uint16(img[ehdrShnum:]))
	for i := uint64(0); i < shnum && shentsize >= 0x40 && shoff+(i+1)*shentsize <= uint64(len(img)); i++ {
		sh := img[shoff+i*shentsize:]
		o, sz := le.Uint64(sh[shdrOffset:]), le.Uint64(sh[shdrSize:])
		if o >= from && o < limit && sz > 0 {
			limit = o
		}
	}
	return limit
}

func writeNote(b []byte, entry uint32) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(len(noteName)))
	le.PutUint32(b[4:], 4)
	le.PutUint32(b[8:], noteTypePhys32Entry)
	copy(b[12:], noteName)
	le.PutUint32(b[16:], entry)
}

// Entry returns the PVH entry address recorded in img's notes, or an error
// if it has none. It reads notes the way PVH loaders do.
func Entry(img []byte) (uint32, error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return 0, err
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return 0, err
		}
		for len(b) >= 12 {
			namesz := binary.LittleEndian.Uint32(b[0:])
			descsz := binary.LittleEndian.Uint32(b[4:])
			typ := binary.LittleEndian.Uint32(b[8:])
			nameEnd := 12 + (uint64(namesz)+3)&^3
			descEnd := nameEnd + (uint64(descsz)+3)&^3
			if descEnd > uint64(len(b)) {
				break
			}
			if typ == noteTypePhys32Entry && string(b[12:12+namesz]) == noteName && descsz >= 4 {
				return binary.LittleEndian.Uint32(b[nameEnd:]), nil
			}
			b = b[descEnd:]
		}
	}
	return 0, errors.New("no XEN_ELFNOTE_PHYS32_ENTRY note")
}
