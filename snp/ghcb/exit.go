package ghcb

// Exit codes and results. Goroutine context: String and Error allocate.

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// ExitCode is the SW_EXITCODE of an exit (GHCB spec section 4, tables of
// automatic and non-automatic exit events; SVM intercept codes are from AMD
// APM vol. 2, appendix C "SVM Intercept Exit Codes").
type ExitCode uint64

// Exit codes Cocoon issues. Keeping them in one list keeps the image's
// host interface enumerable.
const (
	ExitCPUID              ExitCode = 0x72        // SVM_EXIT_CPUID
	ExitIOIO               ExitCode = 0x7B        // SVM_EXIT_IOIO
	ExitMSR                ExitCode = 0x7C        // SVM_EXIT_MSR
	ExitMMIORead           ExitCode = 0x8000_0001 // GHCB spec section 4.1, NAE events
	ExitMMIOWrite          ExitCode = 0x8000_0002
	ExitSNPGuestRequest    ExitCode = 0x8000_0011 // GHCB spec 4.1.7
	ExitSNPExtGuestRequest ExitCode = 0x8000_0012 // GHCB spec 4.1.8
	ExitHypervisorFeatures ExitCode = 0x8000_FFFD
	ExitUnsupportedEvent   ExitCode = 0x8000_FFFF
)

func (c ExitCode) String() string {
	switch c {
	case ExitCPUID:
		return "CPUID"
	case ExitIOIO:
		return "IOIO"
	case ExitMSR:
		return "MSR"
	case ExitMMIORead:
		return "MMIO read"
	case ExitMMIOWrite:
		return "MMIO write"
	case ExitSNPGuestRequest:
		return "SNP guest request"
	case ExitSNPExtGuestRequest:
		return "SNP extended guest request"
	case ExitHypervisorFeatures:
		return "hypervisor features"
	case ExitUnsupportedEvent:
		return "unsupported NAE event"
	}
	return fmt.Sprintf("exit %#x", uint64(c))
}

// Result codes in SW_EXITINFO1[31:0] after an exit (GHCB spec section 4.1,
// the hypervisor's return status of an NAE event).
const (
	ResultOK        = 0 // success
	ResultException = 1 // error; SW_EXITINFO2 holds an event to inject
	ResultGHCBError = 2 // error; SW_EXITINFO2 holds a GHCBError code
)

// GHCBErrorCode explains a ResultGHCBError (GHCB spec section 4.1, error
// codes returned in SW_EXITINFO2 when SW_EXITINFO1[31:0] is 2).
type GHCBErrorCode uint64

// GHCB error codes.
const (
	ErrNotRegistered      GHCBErrorCode = 1 // GHCB GPA not registered
	ErrInvalidUsage       GHCBErrorCode = 2 // unsupported GHCB usage value
	ErrInvalidScratchArea GHCBErrorCode = 3 // SW_SCRATCH outside the allowed area
	ErrMissingInput       GHCBErrorCode = 4 // an input field was not marked valid
	ErrInvalidInput       GHCBErrorCode = 5 // an input field holds an invalid value
	ErrInvalidEvent       GHCBErrorCode = 6 // unsupported exit code
)

func (c GHCBErrorCode) String() string {
	switch c {
	case ErrNotRegistered:
		return "GHCB not registered"
	case ErrInvalidUsage:
		return "invalid GHCB usage"
	case ErrInvalidScratchArea:
		return "invalid scratch area"
	case ErrMissingInput:
		return "missing input"
	case ErrInvalidInput:
		return "invalid input"
	case ErrInvalidEvent:
		return "invalid event"
	}
	return fmt.Sprintf("GHCB error %#x", uint64(c))
}

// ResultError reports a nonzero SW_EXITINFO1[31:0] after an exit.
type ResultError struct {
	Exit   ExitCode
	Result uint32 // SW_EXITINFO1[31:0]
	Info2  uint64 // SW_EXITINFO2
}

func (e *ResultError) Error() string {
	switch e.Result {
	case ResultException:
		return fmt.Sprintf("GHCB %v exit: hypervisor asks to inject event %#x", e.Exit, e.Info2)
	case ResultGHCBError:
		return fmt.Sprintf("GHCB %v exit: hypervisor reports %v", e.Exit, GHCBErrorCode(e.Info2))
	}
	return fmt.Sprintf("GHCB %v exit: unknown result %#x (SW_EXITINFO2 %#x)", e.Exit, e.Result, e.Info2)
}

// Result checks SW_EXITINFO1[31:0] of a GHCB read back after an exit.
func (g *GHCB) Result() error {
	if r := uint32(g.SwExitInfo1); r != ResultOK {
		return &ResultError{Exit: ExitCode(g.SwExitCode), Result: r, Info2: g.SwExitInfo2}
	}
	return nil
}

// ProtocolError reports a GHCB answer that violates the protocol in a way
// the guest cannot recover from.
type ProtocolError struct {
	Exit   ExitCode
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("GHCB %v exit: protocol violation: %s", e.Exit, e.Reason)
}

// TerminationReason implements ghcbmsr.Terminal.
func (e *ProtocolError) TerminationReason() ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonGHCBProtocol}
}
