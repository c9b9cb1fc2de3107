package ghcbmsr

import (
	"errors"
	"fmt"
)

// CPU is the privileged machine interface the protocol needs. In the guest
// kernel it is RDMSR/WRMSR of MSR and the VMGEXIT instruction (REP VMMCALL);
// in tests it is a fake hypervisor that answers on VMGEXIT.
type CPU interface {
	ReadGHCBMSR() uint64
	WriteGHCBMSR(v uint64)
	VMGEXIT()
}

// Call performs one MSR-protocol exchange: write req to the GHCB MSR, exit
// to the hypervisor, and read its answer. The MSR is left holding the
// answer; GHCB users rewrite the GHCB GPA before each exit.
func Call(cpu CPU, req Word) Word {
	cpu.WriteGHCBMSR(uint64(req))
	cpu.VMGEXIT()
	return Word(cpu.ReadGHCBMSR())
}

// VersionError reports that the hypervisor supports no GHCB protocol
// version the guest does.
type VersionError struct {
	Hypervisor SEVInfo
	Min, Max   uint16 // the guest's range
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("GHCB protocol: hypervisor supports versions %d-%d, guest needs %d-%d",
		e.Hypervisor.MinVersion, e.Hypervisor.MaxVersion, e.Min, e.Max)
}

// TerminationReason implements Terminal.
func (e *VersionError) TerminationReason() Reason {
	return Reason{Set: ReasonSetGeneral, Code: ReasonProtocolUnsupported}
}

// Negotiate asks for the hypervisor's SEV information and picks the highest
// GHCB protocol version in both its range and [min, max].
func Negotiate(cpu CPU, min, max uint16) (info SEVInfo, version uint16, err error) {
	info, err = DecodeSEVInfo(Call(cpu, SEVInfoRequest()))
	if err != nil {
		return SEVInfo{}, 0, err
	}
	version = max
	if info.MaxVersion < version {
		version = info.MaxVersion
	}
	if version < min || version < info.MinVersion {
		return info, 0, &VersionError{Hypervisor: info, Min: min, Max: max}
	}
	return info, version, nil
}

// FeatureError reports that the hypervisor lacks required features.
type FeatureError struct {
	Have, Want Features
}

func (e *FeatureError) Error() string {
	return fmt.Sprintf("hypervisor features %#x lack required %#x", uint64(e.Have), uint64(e.Want&^e.Have))
}

// TerminationReason implements Terminal.
func (e *FeatureError) TerminationReason() Reason {
	return Reason{Set: ReasonSetGeneral, Code: ReasonSNPUnsupported}
}

// HypervisorFeatures asks for the hypervisor's feature bitmap and checks
// that it includes want.
func HypervisorFeatures(cpu CPU, want Features) (Features, error) {
	f, err := DecodeHypervisorFeatures(Call(cpu, HypervisorFeaturesRequest()))
	if err != nil {
		return 0, err
	}
	if f&want != want {
		return f, &FeatureError{Have: f, Want: want}
	}
	return f, nil
}

// RegisterGHCB registers gfn as this vCPU's GHCB and checks the echo.
func RegisterGHCB(cpu CPU, gfn uint64) error {
	req, err := RegisterGHCBRequest(gfn)
	if err != nil {
		return err
	}
	return DecodeRegisterGHCBResponse(Call(cpu, req), gfn)
}

// PageStateChange asks the hypervisor to make the 4 KiB page at gfn
// private or shared in the RMP. It does not PVALIDATE.
func PageStateChange(cpu CPU, gfn uint64, op PageOp) error {
	req, err := PageStateChangeRequest(gfn, op)
	if err != nil {
		return err
	}
	return DecodePageStateChangeResponse(Call(cpu, req), gfn, op)
}

// ErrNotTerminated is returned by Terminate when the hypervisor resumed the
// guest after a termination request. The caller must stop the CPU.
var ErrNotTerminated = errors.New("GHCB termination request: hypervisor resumed the guest; halting is the only safe action")

// Terminate asks the hypervisor to end the guest with reason r. A
// conforming hypervisor never returns; if it does, Terminate returns
// ErrNotTerminated.
func Terminate(cpu CPU, r Reason) error {
	cpu.WriteGHCBMSR(uint64(TerminateRequest(r)))
	cpu.VMGEXIT()
	return ErrNotTerminated
}
