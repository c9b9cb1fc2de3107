package hv

import "fmt"

// Synthetic MSRs (TLFS Hypercall Interface, "Reporting the Guest OS
// Identity" and "Establishing the Hypercall Interface"; TLFS VSM, "Private
// State" lists which are private to each VTL; numbers as in lvbs-linux
// arch/x86/include/asm/hyperv-tlfs.h).
const (
	MSRGuestOSID    = 0x4000_0000
	MSRHypercall    = 0x4000_0001
	MSRVPIndex      = 0x4000_0002
	MSRVPAssistPage = 0x4000_0073

	// SynIC (TLFS "Synthetic Interrupt Controller"; AccessSynicRegs
	// covers SCONTROL through EOM and SINT0-SINT15).
	MSRSControl = 0x4000_0080
	MSRSVersion = 0x4000_0081
	MSRSIEFP    = 0x4000_0082
	MSRSIMP     = 0x4000_0083
	MSREOM      = 0x4000_0084
	MSRSINT0    = 0x4000_0090 // SINTn is MSRSINT0 + n, n < 16
)

// MSRAccess reads and writes MSRs. In the kernel: RDMSR/WRMSR; in tests,
// package hvtest's fake.
type MSRAccess interface {
	ReadMSR(msr uint32) uint64
	WriteMSR(msr uint32, v uint64)
}

// GuestOSID is the open-source encoding of HV_X64_MSR_GUEST_OS_ID (TLFS
// Hypercall Interface, "Guest OS Identity MSR for Open Source Operating
// Systems"): bits 15:0 build, 47:16 version, 55:48 OS ID, 62:56 OS type,
// 63 open source.
type GuestOSID struct {
	Build   uint16
	Version uint32
	OSID    uint8
	OSType  uint8 // 7 bits; allocated by Microsoft (Linux is 1)
}

// OSTypeLinux is the OS type value for Linux (TLFS table "OS Type").
// Cocoon's secure kernel presents itself as Linux-compatible: it has no
// OS type of its own, and its North personality is Linux's.
const OSTypeLinux = 0x1

// Word encodes id, with the open-source bit set.
func (id GuestOSID) Word() uint64 {
	return 1<<63 | uint64(id.OSType&0x7F)<<56 | uint64(id.OSID)<<48 |
		uint64(id.Version)<<16 | uint64(id.Build)
}

// CocoonOSID is the identity Cocoon writes: open source, OS type Linux,
// version 0.1 in the version field (bits 47:16), OS ID 0x43 ('C').
var CocoonOSID = GuestOSID{Build: 0, Version: 0x0000_0100, OSID: 0x43, OSType: OSTypeLinux}

// Page-address MSRs share one layout: bit 0 enable, bits 63:12 the guest
// physical page number (HV_X64_MSR_HYPERCALL: TLFS Hypercall Interface,
// "Establishing the Hypercall Interface", with bit 1 "Locked" and 11:2
// RsvdP; HV_X64_MSR_VP_ASSIST_PAGE and SIMP/SIEFP: TLFS "Virtual Processor
// Assist Page" and "SynIC Message Page", bits 11:1 RsvdP).
const (
	pageEnable   = 1 << 0
	hypercallLck = 1 << 1
	pageMask     = ^uint64(0xFFF)
	// PageSize is HV_PAGE_SIZE.
	PageSize = 4096
)

// PageMSR is the value of a page-address MSR.
type PageMSR uint64

// EnablePage returns old with the page at gpa enabled, preserving the
// RsvdP bits 11:1 as the TLFS requires.
func EnablePage(old PageMSR, gpa uint64) (PageMSR, error) {
	if gpa&^pageMask != 0 {
		return 0, fmt.Errorf("hv: page address %#x is not page-aligned", gpa)
	}
	return PageMSR(gpa | uint64(old)&0xFFE | pageEnable), nil
}

// Enabled reports bit 0.
func (m PageMSR) Enabled() bool { return m&pageEnable != 0 }

// Locked reports bit 1 of the hypercall MSR ("Locked": the page cannot
// move until reset).
func (m PageMSR) Locked() bool { return m&hypercallLck != 0 }

// GPA is the page's guest physical address.
func (m PageMSR) GPA() uint64 { return uint64(m) & pageMask }

// SCONTROL bit 0 enables the SynIC (TLFS "SCONTROL Register").
const SControlEnable = 1 << 0

// SINT is a synthetic interrupt source register (TLFS "SINTx Registers"):
// bits 7:0 vector, 16 masked, 17 auto-EOI, 18 polling.
type SINT uint64

const (
	sintMasked  = 1 << 16
	sintAutoEOI = 1 << 17
)

// Unmasked returns old programmed with vector and unmasked, auto-EOI off,
// other bits preserved (they are RsvdP).
func (s SINT) Unmasked(vector uint8) SINT {
	return s&^(0xFF|sintMasked|sintAutoEOI) | SINT(vector)
}

// Vector is bits 7:0.
func (s SINT) Vector() uint8 { return uint8(s) }

// Masked is bit 16.
func (s SINT) Masked() bool { return s&sintMasked != 0 }

// InterceptSINT is the SINT on which the hypervisor delivers intercept
// messages to the VTL that installed the intercept (lvbs-linux
// drivers/hv/mshv_vsm_vtl1.c: HV_SYNIC_INTERCEPTION_SINT_INDEX, 0).
const InterceptSINT = 0
