package ghcbmsr

import (
	"errors"
	"fmt"
)

// Termination request (GHCB spec section 2.3.1, GHCBInfo 0x100):
//   - GHCBData[15:12] reason code set,
//   - GHCBData[23:16] reason code,
//   - GHCBData[63:24] reserved, zero.
const (
	termSetShift  = 12
	termCodeShift = 16
	termReserved  = uint64(1<<40-1) << 24
)

// ReasonSet selects the meaning of a termination reason code. Only set 0 is
// defined by the GHCB spec; hypervisors log other sets without interpreting
// them.
type ReasonSet uint8

// ReasonCode is a termination reason within a ReasonSet.
type ReasonCode uint8

// Reason is why the guest asks to be terminated.
type Reason struct {
	Set  ReasonSet
	Code ReasonCode
}

// Reason sets.
const (
	// ReasonSetGeneral is the GHCB spec's general reason code set (section
	// 2.3.1, termination request).
	ReasonSetGeneral ReasonSet = 0x0
	// ReasonSetCocoon is the set Cocoon uses for its own codes. The GHCB
	// spec leaves sets other than 0 to the guest (Linux uses 1); 0xC keeps
	// Cocoon's codes distinguishable from Linux's in a host log.
	ReasonSetCocoon ReasonSet = 0xC
)

// General reason codes (GHCB spec section 2.3.1, reason code set 0).
const (
	ReasonGeneral             ReasonCode = 0x0 // general termination request
	ReasonProtocolUnsupported ReasonCode = 0x1 // SEV-ES / GHCB protocol range not supported
	ReasonSNPUnsupported      ReasonCode = 0x2 // SEV-SNP features not supported
)

// Cocoon reason codes (ReasonSetCocoon).
const (
	ReasonGHCBRegistration ReasonCode = 0x1 // GHCB GPA registration failed
	ReasonPageStateChange  ReasonCode = 0x2 // page state change failed
	ReasonPValidate        ReasonCode = 0x3 // PVALIDATE failed
	ReasonCPUID            ReasonCode = 0x4 // CPUID not answerable from the CPUID page
	ReasonSecretsPage      ReasonCode = 0x5 // secrets page malformed
	ReasonGHCBProtocol     ReasonCode = 0x6 // GHCB exit answered in violation of the protocol
	ReasonVC               ReasonCode = 0x7 // #VC for an event or instruction Cocoon does not serve
	ReasonMMIO             ReasonCode = 0x8 // MMIO to a private page, or not a plain move
	ReasonPowerOff         ReasonCode = 0x9 // orderly power-off: the guest's work is done
	ReasonBoot             ReasonCode = 0xA // the entry path cannot place the kernel or lacks the SNP pages
	ReasonSecureTSC        ReasonCode = 0xB // Secure TSC on, but its frequency is unusable or the host intercepts the TSC
)

func (r Reason) String() string {
	var name string
	switch r {
	case Reason{ReasonSetGeneral, ReasonGeneral}:
		name = "general termination request"
	case Reason{ReasonSetGeneral, ReasonProtocolUnsupported}:
		name = "GHCB protocol range not supported"
	case Reason{ReasonSetGeneral, ReasonSNPUnsupported}:
		name = "SEV-SNP features not supported"
	case Reason{ReasonSetCocoon, ReasonGHCBRegistration}:
		name = "GHCB GPA registration failed"
	case Reason{ReasonSetCocoon, ReasonPageStateChange}:
		name = "page state change failed"
	case Reason{ReasonSetCocoon, ReasonPValidate}:
		name = "PVALIDATE failed"
	case Reason{ReasonSetCocoon, ReasonCPUID}:
		name = "CPUID not in the CPUID page"
	case Reason{ReasonSetCocoon, ReasonSecretsPage}:
		name = "secrets page malformed"
	case Reason{ReasonSetCocoon, ReasonGHCBProtocol}:
		name = "GHCB protocol violation"
	case Reason{ReasonSetCocoon, ReasonVC}:
		name = "#VC not served"
	case Reason{ReasonSetCocoon, ReasonMMIO}:
		name = "MMIO refused"
	case Reason{ReasonSetCocoon, ReasonPowerOff}:
		name = "power-off"
	case Reason{ReasonSetCocoon, ReasonBoot}:
		name = "boot layout refused"
	case Reason{ReasonSetCocoon, ReasonSecureTSC}:
		name = "Secure TSC unusable"
	default:
		name = "unknown"
	}
	return fmt.Sprintf("set %#x code %#x (%s)", uint8(r.Set), uint8(r.Code), name)
}

// Terminal is implemented by errors after which the guest cannot safely
// continue; TerminationReason says what to report to the hypervisor.
type Terminal interface {
	error
	TerminationReason() Reason
}

// ReasonFor returns the termination reason carried by err (or any error it
// wraps), and the general reason if it carries none.
func ReasonFor(err error) Reason {
	var t Terminal
	if errors.As(err, &t) {
		return t.TerminationReason()
	}
	return Reason{Set: ReasonSetGeneral, Code: ReasonGeneral}
}

// TerminateRequest returns the termination request word for r. Set is
// truncated to 4 bits.
func TerminateRequest(r Reason) Word {
	return Word(uint64(r.Set&0xF)<<termSetShift|uint64(r.Code)<<termCodeShift) | Word(InfoTerminateRequest)
}

// DecodeTerminateRequest decodes a termination request (as a hypervisor
// would).
func DecodeTerminateRequest(w Word) (Reason, error) {
	if w.Info() != InfoTerminateRequest || uint64(w)&termReserved != 0 {
		return Reason{}, fmt.Errorf("not a termination request: %#016x", uint64(w))
	}
	return Reason{Set: ReasonSet(w >> termSetShift & 0xF), Code: ReasonCode(w >> termCodeShift)}, nil
}
