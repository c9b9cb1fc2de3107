package loader

import (
	"debug/elf"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestConstantsMatchDebugELF checks the loader's own ELF values and
// names against the standard library's, which the kernel no longer
// links (elfconst.go).
func TestConstantsMatchDebugELF(t *testing.T) {
	pairs := []struct {
		ours, ref  fmt.Stringer
		ourV, refV uint64
	}{
		{ClassNone, elf.ELFCLASSNONE, uint64(ClassNone), uint64(elf.ELFCLASSNONE)},
		{Class32, elf.ELFCLASS32, uint64(Class32), uint64(elf.ELFCLASS32)},
		{Class64, elf.ELFCLASS64, uint64(Class64), uint64(elf.ELFCLASS64)},
		{DataNone, elf.ELFDATANONE, uint64(DataNone), uint64(elf.ELFDATANONE)},
		{DataLSB, elf.ELFDATA2LSB, uint64(DataLSB), uint64(elf.ELFDATA2LSB)},
		{DataMSB, elf.ELFDATA2MSB, uint64(DataMSB), uint64(elf.ELFDATA2MSB)},
		{TypeNone, elf.ET_NONE, uint64(TypeNone), uint64(elf.ET_NONE)},
		{TypeRel, elf.ET_REL, uint64(TypeRel), uint64(elf.ET_REL)},
		{TypeExec, elf.ET_EXEC, uint64(TypeExec), uint64(elf.ET_EXEC)},
		{TypeDyn, elf.ET_DYN, uint64(TypeDyn), uint64(elf.ET_DYN)},
		{TypeCore, elf.ET_CORE, uint64(TypeCore), uint64(elf.ET_CORE)},
		{MachineX86_64, elf.EM_X86_64, uint64(MachineX86_64), uint64(elf.EM_X86_64)},
	}
	for _, m := range []elf.Machine{elf.EM_NONE, elf.EM_SPARC, elf.EM_386, elf.EM_MIPS, elf.EM_PPC, elf.EM_PPC64, elf.EM_S390,
		elf.EM_ARM, elf.EM_SPARCV9, elf.EM_IA_64, elf.EM_AARCH64, elf.EM_RISCV, elf.EM_LOONGARCH} {
		pairs = append(pairs, struct {
			ours, ref  fmt.Stringer
			ourV, refV uint64
		}{Machine(m), m, uint64(m), uint64(m)})
	}
	for _, p := range pairs {
		if p.ourV != p.refV || p.ours.String() != p.ref.String() {
			t.Errorf("loader has %s = %d, debug/elf %s = %d", p.ours, p.ourV, p.ref, p.refV)
		}
	}
	if elfMagic != elf.ELFMAG || eiClass != elf.EI_CLASS || eiData != elf.EI_DATA || eiVersion != elf.EI_VERSION || evCurrent != elf.EV_CURRENT {
		t.Errorf("e_ident constants differ from debug/elf's")
	}
	for _, tt := range []struct{ ours, ref uint32 }{
		{uint32(ProgLoad), uint32(elf.PT_LOAD)}, {uint32(ProgDynamic), uint32(elf.PT_DYNAMIC)},
		{uint32(ProgInterp), uint32(elf.PT_INTERP)}, {uint32(ProgPhdr), uint32(elf.PT_PHDR)},
		{uint32(ProgGNUStack), uint32(elf.PT_GNU_STACK)},
		{uint32(FlagX), uint32(elf.PF_X)}, {uint32(FlagW), uint32(elf.PF_W)}, {uint32(FlagR), uint32(elf.PF_R)},
	} {
		if tt.ours != tt.ref {
			t.Errorf("program header value %#x, debug/elf %#x", tt.ours, tt.ref)
		}
	}
	// Values without a name are shown by number, never as another's name.
	for _, s := range []fmt.Stringer{Class(9), Data(7), Type(0xfe00), Machine(9999)} {
		if got := s.String(); got == "" || got[len(got)-1] < '0' || got[len(got)-1] > '9' {
			t.Errorf("unnamed value prints as %q, want its number", got)
		}
	}
}

// TestNoDebugELF keeps debug/elf (and with it debug/dwarf and
// compress/zlib, whose initialisers run at every boot) out of the loader,
// which the kernel links.
func TestNoDebugELF(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "debug/elf" || p == "debug/dwarf" || p == "compress/zlib" {
			t.Errorf("north/loader depends on %s", p)
		}
	}
}
