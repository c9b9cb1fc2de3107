package measure

import "encoding/binary"

// Layout of the VMSA, the encrypted state save area of an SEV-ES/SNP vCPU
// (AMD64 Architecture Programmer's Manual Volume 2, Appendix B, Table B-4
// "VMSA Layout, State Save Area for SEV-ES"; segment registers follow
// Table B-2 "VMCB Layout, State Save Area"). Only the fields a VMM sets at
// reset are listed; every other byte of the page is zero.
const (
	vmsaES          = 0x000
	vmsaCS          = 0x010
	vmsaSS          = 0x020
	vmsaDS          = 0x030
	vmsaFS          = 0x040
	vmsaGS          = 0x050
	vmsaGDTR        = 0x060
	vmsaLDTR        = 0x070
	vmsaIDTR        = 0x080
	vmsaTR          = 0x090
	vmsaEFER        = 0x0d0
	vmsaCR4         = 0x148
	vmsaCR0         = 0x158
	vmsaDR7         = 0x160
	vmsaDR6         = 0x168
	vmsaRFLAGS      = 0x170
	vmsaRIP         = 0x178
	vmsaGPAT        = 0x268
	vmsaRDX         = 0x310
	vmsaSEVFeatures = 0x3b0
	vmsaXCR0        = 0x3e8
	vmsaMXCSR       = 0x408
	vmsaX87FCW      = 0x410

	// Segment register layout within the save area (APM Vol. 2, Table B-2).
	segSelector = 0x0 // 16 bits
	segAttrib   = 0x2 // 16 bits, compressed attribute format
	segLimit    = 0x4 // 32 bits
	segBase     = 0x8 // 64 bits
)

// DefaultVMSAGPA is the GPA with which KVM measures every VMSA page: the
// RMP records VMSAs at GPA -1, truncated to the guest physical address width
// (48 bits on Milan) and to a page boundary. Each VMSA page is measured with
// this same address.
const DefaultVMSAGPA = 0xffff_ffff_f000

// Segment is a segment register in the save area.
type Segment struct {
	Selector uint16
	Attrib   uint16
	Limit    uint32
	Base     uint64
}

func (s Segment) put(b []byte) {
	binary.LittleEndian.PutUint16(b[segSelector:], s.Selector)
	binary.LittleEndian.PutUint16(b[segAttrib:], s.Attrib)
	binary.LittleEndian.PutUint32(b[segLimit:], s.Limit)
	binary.LittleEndian.PutUint64(b[segBase:], s.Base)
}

// SaveArea is the initial register state of one vCPU, the part of a VMSA
// a VMM sets before launch.
type SaveArea struct {
	ES, CS, SS, DS, FS, GS, GDTR, LDTR, IDTR, TR Segment

	EFER, CR4, CR0, DR7, DR6, RFLAGS, RIP uint64
	GPAT, RDX, SEVFeatures, XCR0          uint64
	MXCSR                                 uint32
	X87FCW                                uint16
}

// Page returns the 4 KiB VMSA page holding s.
func (s *SaveArea) Page() []byte {
	p := make([]byte, PageSize)
	for _, seg := range []struct {
		off int
		seg Segment
	}{
		{vmsaES, s.ES}, {vmsaCS, s.CS}, {vmsaSS, s.SS}, {vmsaDS, s.DS}, {vmsaFS, s.FS},
		{vmsaGS, s.GS}, {vmsaGDTR, s.GDTR}, {vmsaLDTR, s.LDTR}, {vmsaIDTR, s.IDTR}, {vmsaTR, s.TR},
	} {
		seg.seg.put(p[seg.off:])
	}
	for _, r := range []struct {
		off int
		val uint64
	}{
		{vmsaEFER, s.EFER}, {vmsaCR4, s.CR4}, {vmsaCR0, s.CR0}, {vmsaDR7, s.DR7},
		{vmsaDR6, s.DR6}, {vmsaRFLAGS, s.RFLAGS}, {vmsaRIP, s.RIP}, {vmsaGPAT, s.GPAT},
		{vmsaRDX, s.RDX}, {vmsaSEVFeatures, s.SEVFeatures}, {vmsaXCR0, s.XCR0},
	} {
		binary.LittleEndian.PutUint64(p[r.off:], r.val)
	}
	binary.LittleEndian.PutUint32(p[vmsaMXCSR:], s.MXCSR)
	binary.LittleEndian.PutUint16(p[vmsaX87FCW:], s.X87FCW)
	return p
}

// Reset-state constants shared by the VMMs: the x86 initial processor
// state (APM Vol. 2, section 14.1.3, Table 14-1 "Initial Processor State"),
// as KVM adjusts it for an SEV-ES/SNP VMSA.
const (
	// BSPResetAddress is where the bootstrap processor starts: the reset
	// vector, CS base 0xffff0000 and IP 0xfff0.
	BSPResetAddress = 0xffff_fff0

	resetCSSelector = 0xf000
	resetLimit      = 0xffff
	resetDataAttrib = 0x93   // present, S, read/write, accessed
	resetCodeAttrib = 0x9b   // present, S, execute/read, accessed
	resetLDTRAttrib = 0x82   // present, LDT
	resetTRAttrib   = 0x8b   // present, busy 32-bit TSS
	resetEFER       = 0x1000 // EFER.SVME: KVM keeps it set in the VMSA
	resetCR4        = 0x40   // CR4.MCE: KVM sets it at vCPU reset
	resetCR0        = 0x10   // CR0.ET; KVM leaves CD and NW clear
	resetDR7        = 0x400
	resetDR6        = 0xffff_0ff0
	resetRFLAGS     = 0x2
	resetXCR0       = 0x1 // x87 state enabled
	// resetPAT is the PAT MSR at reset.
	resetPAT = 0x0007_0406_0007_0406
	// resetMXCSR and resetFCW are the SSE and x87 control words after
	// FNINIT/reset, which KVM copies into the VMSA of SNP guests.
	resetMXCSR = 0x1f80
	resetFCW   = 0x37f
)

// resetSaveArea returns the real-mode reset state every VMM gives a vCPU
// entering at address (CS base = address & 0xffff0000, IP = the low 16
// bits); saveArea adds what differs between VMMs.
func resetSaveArea(address uint32) SaveArea {
	data := Segment{Attrib: resetDataAttrib, Limit: resetLimit}
	return SaveArea{
		ES:     data,
		CS:     Segment{Selector: resetCSSelector, Attrib: resetCodeAttrib, Limit: resetLimit, Base: uint64(address &^ 0xffff)},
		SS:     data,
		DS:     data,
		FS:     data,
		GS:     data,
		GDTR:   Segment{Limit: resetLimit},
		IDTR:   Segment{Limit: resetLimit},
		LDTR:   Segment{Attrib: resetLDTRAttrib, Limit: resetLimit},
		TR:     Segment{Attrib: resetTRAttrib, Limit: resetLimit},
		EFER:   resetEFER,
		CR4:    resetCR4,
		CR0:    resetCR0,
		DR7:    resetDR7,
		DR6:    resetDR6,
		RFLAGS: resetRFLAGS,
		RIP:    uint64(address & 0xffff),
		GPAT:   resetPAT,
		XCR0:   resetXCR0,
	}
}
