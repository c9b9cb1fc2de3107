package ghcbmsr

import "errors"

// CPU is the privileged machine interface the protocol needs. In the guest
// kernel it is RDMSR/WRMSR of MSR and the VMGEXIT instruction (REP VMMCALL);
// in tests it is a fake hypervisor that answers on VMGEXIT.
type CPU interface {
	ReadGHCBMSR() uint64
	WriteGHCBMSR(v uint64)
	VMGEXIT()
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
