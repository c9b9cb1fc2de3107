package loader

import (
	"errors"
	"fmt"
	"io"

	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/north/mem"
)

const pageSize = mem.PageSize

const (
	// DefaultDynBase is where Load puts the lowest page of a static PIE
	// (ET_DYN) when Options.Base is zero: Linux's ELF_ET_DYN_BASE for
	// x86-64 without randomisation, 2/3 of the 47-bit user space
	// (arch/x86/include/asm/elf.h), the familiar 0x555555554000.
	DefaultDynBase = 0x5555_5555_4000
	// DefaultMaxMemory bounds the memory an executable's segments may
	// ask for when Options.MaxMemory is zero.
	DefaultMaxMemory = 4 << 30
	// MinAddr is the lowest address a segment may occupy: Linux's default
	// vm.mmap_min_addr (mm/Kconfig DEFAULT_MMAP_MIN_ADDR on x86), which
	// keeps page zero unmapped so nil dereferences fault.
	MinAddr = 0x10000
	// maxAlign is the largest p_align honoured when placing a PIE.
	maxAlign = 1 << 30
	// copyChunk is the size of the buffer file bytes pass through.
	copyChunk = 64 << 10
)

// Options tune Load. The zero value is ready to use.
type Options struct {
	// Base is the address of the lowest page of an ET_DYN executable,
	// rounded up to the largest segment alignment; zero means
	// DefaultDynBase. ET_EXEC executables load where they are linked.
	Base uint64
	// Limit is the first address the image may not reach; zero means
	// layout.UserEnd.
	Limit uint64
	// MaxMemory bounds the total page-rounded size of the loadable
	// segments; zero means DefaultMaxMemory.
	MaxMemory uint64
	// MapFile, if set, maps a segment's file pages instead of copying
	// its bytes, as Linux's elf_map does: [addr, addr+length) becomes a
	// private (copy-on-write) mapping with prot of the file's bytes from
	// off, page aligned; if zeroFrom falls inside it, off a page
	// boundary, the rest of that page reads zeros (the start of the
	// segment's bss) in a private copy of the page. It returns
	// ErrNoMapping, having mapped nothing, for a file whose pages cannot
	// be mapped: Load then copies the bytes.
	MapFile func(addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error
}

// ErrNoMapping is what Options.MapFile returns for a file whose pages
// cannot be mapped.
var ErrNoMapping = errors.New("the executable's pages cannot be mapped")

// Image describes an executable mapped into an address space: what the
// initial stack's auxiliary vector and the process's memory bookkeeping
// need.
type Image struct {
	// Entry is the address of the first instruction (AT_ENTRY).
	Entry uint64
	// Bias is the load bias added to every p_vaddr (zero for ET_EXEC).
	Bias uint64
	// Phdr is the address of the program headers in memory (AT_PHDR), or
	// zero when no loaded segment contains them.
	Phdr uint64
	// Phnum is the number of program headers (AT_PHNUM); each is
	// PhdrSize bytes (AT_PHENT).
	Phnum int
	// Start is the lowest mapped address, End the end of the highest
	// segment's memory image.
	Start, End uint64
	// Brk is where the program break starts: End rounded up to a page
	// (mm->start_brk in fs/binfmt_elf.c, without randomisation).
	Brk uint64
	// ExecStack reports a PT_GNU_STACK asking for an executable stack.
	ExecStack bool
	// CodeStart, CodeEnd, DataStart and DataEnd are mm->start_code,
	// end_code, start_data and end_data as fs/binfmt_elf.c
	// load_elf_binary sets them: the lowest address and the highest end
	// of the file image of an executable segment, the highest segment's
	// address, and the highest end of a segment's file image.
	CodeStart, CodeEnd, DataStart, DataEnd uint64
}

// PhdrSize is sizeof(Elf64_Phdr), the AT_PHENT value.
const PhdrSize = phdrSize

// Load maps f's loadable segments into as with the protections their
// p_flags give: their file pages through o.MapFile if set (as Linux's
// load_elf_binary maps them), else a copy of their file bytes; the rest
// of each segment (its bss, from the end of its file bytes) is
// zero-filled. Mappings are fixed: they replace whatever as held at those
// addresses.
func (f *File) Load(as mem.AddressSpace, o Options) (*Image, error) {
	limit, maxMem := o.Limit, o.MaxMemory
	if limit == 0 {
		limit = uint64(layout.UserEnd)
	}
	if maxMem == 0 {
		maxMem = DefaultMaxMemory
	}

	lo, hi, end := ^uint64(0), uint64(0), uint64(0)
	var total, align uint64 = 0, pageSize
	img := &Image{Phnum: len(f.Progs)}
	for _, p := range f.Progs {
		switch p.Type {
		case ProgGNUStack:
			img.ExecStack = p.Flags&FlagX != 0
		case ProgLoad:
			if p.Memsz == 0 {
				continue
			}
			start, stop := pageDown(p.Vaddr), pageUp(p.Vaddr+p.Memsz)
			if stop < start { // the segment ends in the last page of the 64-bit space
				return nil, formatErr("segment at %#x+%#x reaches the end of the address space", p.Vaddr, p.Memsz)
			}
			lo, hi, end = min(lo, start), max(hi, stop), max(end, p.Vaddr+p.Memsz)
			img.DataStart, img.DataEnd = max(img.DataStart, p.Vaddr), max(img.DataEnd, p.Vaddr+p.Filesz)
			if p.Flags&FlagX != 0 {
				if img.CodeEnd == 0 || p.Vaddr < img.CodeStart {
					img.CodeStart = p.Vaddr
				}
				img.CodeEnd = max(img.CodeEnd, p.Vaddr+p.Filesz)
			}
			total += stop - start
			if total > maxMem || total < stop-start {
				return nil, formatErr("segments need more than the %d-byte limit", maxMem)
			}
			if p.Align > align && p.Align <= maxAlign && p.Align&(p.Align-1) == 0 {
				align = p.Align
			}
		}
	}
	if hi == 0 {
		return nil, formatErr("no loadable segment has a memory size")
	}

	if f.Type == TypeDyn {
		base := o.Base
		if base == 0 {
			base = DefaultDynBase
		}
		if base%pageSize != 0 {
			return nil, fmt.Errorf("load base %#x is not page aligned", base)
		}
		base = (base + align - 1) &^ (align - 1)
		img.Bias = base - lo
	}
	bias := img.Bias
	// Everything must land in [MinAddr, limit) after relocation, without
	// wrapping: check the shifted extremes of [lo, hi).
	if lo+bias < MinAddr || hi+bias > limit || hi+bias < lo+bias {
		return nil, formatErr("segments %#x-%#x (load bias %#x) fall outside the application range %#x-%#x", lo, hi, bias, uint64(MinAddr), limit)
	}
	if !f.inSegment(f.Entry) {
		return nil, formatErr("entry point %#x is outside every loadable segment", f.Entry)
	}

	var buf []byte // made by the first segment copied
	for _, p := range f.Progs {
		if p.Type != ProgLoad || p.Memsz == 0 {
			continue
		}
		if o.MapFile != nil && p.Filesz > 0 {
			err := f.mapSegment(as, p, bias, o.MapFile)
			if err == nil {
				continue
			}
			if !errors.Is(err, ErrNoMapping) {
				return nil, err
			}
		}
		if buf == nil {
			buf = make([]byte, min(copyChunk, pageUp(maxFilesz(f.Progs))+pageSize))
		}
		if err := f.loadSegment(as, p, bias, buf); err != nil {
			return nil, err
		}
	}

	img.Entry = f.Entry + bias
	img.Start, img.End, img.Brk = lo+bias, end+bias, pageUp(end)+bias
	img.DataStart, img.DataEnd = img.DataStart+bias, img.DataEnd+bias
	if img.CodeEnd != 0 {
		img.CodeStart, img.CodeEnd = img.CodeStart+bias, img.CodeEnd+bias
	}
	img.Phdr = f.phdrAddr()
	if img.Phdr != 0 {
		img.Phdr += bias
	}
	return img, nil
}

// mapSegment maps one PT_LOAD segment with file bytes as fs/binfmt_elf.c
// elf_load does: its file pages as a private file mapping, the tail of
// the last one zeroed if the segment has a bss, and the pages of the bss
// beyond as anonymous memory.
func (f *File) mapSegment(as mem.AddressSpace, p Prog, bias uint64, mapFile func(addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error) error {
	start := pageDown(p.Vaddr + bias)
	fileEnd, memEnd := p.Vaddr+bias+p.Filesz, pageUp(p.Vaddr+bias+p.Memsz)
	zeroFrom := memEnd // nothing to zero
	if p.Memsz > p.Filesz {
		zeroFrom = fileEnd
	}
	prot := protOf(p.Flags)
	// Parse checked that p.Off >= p.Vaddr%pageSize (congruent modulo the
	// page size).
	if err := mapFile(start, pageUp(fileEnd)-start, prot, p.Off-p.Vaddr%pageSize, zeroFrom); err != nil {
		if errors.Is(err, ErrNoMapping) {
			return err
		}
		return fmt.Errorf("mapping segment %#x+%#x: %w", start, pageUp(fileEnd)-start, err)
	}
	if bss := pageUp(fileEnd); memEnd > bss {
		if _, err := as.Map(bss, memEnd-bss, prot, true); err != nil {
			return fmt.Errorf("mapping segment bss %#x+%#x: %w", bss, memEnd-bss, err)
		}
	}
	return nil
}

// loadSegment maps one PT_LOAD segment and copies its file bytes. Like a
// file mmap, the first page also receives the file bytes that precede
// the segment in its page (p_offset and p_vaddr are congruent modulo the
// page size), so segments sharing a page keep each other's bytes.
func (f *File) loadSegment(as mem.AddressSpace, p Prog, bias uint64, buf []byte) error {
	start := pageDown(p.Vaddr + bias)
	length := pageUp(p.Vaddr+bias+p.Memsz) - start
	if _, err := as.Map(start, length, protOf(p.Flags), true); err != nil {
		return fmt.Errorf("mapping segment %#x+%#x: %w", start, length, err)
	}
	lead := p.Vaddr % pageSize
	off, n, addr := p.Off-lead, p.Filesz+lead, start
	if p.Filesz == 0 {
		return nil
	}
	for n > 0 {
		k := min(n, uint64(len(buf)))
		got, err := f.r.ReadAt(buf[:k], int64(off))
		if uint64(got) != k {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading segment bytes at %#x: %w", off, err)
		}
		if err := as.Load(addr, buf[:k]); err != nil {
			return fmt.Errorf("copying segment bytes to %#x: %w", addr, err)
		}
		off, n, addr = off+k, n-k, addr+k
	}
	return nil
}

// phdrAddr returns the unrelocated address of the program headers: from
// PT_PHDR if present, else from the PT_LOAD segment whose file bytes
// contain e_phoff (fs/binfmt_elf.c, load_elf_binary's phdr_addr), else 0.
func (f *File) phdrAddr() uint64 {
	for _, p := range f.Progs {
		if p.Type == ProgPhdr {
			return p.Vaddr
		}
	}
	for _, p := range f.Progs {
		if p.Type == ProgLoad && p.Off <= f.Phoff && f.Phoff-p.Off < p.Filesz {
			return f.Phoff - p.Off + p.Vaddr
		}
	}
	return 0
}

// inSegment reports whether the unrelocated address a lies in the memory
// image of a PT_LOAD segment.
func (f *File) inSegment(a uint64) bool {
	for _, p := range f.Progs {
		if p.Type == ProgLoad && a >= p.Vaddr && a-p.Vaddr < p.Memsz {
			return true
		}
	}
	return false
}

func maxFilesz(progs []Prog) uint64 {
	var m uint64
	for _, p := range progs {
		if p.Type == ProgLoad {
			m = max(m, p.Filesz)
		}
	}
	return m
}

// protOf converts ELF segment flags (PF_R, PF_W, PF_X) to a protection.
func protOf(fl ProgFlag) mem.Prot {
	var p mem.Prot
	if fl&FlagR != 0 {
		p |= mem.Read
	}
	if fl&FlagW != 0 {
		p |= mem.Write
	}
	if fl&FlagX != 0 {
		p |= mem.Exec
	}
	return p
}

func pageDown(a uint64) uint64 { return a &^ (pageSize - 1) }
func pageUp(a uint64) uint64   { return (a + pageSize - 1) &^ (pageSize - 1) }
