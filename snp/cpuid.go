package snp

// CPUID from the SNP CPUID page. Trap context: //go:nosplit, no
// allocation; the page is read in place (layout: SNP Firmware ABI, CPUID
// page and table "SNP_CPUID_FUNCTION"; snp/cpuidpage parses the same
// layout for host tools and is the reference these functions are tested
// against).

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/snp/cpuidpage"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

const (
	cpuidCount   = 0x00 // uint32 COUNT
	cpuidEntries = cpuidpage.HeaderSize
	cpuidEntry   = cpuidpage.EntrySize
	// Field offsets within SNP_CPUID_FUNCTION.
	fnEAXIn  = 0x00
	fnECXIn  = 0x04
	fnXCR0In = 0x08
	fnXSSIn  = 0x10
	fnEAX    = 0x18
)

// CPUID bits the hardware computes from control registers, which the
// launch-time page cannot know (AMD APM vol. 3, appendix E.3.2 "Function
// 1h", E.3.6 "Function 7h").
const (
	leaf1ECXOSXSAVE = 1 << 27 // CR4.OSXSAVE
	leaf7ECXOSPKE   = 1 << 4  // CR4.PKE: Cocoon never sets it
)

// checkCPUIDPage checks the page's header: a count the page can hold, and
// entries that answer leaf 0 and leaf 0x8000_0000, which bound the ranges.
//
//go:nosplit
func (p *Platform) checkCPUIDPage() (ghcbmsr.Reason, bool) {
	bad := reason(ghcbmsr.ReasonCPUID)
	if len(p.cpuid) < cpuidpage.PageSize {
		return bad, false
	}
	n := binary.LittleEndian.Uint32(p.cpuid[cpuidCount:])
	if n == 0 || n > cpuidpage.MaxEntries {
		return bad, false
	}
	if _, ok := p.cpuidEntry(0, 0); !ok {
		return bad, false
	}
	return ghcbmsr.Reason{}, true
}

// cpuidEntry finds the entry for (leaf, subleaf) and returns its offset;
// for leaf 0xD subleaves 0 and 1 it takes the base XSAVE configuration
// (XCR0_IN 1 or 3, XSS_IN 0), as cpuidpage.Table.Lookup does.
//
//go:nosplit
func (p *Platform) cpuidEntry(leaf, subleaf uint32) (int, bool) {
	page := p.cpuid
	n := int(binary.LittleEndian.Uint32(page[cpuidCount:]))
	indexed := cpuidpage.Indexed(leaf)
	for i := 0; i < n && i < cpuidpage.MaxEntries; i++ {
		off := cpuidEntries + i*cpuidEntry
		e := page[off : off+cpuidEntry]
		if binary.LittleEndian.Uint32(e[fnEAXIn:]) != leaf {
			continue
		}
		if indexed && binary.LittleEndian.Uint32(e[fnECXIn:]) != subleaf {
			continue
		}
		if leaf == 0xD && subleaf <= 1 {
			xcr0, xss := binary.LittleEndian.Uint64(e[fnXCR0In:]), binary.LittleEndian.Uint64(e[fnXSSIn:])
			if xcr0 != 1 && xcr0 != 3 || xss != 0 {
				continue
			}
		}
		return off, true
	}
	return 0, false
}

//go:nosplit
func (p *Platform) cpuidRegs(off int) (a, b, c, d uint32) {
	e := p.cpuid[off+fnEAX : off+fnEAX+16]
	le := binary.LittleEndian
	return le.Uint32(e[0:]), le.Uint32(e[4:]), le.Uint32(e[8:]), le.Uint32(e[12:])
}

// rangeMax returns the highest leaf of the range holding leaf, as the
// page's own range leaf (0, 0x8000_0000) reports it, and whether leaf
// belongs to a range the page describes at all.
//
//go:nosplit
func (p *Platform) rangeMax(leaf uint32) (uint32, bool) {
	base := leaf & 0xF000_0000
	if base != 0 && base != LeafMaxExtended {
		return 0, false // hypervisor (0x4000_0000) and other ranges
	}
	off, ok := p.cpuidEntry(base, 0)
	if !ok {
		return 0, false
	}
	max, _, _, _ := p.cpuidRegs(off)
	return max, true
}

// CPUID answers CPUID (leaf, subleaf) from the page. A leaf above its
// range's maximum, or in a range the page does not describe, reads as
// zeros, as on AMD hardware (APM vol. 3, "CPUID": "reserved function
// numbers return 0"). A leaf inside a range but missing from the page is
// refused: the guest never asks the hypervisor instead.
//
//go:nosplit
func (p *Platform) CPUID(leaf, subleaf uint32) (a, b, c, d uint32, ok bool) {
	max, described := p.rangeMax(leaf)
	if !described || leaf > max {
		return 0, 0, 0, 0, true
	}
	off, found := p.cpuidEntry(leaf, subleaf)
	if !found {
		return 0, 0, 0, 0, false
	}
	a, b, c, d = p.cpuidRegs(off)
	osxsave, xcr0 := p.m.XState()
	switch {
	case leaf == 1:
		c &^= leaf1ECXOSXSAVE
		if osxsave {
			c |= leaf1ECXOSXSAVE
		}
	case leaf == 7 && subleaf == 0:
		c &^= leaf7ECXOSPKE
	case leaf == 0xD && subleaf <= 1:
		// EBX is the XSAVE area size for the enabled components:
		// standard format for subleaf 0, compacted for subleaf 1
		// (IA32_XSS is 0: Cocoon enables no supervisor state).
		if !osxsave {
			xcr0 = 1 // x87 only, as after reset
		}
		size, ok := p.xsaveSize(xcr0, subleaf == 1)
		if !ok {
			return 0, 0, 0, 0, false
		}
		b = size
	}
	return a, b, c, d, true
}

// xsaveSize computes the XSAVE area size for the enabled components from
// the page's leaf 0xD subleaves, as cpuidpage.Table.XSAVESize does.
//
//go:nosplit
func (p *Platform) xsaveSize(features uint64, compacted bool) (uint32, bool) {
	const legacyAndHeader = 512 + 64 // AMD APM vol. 2, 11.4 XSAVE area
	size := uint64(legacyAndHeader)
	for c := uint32(2); c < 64; c++ {
		if features&(1<<c) == 0 {
			continue
		}
		off, ok := p.cpuidEntry(0xD, c)
		if !ok {
			return 0, false
		}
		ca, cb, cc, _ := p.cpuidRegs(off)
		if compacted {
			if cc&2 != 0 { // ECX bit 1: 64-byte aligned when compacted
				size = (size + 63) &^ 63
			}
			size += uint64(ca)
		} else {
			size = max(size, uint64(cb)+uint64(ca))
		}
	}
	if size > 1<<32-1 {
		return 0, false
	}
	return uint32(size), true
}
