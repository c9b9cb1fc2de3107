package ghcbmsr

import "fmt"

// SEV information (GHCB spec section 2.3.1, GHCBInfo 0x001/0x002).
//
// The request carries no data. The response holds
//   - GHCBData[63:48] the maximum supported GHCB protocol version,
//   - GHCBData[47:32] the minimum supported GHCB protocol version,
//   - GHCBData[31:24] the SEV page-table encryption bit (C-bit) position,
//   - GHCBData[23:12] reserved, zero.
const (
	sevInfoMaxShift  = 48
	sevInfoMinShift  = 32
	sevInfoCBitShift = 24
	sevInfoReserved  = 0xFFF << 12 // GHCBData[23:12]
)

// SEVInfoRequest returns the SEV information request word.
func SEVInfoRequest() Word { return Word(InfoSEVInfoRequest) }

// SEVInfo is the hypervisor's answer to an SEV information request.
type SEVInfo struct {
	MaxVersion uint16 // highest GHCB protocol version the hypervisor supports
	MinVersion uint16 // lowest GHCB protocol version the hypervisor supports
	CBit       uint8  // C-bit position in guest page-table entries
}

// Word encodes i as a response word (as a hypervisor would).
func (i SEVInfo) Word() Word {
	return Word(uint64(i.MaxVersion)<<sevInfoMaxShift|
		uint64(i.MinVersion)<<sevInfoMinShift|
		uint64(i.CBit)<<sevInfoCBitShift) | Word(InfoSEVInfoResponse)
}

// Hypervisor feature support (GHCB spec section 2.3.1, GHCBInfo
// 0x080/0x081). The request carries no data; the response holds the
// feature bitmap in GHCBData[63:12].

// HypervisorFeaturesRequest returns the hypervisor feature request word.
func HypervisorFeaturesRequest() Word { return Word(InfoHypervisorFeaturesRequest) }

// Features is the hypervisor feature bitmap (GHCB spec section 2.3.1,
// "Hypervisor Feature Support"; the HV features NAE event returns the same
// bits).
type Features uint64

// Feature bits (GHCB spec section 2.3.1, table of hypervisor features).
const (
	FeatureSNP                         Features = 1 << 0 // SEV-SNP supported
	FeatureSNPAPCreation               Features = 1 << 1 // SNP AP creation NAE event
	FeatureSNPRestrictedInjection      Features = 1 << 2
	FeatureSNPRestrictedInjectionTimer Features = 1 << 3
	FeatureAPICIDList                  Features = 1 << 4
	FeatureSNPMultiVMPL                Features = 1 << 5
)

const featuresMask = 1<<52 - 1 // GHCBData[63:12] is 52 bits wide

// Word encodes f as a response word (as a hypervisor would).
func (f Features) Word() Word {
	return Word(uint64(f&featuresMask)<<dataShift) | Word(InfoHypervisorFeaturesResponse)
}

// GHCB GPA registration (GHCB spec section 2.3.1, GHCBInfo 0x012/0x013).
// Both request and response carry the GHCB's guest frame number in
// GHCBData[63:12]; the response echoes the requested GFN, or holds all
// ones if the hypervisor refuses.
const (
	gfnMask        = 1<<52 - 1 // GHCBData[63:12]
	registerRefuse = gfnMask   // all ones: registration failed
)

// RegisterGHCBResponse encodes a registration response carrying gfn (as a
// hypervisor would).
func RegisterGHCBResponse(gfn uint64) Word {
	return Word((gfn&gfnMask)<<dataShift) | Word(InfoRegisterGHCBResponse)
}

// SNP page state change (GHCB spec section 2.3.1, GHCBInfo 0x014/0x015).
// The request holds
//   - GHCBData[55:52] the page operation,
//   - GHCBData[51:12] the guest frame number of one 4 KiB page;
//
// the response holds an error code in GHCBData[63:32] (zero on success)
// and zero in GHCBData[31:12].
const (
	pscGFNBits      = 40 // GHCBData[51:12]
	pscOpShift      = 52 // GHCBData[55:52]
	pscErrorShift   = 32 // GHCBData[63:32]
	pscRespReserved = 0xFFFFF << 12
)

// PageOp is a page state change operation for the MSR protocol.
type PageOp uint8

// Page operations (GHCB spec section 2.3.1, SNP page state change request).
const (
	PagePrivate PageOp = 1 // page assignment, private
	PageShared  PageOp = 2 // page assignment, shared
)

func (op PageOp) String() string {
	switch op {
	case PagePrivate:
		return "private"
	case PageShared:
		return "shared"
	}
	return fmt.Sprintf("PageOp(%d)", uint8(op))
}

// DecodePageStateChangeRequest decodes a request (as a hypervisor would).
func DecodePageStateChangeRequest(w Word) (gfn uint64, op PageOp, err error) {
	if w.Info() != InfoPageStateChangeRequest || w>>(pscOpShift+4) != 0 {
		return 0, 0, fmt.Errorf("not a page state change request: %#016x", uint64(w))
	}
	return w.Data() & (1<<pscGFNBits - 1), PageOp(w >> pscOpShift & 0xF), nil
}

// PageStateChangeResponse encodes a response with the given error code
// (as a hypervisor would).
func PageStateChangeResponse(code uint32) Word {
	return Word(uint64(code)<<pscErrorShift) | Word(InfoPageStateChangeResponse)
}
