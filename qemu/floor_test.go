package qemu

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"testing"
)

func TestFloorImage(t *testing.T) {
	img := FloorImage()
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("elf.NewFile(FloorImage()): %v", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Errorf("FloorImage header = %v %v %v %v, want ELFCLASS64 ELFDATA2LSB EM_X86_64 ET_EXEC",
			f.Class, f.Data, f.Machine, f.Type)
	}

	var load, note *elf.Prog
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			load = p
		case elf.PT_NOTE:
			note = p
		}
	}
	if load == nil || note == nil {
		t.Fatalf("FloorImage segments = %v, want a PT_LOAD and a PT_NOTE", f.Progs)
	}
	if load.Paddr != 0x100000 || load.Off != 0 || load.Filesz != uint64(len(img)) || load.Memsz != load.Filesz {
		t.Errorf("PT_LOAD = %+v, want the whole file (%d bytes) at physical 1 MiB", load.ProgHeader, len(img))
	}
	if note.Align != 4 {
		t.Errorf("PT_NOTE align = %d, want 4 (QEMU pads the note name to it)", note.Align)
	}

	// The note: Elf64_Nhdr {namesz, descsz, type}, name, descriptor.
	b, err := io.ReadAll(note.Open())
	if err != nil {
		t.Fatalf("reading PT_NOTE: %v", err)
	}
	if len(b) != 20 {
		t.Fatalf("PT_NOTE is %d bytes, want 20: % x", len(b), b)
	}
	le := binary.LittleEndian
	namesz, descsz, typ := le.Uint32(b[0:]), le.Uint32(b[4:]), le.Uint32(b[8:])
	if namesz != 4 || descsz != 4 || typ != 18 || string(b[12:16]) != "Xen\x00" {
		t.Errorf("note = namesz %d descsz %d type %d name %q, want 4 4 18 (XEN_ELFNOTE_PHYS32_ENTRY) \"Xen\\x00\"",
			namesz, descsz, typ, b[12:16])
	}
	entry := le.Uint32(b[16:])
	if uint64(entry) != f.Entry {
		t.Errorf("PHYS32_ENTRY = %#x, want e_entry %#x", entry, f.Entry)
	}
	// QEMU 7.2 reads the descriptor as 8 bytes; the next 4 must be zero.
	if end := note.Off + 20; !bytes.Equal(img[end:end+4], []byte{0, 0, 0, 0}) {
		t.Errorf("bytes after the note = % x, want zeros", img[end:end+4])
	}

	// The code at the entry: mov al,0; out 0xf4,al; hlt; jmp to hlt.
	off := uint64(entry) - load.Paddr + load.Off
	want := []byte{0xb0, 0x00, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd}
	if got := img[off:]; !bytes.Equal(got, want) {
		t.Errorf("code at entry %#x = % x, want % x", entry, got, want)
	}
}

func TestReportStatus(t *testing.T) {
	if got, want := reportStatus(5), []byte{0xb0, 0x05, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd}; !bytes.Equal(got, want) {
		t.Errorf("reportStatus(5) = % x, want % x", got, want)
	}
}
