// Package cpuidpage parses the SEV-SNP CPUID page: the table of CPUID
// results the hypervisor proposes at launch and the PSP checks against the
// processor's capabilities before measuring it into the guest. Under SNP
// the guest answers CPUID from this page, never from the hypervisor.
//
// Layouts follow "SEV Secure Nested Paging Firmware ABI Specification" (AMD
// publication 56860), section "CPUID Reporting", table "SNP_CPUID_FUNCTION"
// and the CPUID page layout.
package cpuidpage

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// CPUID page layout (SNP Firmware ABI, CPUID page: a COUNT, reserved
// fields, then up to 64 SNP_CPUID_FUNCTION entries).
const (
	PageSize   = 4096
	MaxEntries = 64

	HeaderSize = 16 // COUNT uint32, reserved uint32, reserved uint64
	EntrySize  = 48 // one SNP_CPUID_FUNCTION

	offCount = 0x00
)

// SNP_CPUID_FUNCTION layout (SNP Firmware ABI, table "SNP_CPUID_FUNCTION").
const (
	offEAXIn  = 0x00 // uint32 CPUID function (EAX input)
	offECXIn  = 0x04 // uint32 CPUID subfunction (ECX input)
	offXCR0In = 0x08 // uint64 XCR0 the values assume (leaf 0xD only)
	offXSSIn  = 0x10 // uint64 IA32_XSS the values assume (leaf 0xD only)
	offEAX    = 0x18 // uint32 results
	offEBX    = 0x1C
	offECX    = 0x20
	offEDX    = 0x24
	// 0x28: uint64 reserved
)

// Function is one SNP_CPUID_FUNCTION entry.
type Function struct {
	EAXIn, ECXIn       uint32
	XCR0In, XSSIn      uint64
	EAX, EBX, ECX, EDX uint32
}

// Registers is the result of a CPUID.
type Registers struct {
	EAX, EBX, ECX, EDX uint32
}

func (f *Function) regs() Registers { return Registers{f.EAX, f.EBX, f.ECX, f.EDX} }

// Table is a parsed CPUID page.
type Table struct {
	Functions []Function
}

// Indexed reports whether leaf uses ECX to select a subleaf, so that a
// lookup must match ECX_IN. The list is the union of the subleaf-indexed
// leaves of AMD APM vol. 3 appendix E "Obtaining Processor Information Via
// the CPUID Instruction" (0x7, 0xB, 0xD, 0xF, 0x10, 0x8000_001D,
// 0x8000_0020, 0x8000_0026) and those Intel defines in the standard range
// (0x4, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1E, 0x1F, 0x20, 0x23, 0x24), which a
// hypervisor may pass through.
//
//go:nosplit
func Indexed(leaf uint32) bool {
	switch leaf {
	case 0x4, 0x7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18,
		0x1D, 0x1E, 0x1F, 0x20, 0x23, 0x24,
		0x8000_001D, 0x8000_0020, 0x8000_0026:
		return true
	}
	return false
}

// Parse decodes a CPUID page. It rejects a count above MaxEntries, an empty
// table, and ambiguous tables: a non-indexed leaf listed twice, or an
// indexed (leaf, subleaf, XCR0_IN, XSS_IN) listed twice.
func Parse(page []byte) (*Table, error) {
	if len(page) < HeaderSize {
		return nil, fmt.Errorf("CPUID page: %d bytes, shorter than its header", len(page))
	}
	count := binary.LittleEndian.Uint32(page[offCount:])
	if count == 0 {
		return nil, errors.New("CPUID page: no entries; the guest cannot answer CPUID without it")
	}
	if count > MaxEntries {
		return nil, fmt.Errorf("CPUID page: count %d above the maximum %d", count, MaxEntries)
	}
	if len(page) < HeaderSize+EntrySize*int(count) {
		return nil, fmt.Errorf("CPUID page: %d bytes for %d entries", len(page), count)
	}
	t := &Table{Functions: make([]Function, count)}
	for i := range t.Functions {
		e := page[HeaderSize+EntrySize*i:]
		t.Functions[i] = Function{
			EAXIn:  binary.LittleEndian.Uint32(e[offEAXIn:]),
			ECXIn:  binary.LittleEndian.Uint32(e[offECXIn:]),
			XCR0In: binary.LittleEndian.Uint64(e[offXCR0In:]),
			XSSIn:  binary.LittleEndian.Uint64(e[offXSSIn:]),
			EAX:    binary.LittleEndian.Uint32(e[offEAX:]),
			EBX:    binary.LittleEndian.Uint32(e[offEBX:]),
			ECX:    binary.LittleEndian.Uint32(e[offECX:]),
			EDX:    binary.LittleEndian.Uint32(e[offEDX:]),
		}
	}
	for i := range t.Functions {
		for j := range i {
			a, b := &t.Functions[i], &t.Functions[j]
			if a.EAXIn != b.EAXIn {
				continue
			}
			if !Indexed(a.EAXIn) {
				return nil, fmt.Errorf("CPUID page: leaf %#x is listed twice (entries %d and %d) but takes no subleaf", a.EAXIn, j, i)
			}
			if a.ECXIn == b.ECXIn && a.XCR0In == b.XCR0In && a.XSSIn == b.XSSIn {
				return nil, fmt.Errorf("CPUID page: leaf %#x subleaf %#x is listed twice (entries %d and %d)", a.EAXIn, a.ECXIn, j, i)
			}
		}
	}
	return t, nil
}

// Marshal encodes t as a CPUID page.
func (t *Table) Marshal() ([]byte, error) {
	if len(t.Functions) > MaxEntries {
		return nil, fmt.Errorf("CPUID page: %d entries above the maximum %d", len(t.Functions), MaxEntries)
	}
	page := make([]byte, PageSize)
	binary.LittleEndian.PutUint32(page[offCount:], uint32(len(t.Functions)))
	for i, f := range t.Functions {
		e := page[HeaderSize+EntrySize*i:]
		binary.LittleEndian.PutUint32(e[offEAXIn:], f.EAXIn)
		binary.LittleEndian.PutUint32(e[offECXIn:], f.ECXIn)
		binary.LittleEndian.PutUint64(e[offXCR0In:], f.XCR0In)
		binary.LittleEndian.PutUint64(e[offXSSIn:], f.XSSIn)
		binary.LittleEndian.PutUint32(e[offEAX:], f.EAX)
		binary.LittleEndian.PutUint32(e[offEBX:], f.EBX)
		binary.LittleEndian.PutUint32(e[offECX:], f.ECX)
		binary.LittleEndian.PutUint32(e[offEDX:], f.EDX)
	}
	return page, nil
}
