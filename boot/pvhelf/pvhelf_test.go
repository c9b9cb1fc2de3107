package pvhelf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"
)

// buildELF makes a minimal ELF64 image: header, three program headers
// (PT_LOAD, PT_NOTE, PT_LOAD), one note of noteLen bytes at offset 0x200,
// and slack bytes after it before a section starting at 0x200+noteLen+slack.
func buildELF(t *testing.T, base uint64, noteLen, slack int) []byte {
	t.Helper()
	img := make([]byte, 0x2000)
	le := binary.LittleEndian
	copy(img, "\x7fELF")
	img[4], img[5], img[6] = 2, 1, 1 // ELFCLASS64, little-endian, version
	le.PutUint16(img[0x10:], uint16(elf.ET_EXEC))
	le.PutUint16(img[0x12:], uint16(elf.EM_X86_64))
	le.PutUint32(img[0x14:], 1)
	le.PutUint64(img[0x18:], base+0x201000) // entry
	le.PutUint64(img[ehdrPhoff:], 0x40)     // phoff
	le.PutUint64(img[ehdrShoff:], 0x1000)   // shoff
	le.PutUint16(img[0x34:], 64)            // ehsize
	le.PutUint16(img[ehdrPhentsize:], 56)   //
	le.PutUint16(img[ehdrPhnum:], 3)        //
	le.PutUint16(img[ehdrShentsize:], 64)   //
	le.PutUint16(img[ehdrShnum:], 2)        // null + one section
	ph := func(i int, typ elf.ProgType, off, vaddr, size uint64) {
		p := img[0x40+56*i:]
		le.PutUint32(p[phdrType:], uint32(typ))
		le.PutUint64(p[phdrOffset:], off)
		le.PutUint64(p[phdrVaddr:], vaddr)
		le.PutUint64(p[phdrPaddr:], vaddr)
		le.PutUint64(p[phdrFilesz:], size)
		le.PutUint64(p[phdrMemsz:], size)
		le.PutUint64(p[0x30:], 4)
	}
	ph(0, elf.PT_LOAD, 0, base+0x200000, 0x1000)
	ph(1, elf.PT_NOTE, 0x200, base+0x200200, uint64(noteLen))
	ph(2, elf.PT_LOAD, 0x1000, base+0x201000, 0x100)
	// A Go-style build-ID note filling noteLen.
	le.PutUint32(img[0x200:], 4)
	le.PutUint32(img[0x204:], uint32(noteLen-16))
	le.PutUint32(img[0x208:], 4)
	copy(img[0x20c:], "Go\x00\x00")
	for i := 0x210; i < 0x200+noteLen; i++ {
		img[i] = 0xaa
	}
	// Section 1 starts after the slack.
	sh := img[0x1000+64:]
	le.PutUint32(sh[4:], uint32(elf.SHT_PROGBITS))
	le.PutUint64(sh[shdrOffset:], uint64(0x200+noteLen+slack))
	le.PutUint64(sh[shdrSize:], 0x10)
	return img
}

func TestPatchAppendsInSlack(t *testing.T) {
	const base = 0x7e0000000000
	img := buildELF(t, base, 100, 40)
	entry, err := Patch(img, base)
	if err != nil {
		t.Fatalf("Patch = %v", err)
	}
	if entry != 0x201000 {
		t.Errorf("entry = %#x, want 0x201000", entry)
	}
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Paddr != p.Vaddr-base {
			t.Errorf("%v at %#x: paddr %#x, want %#x", p.Type, p.Vaddr, p.Paddr, p.Vaddr-base)
		}
		if p.Type == elf.PT_NOTE && p.Filesz != 100+20 {
			t.Errorf("note segment size %d, want 120 (Go note kept, PVH note appended)", p.Filesz)
		}
	}
	if got, err := Entry(img); err != nil || got != 0x201000 {
		t.Errorf("Entry = %#x, %v; want 0x201000", got, err)
	}
	if img[0x20c] != 'G' {
		t.Error("the existing note was overwritten although there was room")
	}
}

func TestPatchReplacesWhenNoRoom(t *testing.T) {
	const base = 0x7e0000000000
	img := buildELF(t, base, 100, 4)
	if _, err := Patch(img, base); err != nil {
		t.Fatalf("Patch = %v", err)
	}
	if got, err := Entry(img); err != nil || got != 0x201000 {
		t.Fatalf("Entry = %#x, %v", got, err)
	}
	// QEMU 7.2 reads the descriptor as 8 bytes: the 4 after it must be 0.
	if !bytes.Equal(img[0x200+20:0x200+24], []byte{0, 0, 0, 0}) {
		t.Errorf("bytes after the note descriptor = % x, want zeros", img[0x214:0x218])
	}
}

func TestPatchErrors(t *testing.T) {
	const base = 0x7e0000000000
	if _, err := Patch([]byte("not an elf"), base); err == nil {
		t.Error("Patch(garbage) = nil error")
	}
	img := buildELF(t, base, 100, 40)
	if _, err := Patch(img, base+0x1000_0000_0000); err == nil {
		t.Error("Patch with segments below the base = nil error")
	}
	if _, err := Entry(buildELF(t, base, 100, 40)); err == nil {
		t.Error("Entry of an unpatched image = nil error")
	}
}

func FuzzPatch(f *testing.F) {
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img := append([]byte(nil), b...)
		Patch(img, 0x7e0000000000) // must not panic
		Entry(img)
	})
}
