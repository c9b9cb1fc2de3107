package kbuild

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// UntouchedBSS is the one bss variable kbuild trims from a kernel's
// memory size: the FIPS 140-3 entropy source's 32 MiB scratch buffer
// (crypto/internal/fips140/drbg/entropy_fips140.go), which the Go runtime
// of a Linux process leaves unbacked until first use. The kernel's
// runtime never uses it: FIPS 140-3 mode is off in the GODEBUG it gives
// itself, first in its environment (kernel.RuntimeGodebug), and only
// that mode reads entropy through it. Left in, it would be 32 MiB of RAM
// the image needs and never uses.
const UntouchedBSS = "crypto/internal/fips140/drbg.memory"

// imageEndSymbol is the word in the kernel that holds the link address
// of the image's end, bss included, for the UEFI entry (boot/efi_amd64.s,
// runtime.end by default): trimBSS sets it to the trimmed end, so the
// kernel copies itself to, and reserves, only that.
const imageEndSymbol = "github.com/cocoon-vm/cocoon/boot.efiImageEndLink"

// ELF64 offsets (System V gABI, "Program Header" and "Sections").
const (
	phdrMemsz = 0x28
	shdrSize  = 0x20
)

// trimBSS shortens the kernel image img in place so that its memory
// size ends where UntouchedBSS begins, when that variable is the tail of
// the last writable segment's bss (the linker sorts bss by size, so the
// largest variable comes last). It returns how many bytes it cut, and
// why it cut none (for the build log).
func trimBSS(img []byte) (cut uint64, why string, err error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return 0, "", err
	}
	syms, err := f.Symbols()
	if err != nil {
		return 0, "", err
	}
	var sym, endWord *elf.Symbol
	for i := range syms {
		switch syms[i].Name {
		case UntouchedBSS:
			sym = &syms[i]
		case imageEndSymbol:
			endWord = &syms[i]
		}
	}
	if sym == nil {
		return 0, "the kernel does not link " + UntouchedBSS, nil
	}
	end := sym.Value + sym.Size
	if endWord == nil {
		return 0, "", fmt.Errorf("no %s: a kernel's main package must import github.com/cocoon-vm/cocoon/boot", imageEndSymbol)
	}
	var endOff uint64
	for _, s := range f.Sections {
		if s.Type == elf.SHT_PROGBITS && s.Addr <= endWord.Value && endWord.Value+8 <= s.Addr+s.Size {
			endOff = s.Offset + endWord.Value - s.Addr
		}
	}
	if endOff == 0 || endOff+8 > uint64(len(img)) {
		return 0, "", fmt.Errorf("%s at %#x is in no section with file bytes", imageEndSymbol, endWord.Value)
	}
	le := binary.LittleEndian
	phoff, phentsize := le.Uint64(img[0x20:]), uint64(le.Uint16(img[0x36:]))
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Vaddr+p.Memsz != end {
			continue
		}
		if sym.Value < p.Vaddr+p.Filesz {
			return 0, "", fmt.Errorf("%s at %#x is not in bss", UntouchedBSS, sym.Value)
		}
		if got := le.Uint64(img[endOff:]); got != end {
			return 0, "", fmt.Errorf("%s holds %#x, not the image's end %#x", imageEndSymbol, got, end)
		}
		le.PutUint64(img[endOff:], sym.Value)
		le.PutUint64(img[phoff+uint64(i)*phentsize+phdrMemsz:], sym.Value-p.Vaddr)
		shoff, shentsize := le.Uint64(img[0x28:]), uint64(le.Uint16(img[0x3a:]))
		for j, s := range f.Sections {
			if s.Type == elf.SHT_NOBITS && s.Addr <= sym.Value && s.Addr+s.Size == end {
				le.PutUint64(img[shoff+uint64(j)*shentsize+shdrSize:], sym.Value-s.Addr)
			}
		}
		return sym.Size, "", nil
	}
	return 0, fmt.Sprintf("%s (%#x, %d bytes) is not at the end of the image", UntouchedBSS, sym.Value, sym.Size), nil
}
