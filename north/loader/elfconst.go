package loader

import "strconv"

// The ELF identification and header values the loader reads, as its own
// small types: debug/elf would link debug/dwarf and compress/zlib into
// the kernel, whose package initialisers cost ~3 ms of every boot under
// TCG (issue 21). Values from the System V gABI, "ELF Header" and
// "Program Header", and include/uapi/linux/elf.h.

// elfMagic is ELFMAG, the first four bytes of every ELF file.
const elfMagic = "\x7fELF"

// Indexes in e_ident.
const (
	eiClass   = 4 // EI_CLASS
	eiData    = 5 // EI_DATA
	eiVersion = 6 // EI_VERSION
)

// evCurrent is EV_CURRENT, the only ELF version.
const evCurrent = 1

// Class is e_ident[EI_CLASS].
type Class uint8

// The file classes.
const (
	ClassNone Class = 0 // ELFCLASSNONE
	Class32   Class = 1 // ELFCLASS32
	Class64   Class = 2 // ELFCLASS64
)

func (c Class) String() string {
	return name(uint64(c), []string{"ELFCLASSNONE", "ELFCLASS32", "ELFCLASS64"}, "ELFCLASS")
}

// Data is e_ident[EI_DATA], the byte order.
type Data uint8

// The byte orders.
const (
	DataNone Data = 0 // ELFDATANONE
	DataLSB  Data = 1 // ELFDATA2LSB, little endian
	DataMSB  Data = 2 // ELFDATA2MSB, big endian
)

func (d Data) String() string {
	return name(uint64(d), []string{"ELFDATANONE", "ELFDATA2LSB", "ELFDATA2MSB"}, "ELFDATA")
}

// Type is e_type.
type Type uint16

// The object file types.
const (
	TypeNone Type = 0 // ET_NONE
	TypeRel  Type = 1 // ET_REL
	TypeExec Type = 2 // ET_EXEC
	TypeDyn  Type = 3 // ET_DYN
	TypeCore Type = 4 // ET_CORE
)

func (t Type) String() string {
	return name(uint64(t), []string{"ET_NONE", "ET_REL", "ET_EXEC", "ET_DYN", "ET_CORE"}, "ET")
}

// Machine is e_machine.
type Machine uint16

// MachineX86_64 is EM_X86_64, the one machine Cocoon runs.
const MachineX86_64 Machine = 62

// String names the machines a refused executable is most likely built
// for (include/uapi/linux/elf-em.h), others by number. A switch, not a
// map: a map variable would be built by a package initialiser.
func (m Machine) String() string {
	switch m {
	case 0:
		return "EM_NONE"
	case 2:
		return "EM_SPARC"
	case 3:
		return "EM_386"
	case 8:
		return "EM_MIPS"
	case 20:
		return "EM_PPC"
	case 21:
		return "EM_PPC64"
	case 22:
		return "EM_S390"
	case 40:
		return "EM_ARM"
	case 43:
		return "EM_SPARCV9"
	case 50:
		return "EM_IA_64"
	case MachineX86_64:
		return "EM_X86_64"
	case 183:
		return "EM_AARCH64"
	case 243:
		return "EM_RISCV"
	case 258:
		return "EM_LOONGARCH"
	}
	return "EM_" + strconv.Itoa(int(m))
}

// ProgType is p_type.
type ProgType uint32

// The segment types the loader acts on.
const (
	ProgLoad     ProgType = 1          // PT_LOAD
	ProgDynamic  ProgType = 2          // PT_DYNAMIC
	ProgInterp   ProgType = 3          // PT_INTERP
	ProgPhdr     ProgType = 6          // PT_PHDR
	ProgGNUStack ProgType = 0x6474e551 // PT_GNU_STACK
)

// ProgFlag is p_flags.
type ProgFlag uint32

// The segment permissions.
const (
	FlagX ProgFlag = 1 // PF_X
	FlagW ProgFlag = 2 // PF_W
	FlagR ProgFlag = 4 // PF_R
)

// name returns names[v], or prefix and v in decimal for a value past the
// table.
func name(v uint64, names []string, prefix string) string {
	if v < uint64(len(names)) {
		return names[v]
	}
	return prefix + "_" + strconv.FormatUint(v, 10)
}
