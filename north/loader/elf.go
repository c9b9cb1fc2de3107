// Package loader turns a static linux/amd64 ELF executable into a running
// process image: it validates the file, maps its loadable segments into an
// application address space (Load) and builds the initial process stack
// with argc, argv, envp and the auxiliary vector (BuildStack), as Linux's
// fs/binfmt_elf.c does for a program without an interpreter.
//
// Everything here reads untrusted bytes: every size and offset is checked
// against the file and against limits before memory is mapped or
// allocated, so a hostile file yields an error, never a panic or an
// unbounded allocation.
package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ELF64 layout sizes (System V ABI, "ELF Header" and "Program Header";
// include/uapi/linux/elf.h struct elf64_hdr and elf64_phdr).
const (
	ehdrSize = 64 // sizeof(Elf64_Ehdr)
	phdrSize = 56 // sizeof(Elf64_Phdr)
	// maxPhdrBytes bounds e_phnum*e_phentsize as Linux's load_elf_phdrs
	// does (fs/binfmt_elf.c: "size == 0 || size > 65536").
	maxPhdrBytes = 65536
	// maxInterpLen is PATH_MAX (include/uapi/linux/limits.h), the longest
	// PT_INTERP Linux accepts.
	maxInterpLen = 4096
)

// Offsets in Elf64_Ehdr (System V ABI, "ELF Header").
const (
	offType      = 16
	offMachine   = 18
	offVersion   = 20
	offEntry     = 24
	offPhoff     = 32
	offPhentsize = 54
	offPhnum     = 56
)

// ErrNotELF is returned for a file that does not start with the ELF magic.
var ErrNotELF = errors.New("not an ELF file (no \\x7fELF magic)")

// FormatError describes a malformed or unsupported ELF file.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "bad ELF executable: " + e.Msg }

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

// InterpError reports a dynamically linked executable: one that names a
// program interpreter (PT_INTERP), which Cocoon does not provide.
type InterpError struct{ Interp string }

func (e *InterpError) Error() string {
	return fmt.Sprintf("dynamically linked executable (interpreter %q): Cocoon runs only static executables; build Go programs with CGO_ENABLED=0, C programs with -static", e.Interp)
}

// MachineError reports an executable for another architecture or class.
type MachineError struct {
	Class   Class
	Machine Machine
}

func (e *MachineError) Error() string {
	if e.Class != Class64 {
		return fmt.Sprintf("%v executable for %v: Cocoon runs only 64-bit x86-64 (ELFCLASS64, EM_X86_64) programs", e.Class, e.Machine)
	}
	return fmt.Sprintf("executable for %v: Cocoon runs only x86-64 (EM_X86_64) programs; build with GOARCH=amd64", e.Machine)
}

// Prog is one program header (System V ABI, "Program Header").
type Prog struct {
	Type   ProgType
	Flags  ProgFlag
	Off    uint64
	Vaddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

// File is a validated static x86-64 executable. Create with Parse.
type File struct {
	// Type is ET_EXEC (fixed addresses) or ET_DYN (static PIE, loaded at
	// a bias).
	Type Type
	// Entry is e_entry, before any load bias.
	Entry uint64
	// Phoff is e_phoff, the file offset of the program headers.
	Phoff uint64
	// Progs are the program headers in file order.
	Progs []Prog

	r    io.ReaderAt
	size int64
}

// Parse reads and validates the ELF header and program headers of the
// size-byte executable r. It refuses files that are not ELF64
// little-endian x86-64 executables (MachineError), dynamically linked
// executables (InterpError), and headers whose segments do not fit the
// file (FormatError).
func Parse(r io.ReaderAt, size int64) (*File, error) {
	if size < 4 {
		return nil, ErrNotELF
	}
	var h [ehdrSize]byte
	n, err := r.ReadAt(h[:min(int64(len(h)), size)], 0)
	if n < 4 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading ELF header: %w", err)
	}
	if string(h[:4]) != elfMagic {
		return nil, ErrNotELF
	}
	if n < ehdrSize {
		return nil, formatErr("file is %d bytes, shorter than an ELF header", size)
	}
	class, data := Class(h[eiClass]), Data(h[eiData])
	var order binary.ByteOrder = binary.LittleEndian
	if data == DataMSB {
		order = binary.BigEndian
	}
	// e_machine sits at the same offset in ELF32 and ELF64 headers, so a
	// foreign program can be named whatever its class.
	machine := Machine(order.Uint16(h[offMachine:]))
	if class != Class64 || machine != MachineX86_64 {
		return nil, &MachineError{Class: class, Machine: machine}
	}
	if data != DataLSB {
		return nil, formatErr("EM_X86_64 executable in %v byte order", data)
	}
	if v := h[eiVersion]; v != evCurrent {
		return nil, formatErr("ELF identification version %d, want %d", v, evCurrent)
	}
	if v := order.Uint32(h[offVersion:]); v != evCurrent {
		return nil, formatErr("ELF version %d, want %d", v, evCurrent)
	}
	f := &File{
		Type:  Type(order.Uint16(h[offType:])),
		Entry: order.Uint64(h[offEntry:]),
		Phoff: order.Uint64(h[offPhoff:]),
		r:     r,
		size:  size,
	}
	if f.Type != TypeExec && f.Type != TypeDyn {
		return nil, formatErr("type %v is not an executable (want ET_EXEC or ET_DYN)", f.Type)
	}
	phentsize, phnum := uint64(order.Uint16(h[offPhentsize:])), uint64(order.Uint16(h[offPhnum:]))
	if phentsize != phdrSize {
		return nil, formatErr("program header size %d, want %d", phentsize, phdrSize)
	}
	if phnum == 0 || phnum*phdrSize > maxPhdrBytes {
		// phnum 0xffff (PN_XNUM, extended numbering) also ends here, as in
		// Linux.
		return nil, formatErr("%d program headers (want 1 to %d)", phnum, maxPhdrBytes/phdrSize)
	}
	if !within(f.Phoff, phnum*phdrSize, uint64(size)) {
		return nil, formatErr("program headers at %#x+%#x overrun the %d-byte file", f.Phoff, phnum*phdrSize, size)
	}
	ph := make([]byte, phnum*phdrSize)
	if _, err := r.ReadAt(ph, int64(f.Phoff)); err != nil {
		return nil, fmt.Errorf("reading program headers: %w", err)
	}
	f.Progs = make([]Prog, phnum)
	loads := 0
	for i := range f.Progs {
		b := ph[i*phdrSize:]
		// Elf64_Phdr: p_type, p_flags, p_offset, p_vaddr, p_paddr,
		// p_filesz, p_memsz, p_align (System V ABI, "Program Header").
		p := Prog{
			Type:   ProgType(order.Uint32(b[0:])),
			Flags:  ProgFlag(order.Uint32(b[4:])),
			Off:    order.Uint64(b[8:]),
			Vaddr:  order.Uint64(b[16:]),
			Filesz: order.Uint64(b[32:]),
			Memsz:  order.Uint64(b[40:]),
			Align:  order.Uint64(b[48:]),
		}
		f.Progs[i] = p
		switch p.Type {
		case ProgInterp:
			return nil, &InterpError{Interp: f.readInterp(p)}
		case ProgLoad:
			if err := checkLoad(i, p, uint64(size)); err != nil {
				return nil, err
			}
			loads++
		}
	}
	if loads == 0 {
		return nil, formatErr("no loadable (PT_LOAD) segment")
	}
	return f, nil
}

// checkLoad validates PT_LOAD header i against a size-byte file.
func checkLoad(i int, p Prog, size uint64) error {
	switch {
	case p.Filesz > p.Memsz:
		return formatErr("segment %d: file size %#x exceeds memory size %#x", i, p.Filesz, p.Memsz)
	case !within(p.Off, p.Filesz, size):
		return formatErr("segment %d: bytes %#x+%#x overrun the %d-byte file", i, p.Off, p.Filesz, size)
	case p.Vaddr+p.Memsz < p.Vaddr:
		return formatErr("segment %d: %#x+%#x wraps around the address space", i, p.Vaddr, p.Memsz)
	case p.Off%pageSize != p.Vaddr%pageSize:
		// mmap of a file needs offset and address congruent modulo the
		// page size; Linux fails such an executable with EINVAL.
		return formatErr("segment %d: offset %#x and address %#x differ modulo the page size", i, p.Off, p.Vaddr)
	}
	return nil
}

// readInterp returns PT_INTERP's path for an error message, or a
// placeholder when the header does not describe a readable string.
func (f *File) readInterp(p Prog) string {
	if p.Filesz < 2 || p.Filesz > maxInterpLen || !within(p.Off, p.Filesz, uint64(f.size)) {
		return "(unreadable PT_INTERP)"
	}
	b := make([]byte, p.Filesz)
	if _, err := f.r.ReadAt(b, int64(p.Off)); err != nil {
		return "(unreadable PT_INTERP)"
	}
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return string(b)
}

// within reports whether [off, off+n) lies inside [0, size) without
// overflow.
func within(off, n, size uint64) bool {
	return off <= size && n <= size-off
}
