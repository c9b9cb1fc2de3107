package cpuidpage

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// MissingError reports a CPUID the page cannot answer. The guest must not
// fall back to asking the hypervisor.
type MissingError struct {
	Leaf, Subleaf uint32
}

func (e *MissingError) Error() string {
	if Indexed(e.Leaf) {
		return fmt.Sprintf("CPUID leaf %#x subleaf %#x is not in the SNP CPUID page", e.Leaf, e.Subleaf)
	}
	return fmt.Sprintf("CPUID leaf %#x is not in the SNP CPUID page", e.Leaf)
}

// TerminationReason implements ghcbmsr.Terminal.
func (e *MissingError) TerminationReason() ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonCPUID}
}

// Lookup returns the page's values for CPUID (leaf, subleaf). The subleaf
// is ignored for leaves that are not Indexed. For leaf 0xD subleaves 0 and
// 1 it returns the entry for the base XSAVE configuration (XCR0_IN 1 or 3,
// XSS_IN 0): their EBX depends on the current XCR0 and XSS, so the caller
// replaces it with XSAVESize. A leaf missing from the page is an error,
// never a reason to ask the hypervisor.
func (t *Table) Lookup(leaf, subleaf uint32) (Registers, error) {
	indexed := Indexed(leaf)
	for i := range t.Functions {
		f := &t.Functions[i]
		if f.EAXIn != leaf || indexed && f.ECXIn != subleaf {
			continue
		}
		if leaf == 0xD && subleaf <= 1 && !baseXSAVE(f) {
			continue
		}
		return f.regs(), nil
	}
	return Registers{}, &MissingError{Leaf: leaf, Subleaf: subleaf}
}

// baseXSAVE reports whether f describes the base XSAVE configuration: x87
// (and SSE) enabled in XCR0, nothing in XSS.
func baseXSAVE(f *Function) bool {
	return (f.XCR0In == 1 || f.XCR0In == 3) && f.XSSIn == 0
}

// XSAVE state components 0 (x87) and 1 (SSE) live in the 512-byte legacy
// area, followed by the 64-byte XSAVE header (AMD APM vol. 2, section 11.4
// "XSAVE/XRSTOR Instructions" memory layout); components 2 and up are
// described by CPUID leaf 0xD subleaf n: EAX size, EBX standard-format
// offset, ECX bit 1 "aligned to 64 bytes in compacted format".
const (
	xsaveLegacyAndHeader = 512 + 64
	xsaveAlign64         = 1 << 1
)

// XSAVESize computes the XSAVE area size for the enabled state components
// features (XCR0 for the standard format, XCR0|XSS for the compacted
// format) from the page's leaf 0xD subleaf entries, as CPUID 0xD subleaf 0
// EBX (standard) and subleaf 1 EBX (compacted) report it. Every enabled
// component above SSE must be described by the page.
func (t *Table) XSAVESize(features uint64, compacted bool) (uint32, error) {
	size := uint64(xsaveLegacyAndHeader)
	for c := uint32(2); c < 64; c++ {
		if features&(1<<c) == 0 {
			continue
		}
		r, err := t.Lookup(0xD, c)
		if err != nil {
			return 0, fmt.Errorf("XSAVE component %d enabled: %w", c, err)
		}
		if compacted {
			if r.ECX&xsaveAlign64 != 0 {
				size = (size + 63) &^ 63
			}
			size += uint64(r.EAX)
		} else {
			size = max(size, uint64(r.EBX)+uint64(r.EAX))
		}
	}
	if size > 1<<32-1 {
		return 0, fmt.Errorf("XSAVE area for components %#x: size %#x overflows 32 bits", features, size)
	}
	return uint32(size), nil
}
