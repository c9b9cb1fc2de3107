package ghcbmsr

import (
	"fmt"
	"math/bits"
)

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

// DecodeSEVInfo decodes an SEV information response.
func DecodeSEVInfo(w Word) (SEVInfo, error) {
	if err := expect(InfoSEVInfoRequest, InfoSEVInfoResponse, w); err != nil {
		return SEVInfo{}, err
	}
	if w&sevInfoReserved != 0 {
		return SEVInfo{}, &ResponseError{Request: InfoSEVInfoRequest, Got: w, Reason: "reserved bits 23:12 set"}
	}
	i := SEVInfo{
		MaxVersion: uint16(w >> sevInfoMaxShift),
		MinVersion: uint16(w >> sevInfoMinShift),
		CBit:       uint8(w >> sevInfoCBitShift),
	}
	if i.MinVersion > i.MaxVersion {
		return SEVInfo{}, &ResponseError{Request: InfoSEVInfoRequest, Got: w,
			Reason: fmt.Sprintf("minimum protocol version %d above maximum %d", i.MinVersion, i.MaxVersion)}
	}
	return i, nil
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

// DecodeHypervisorFeatures decodes a hypervisor feature response.
func DecodeHypervisorFeatures(w Word) (Features, error) {
	if err := expect(InfoHypervisorFeaturesRequest, InfoHypervisorFeaturesResponse, w); err != nil {
		return 0, err
	}
	return Features(w.Data()), nil
}

// GHCB GPA registration (GHCB spec section 2.3.1, GHCBInfo 0x012/0x013).
// Both request and response carry the GHCB's guest frame number in
// GHCBData[63:12]; the response echoes the requested GFN, or holds all
// ones if the hypervisor refuses.
const (
	gfnMask        = 1<<52 - 1 // GHCBData[63:12]
	registerRefuse = gfnMask   // all ones: registration failed
)

// RegisterGHCBRequest returns the request to register the GHCB at gfn.
func RegisterGHCBRequest(gfn uint64) (Word, error) {
	if gfn > gfnMask || gfn == registerRefuse {
		return 0, fmt.Errorf("GHCB GPA registration: GFN %#x does not fit GHCBData[63:12]", gfn)
	}
	return Word(gfn<<dataShift) | Word(InfoRegisterGHCBRequest), nil
}

// RegisterGHCBResponse encodes a registration response carrying gfn (as a
// hypervisor would).
func RegisterGHCBResponse(gfn uint64) Word {
	return Word((gfn&gfnMask)<<dataShift) | Word(InfoRegisterGHCBResponse)
}

// RegistrationError reports a GHCB GPA registration the hypervisor refused
// or answered with the wrong GFN.
type RegistrationError struct {
	Want uint64 // GFN the guest asked to register
	Got  Word   // the hypervisor's response word
}

func (e *RegistrationError) Error() string {
	if e.Got.Info() != InfoRegisterGHCBResponse {
		return fmt.Sprintf("GHCB GPA registration of GFN %#x: hypervisor answered with %s (%#016x)",
			e.Want, e.Got.Info(), uint64(e.Got))
	}
	if e.Got.Data() == registerRefuse {
		return fmt.Sprintf("GHCB GPA registration of GFN %#x: hypervisor refused", e.Want)
	}
	return fmt.Sprintf("GHCB GPA registration of GFN %#x: hypervisor echoed GFN %#x", e.Want, e.Got.Data())
}

// TerminationReason implements Terminal.
func (e *RegistrationError) TerminationReason() Reason {
	return Reason{Set: ReasonSetCocoon, Code: ReasonGHCBRegistration}
}

// DecodeRegisterGHCBResponse checks that w is a registration response that
// echoes want.
func DecodeRegisterGHCBResponse(w Word, want uint64) error {
	if w.Info() != InfoRegisterGHCBResponse || w.Data() != want {
		return &RegistrationError{Want: want, Got: w}
	}
	return nil
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

// PageStateChangeRequest returns the request to change the state of the
// 4 KiB page at gfn.
func PageStateChangeRequest(gfn uint64, op PageOp) (Word, error) {
	if bits.Len64(gfn) > pscGFNBits {
		return 0, fmt.Errorf("page state change: GFN %#x does not fit GHCBData[51:12]", gfn)
	}
	if op != PagePrivate && op != PageShared {
		return 0, fmt.Errorf("page state change: invalid operation %d", op)
	}
	return Word(uint64(op)<<pscOpShift|gfn<<dataShift) | Word(InfoPageStateChangeRequest), nil
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

// PageStateError reports a page state change the hypervisor failed.
type PageStateError struct {
	GFN  uint64
	Op   PageOp
	Code uint32 // GHCBData[63:32] of the response
}

func (e *PageStateError) Error() string {
	return fmt.Sprintf("page state change of GFN %#x to %s: hypervisor error %#x", e.GFN, e.Op, e.Code)
}

// TerminationReason implements Terminal.
func (e *PageStateError) TerminationReason() Reason {
	return Reason{Set: ReasonSetCocoon, Code: ReasonPageStateChange}
}

// DecodePageStateChangeResponse checks a response to a request for gfn and op.
func DecodePageStateChangeResponse(w Word, gfn uint64, op PageOp) error {
	if err := expect(InfoPageStateChangeRequest, InfoPageStateChangeResponse, w); err != nil {
		return err
	}
	if w&pscRespReserved != 0 {
		return &ResponseError{Request: InfoPageStateChangeRequest, Got: w, Reason: "reserved bits 31:12 set"}
	}
	if code := uint32(w >> pscErrorShift); code != 0 {
		return &PageStateError{GFN: gfn, Op: op, Code: code}
	}
	return nil
}
