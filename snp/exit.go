package snp

// Trap context: the platform's one way to the hypervisor, the MSR
// protocol and the GHCB exit (GHCB spec sections 2.3.1 and 4), used by
// the #VC handler, the boot steps and the guest requests alike.
// //go:nosplit, no allocation.

import (
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// msrCall is one MSR-protocol exchange (GHCB spec section 2.3.1).
//
//go:nosplit
func (p *Platform) msrCall(w ghcbmsr.Word) ghcbmsr.Word {
	p.Exits.MSRProtocol++
	p.m.WriteGHCBMSR(uint64(w))
	p.m.VMGEXIT()
	return ghcbmsr.Word(p.m.ReadGHCBMSR())
}

// Terminate asks the hypervisor to end the guest with reason r (GHCB spec
// section 2.3.1, termination request). On hardware it does not return; a
// hypervisor that resumes the guest anyway gets nothing more from it.
//
//go:nosplit
func (p *Platform) Terminate(r ghcbmsr.Reason) {
	p.m.WriteGHCBMSR(uint64(ghcbmsr.TerminateRequest(r)))
	p.m.VMGEXIT()
}

// exit issues the NAE event code through the GHCB, whose inputs the
// caller put after p.ghcb.Clear(), and checks the result (GHCB spec
// section 4.1: SW_EXITINFO1[31:0] zero on success; the hypervisor must
// not change SW_EXITCODE).
//
//go:nosplit
func (p *Platform) exit(code ghcb.ExitCode, info1, info2 uint64) bool {
	out := p.issue(code, info1, info2)
	return out.code == uint64(code) && uint32(out.info1) == ghcb.ResultOK
}

// issue is the one GHCB exit path: it puts the exit code and information
// into the GHCB, stamps the protocol version, points the GHCB MSR at the
// page, executes VMGEXIT and reads the hypervisor's SW_EXITCODE,
// SW_EXITINFO1 and SW_EXITINFO2 once each (GHCB spec sections 2.3 and
// 4.1). Reading an output once is what keeps a hypervisor that rewrites
// the shared page from changing a value after it was checked.
//
//go:nosplit
func (p *Platform) issue(code ghcb.ExitCode, info1, info2 uint64) exitOutput {
	g := p.ghcb
	g.Put(ghcb.FieldSwExitCode, uint64(code))
	g.Put(ghcb.FieldSwExitInfo1, info1)
	g.Put(ghcb.FieldSwExitInfo2, info2)
	g.Stamp(p.version)
	p.m.WriteGHCBMSR(p.ghcbGPA)
	p.m.VMGEXIT()
	var out exitOutput
	out.code, _ = g.Take(ghcb.FieldSwExitCode)
	out.info1, _ = g.Take(ghcb.FieldSwExitInfo1)
	out.info2, _ = g.Take(ghcb.FieldSwExitInfo2)
	return out
}

// exitOutput is what an exit returns, each field read once from the
// shared page.
type exitOutput struct {
	code, info1, info2 uint64
}
