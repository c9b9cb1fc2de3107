package hv

import "fmt"

// The VP assist page (TLFS datatypes/hv_vp_assist_page.md,
// HV_VP_ASSIST_PAGE), as far as a secure kernel uses it:
//
//	0   ApicAssist (4)
//	4   ReservedZ0 (4)
//	8   VtlControl (HV_VP_VTL_CONTROL, datatypes/hv_vp_vtl_control.md):
//	    8  EntryReason (4)
//	    12 VinaStatus (1): bit 0 VinaAsserted
//	    13 ReservedZ00 (1), 14 ReservedZ01 (2)
//	    16 VtlReturnX64Rax (8)
//	    24 VtlReturnX64Rcx (8)
//
// The hypervisor writes EntryReason on every entry into the VTL; the VTL
// writes VtlReturnX64Rax/Rcx, which a (non-fast) VTL return loads into the
// lower VTL's RAX and RCX (TLFS VSM, "Fast Return").
const (
	assistEntryReason = 8
	assistVina        = 12
	assistReturnRax   = 16
	assistReturnRcx   = 24
	// AssistMinSize is how much of the page the decoder reads.
	AssistMinSize = 32
)

// EntryReason is HV_VTL_ENTRY_REASON (TLFS datatypes/hv_vp_vtl_control.md).
type EntryReason uint32

// Entry reasons.
const (
	EntryReserved  EntryReason = 0
	EntryVtlCall   EntryReason = 1 // a VTL call from a lower VTL
	EntryInterrupt EntryReason = 2 // an interrupt targeted at this VTL (intercept messages arrive so, on SINT0)
)

func (r EntryReason) String() string {
	switch r {
	case EntryReserved:
		return "reserved"
	case EntryVtlCall:
		return "VTL call"
	case EntryInterrupt:
		return "interrupt"
	}
	return fmt.Sprintf("entry reason %d", uint32(r))
}

// VtlControl is what the hypervisor told the VTL on entry.
type VtlControl struct {
	Reason       EntryReason
	VinaAsserted bool
}

// DecodeVtlControl reads the VTL control area of a VP assist page. A
// reason the TLFS does not define, or set reserved bits, is an error: the
// page is hypervisor-written, and on garbage the kernel must not guess.
func DecodeVtlControl(page []byte) (VtlControl, error) {
	if len(page) < AssistMinSize {
		return VtlControl{}, fmt.Errorf("hv: VP assist page of %d bytes", len(page))
	}
	r := EntryReason(le.Uint32(page[assistEntryReason:]))
	vina := page[assistVina]
	c := VtlControl{Reason: r, VinaAsserted: vina&1 != 0}
	if r != EntryVtlCall && r != EntryInterrupt {
		return c, fmt.Errorf("hv: VP assist page entry reason %d is neither VTL call (1) nor interrupt (2)", uint32(r))
	}
	if vina&^1 != 0 || page[13] != 0 || le.Uint16(page[14:]) != 0 {
		return c, fmt.Errorf("hv: VP assist page VTL control has reserved bits set (%#x)", le.Uint64(page[assistEntryReason:]))
	}
	return c, nil
}

// SetVtlReturnRegs writes the RAX and RCX a non-fast VTL return loads into
// the lower VTL.
func SetVtlReturnRegs(page []byte, rax, rcx uint64) {
	le.PutUint64(page[assistReturnRax:], rax)
	le.PutUint64(page[assistReturnRcx:], rcx)
}

// VtlReturnRegs reads them back: the hypervisor's side.
func VtlReturnRegs(page []byte) (rax, rcx uint64) {
	return le.Uint64(page[assistReturnRax:]), le.Uint64(page[assistReturnRcx:])
}

// SetEntryReason writes the entry reason: the hypervisor's side.
func SetEntryReason(page []byte, r EntryReason) {
	le.PutUint32(page[assistEntryReason:], uint32(r))
}

// VtlReturnInput is the VTL return control input in RCX (TLFS VSM, "VTL
// Return"): bit 0 fast return, 63:1 RsvdZ.
type VtlReturnInput uint64

// FastReturn skips restoring RAX/RCX from the VTL control area.
const FastReturn VtlReturnInput = 1
