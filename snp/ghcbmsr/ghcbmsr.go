// Package ghcbmsr encodes and decodes the GHCB MSR protocol: the 64-bit words
// an SEV-SNP guest exchanges with the hypervisor through the GHCB MSR
// (MSR_SEV_ES_GHCB, 0xC001_0130) before a GHCB page is registered, and for
// the few requests that never use one (registration itself, termination).
//
// Layouts follow "SEV-ES Guest-Hypervisor Communication Block
// Standardization" (AMD publication 56421), section 2.3.1 "GHCB MSR
// Protocol" and its table of GHCBInfo codes. Every word carries a 12-bit
// GHCBInfo code in bits 11:0 and request-specific data in bits 63:12.
//
// The package is pure Go: the privileged operations (RDMSR, WRMSR, VMGEXIT)
// are reached through the CPU interface, so a fake hypervisor can drive the
// protocol in host tests.
package ghcbmsr

import "fmt"

// MSR is the number of the GHCB MSR (AMD APM vol. 2, section 15.35.5
// "GHCB"; GHCB spec section 2.3.1).
const MSR = 0xC001_0130

// Word is one 64-bit value written to or read from the GHCB MSR.
type Word uint64

// Info is the GHCBInfo code in bits 11:0 of a Word.
type Info uint16

// GHCBInfo codes (GHCB spec section 2.3.1, table "GHCB MSR Protocol").
const (
	InfoGHCBGPA                    Info = 0x000 // the MSR holds the GHCB GPA
	InfoSEVInfoResponse            Info = 0x001
	InfoSEVInfoRequest             Info = 0x002
	InfoRegisterGHCBRequest        Info = 0x012
	InfoRegisterGHCBResponse       Info = 0x013
	InfoPageStateChangeRequest     Info = 0x014
	InfoPageStateChangeResponse    Info = 0x015
	InfoHypervisorFeaturesRequest  Info = 0x080
	InfoHypervisorFeaturesResponse Info = 0x081
	InfoTerminateRequest           Info = 0x100
)

const (
	infoMask  = 0xFFF // GHCBData[11:0]
	dataShift = 12    // GHCBData[63:12]
)

// Info returns the GHCBInfo code of w.
func (w Word) Info() Info { return Info(w & infoMask) }

// Data returns bits 63:12 of w, shifted down to bit 0.
func (w Word) Data() uint64 { return uint64(w) >> dataShift }

func (i Info) String() string {
	switch i {
	case InfoGHCBGPA:
		return "GHCB GPA"
	case InfoSEVInfoResponse:
		return "SEV information response"
	case InfoSEVInfoRequest:
		return "SEV information request"
	case InfoRegisterGHCBRequest:
		return "GHCB GPA registration request"
	case InfoRegisterGHCBResponse:
		return "GHCB GPA registration response"
	case InfoPageStateChangeRequest:
		return "SNP page state change request"
	case InfoPageStateChangeResponse:
		return "SNP page state change response"
	case InfoHypervisorFeaturesRequest:
		return "hypervisor feature support request"
	case InfoHypervisorFeaturesResponse:
		return "hypervisor feature support response"
	case InfoTerminateRequest:
		return "termination request"
	}
	return fmt.Sprintf("GHCBInfo %#03x", uint16(i))
}
