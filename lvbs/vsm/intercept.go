package vsm

import (
	"github.com/cocoon-vm/cocoon/lvbs/hv"
)

// Intercept serves the secure intercept message in slot, the SIMP page's
// SINT0 slot (hv.InterceptSINT), after an interrupt entry. It empties the
// slot and reports whether the hypervisor has more messages queued, in
// which case the caller writes the EOM MSR (TLFS datatypes/hv_message.md,
// MessagePending).
//
// Policy (as mshv_vsm_handle_intercept): a GPA intercept is refused; a
// write to a pinned register is applied for VTL0 when it keeps the pinned
// bits and refused otherwise; GDTR/IDTR/LDTR/TR writes are refused.
// Refusing injects #GP into VTL0 and logs the access. Anything malformed
// or unexpected is refused and logged too: Cocoon never completes an
// access it cannot check.
func (s *Secure) Intercept(slot []byte) (eom bool) {
	m, err := hv.DecodeMessage(slot)
	if err != nil {
		s.Logf("cocoon vtl1: malformed SynIC message: %v", err)
		hv.ClearMessage(slot)
		return slot[6]&1 != 0
	}
	switch m.Type {
	case hv.MsgNone:
		return m.Pending
	case hv.MsgGpaIntercept:
		s.gpaIntercept(m.Payload)
	case hv.MsgRegisterIntercept:
		s.registerIntercept(m.Payload)
	case hv.MsgMsrIntercept:
		s.msrIntercept(m.Payload)
	default:
		s.Logf("cocoon vtl1: unexpected SynIC message %v on the intercept SINT; ignored", m.Type)
	}
	hv.ClearMessage(slot)
	return m.Pending
}

func (s *Secure) gpaIntercept(p []byte) {
	g, err := hv.DecodeGpaIntercept(p)
	if err != nil {
		s.Logf("cocoon vtl1: malformed GPA intercept: %v", err)
		s.refuse()
		return
	}
	why := "a page VTL0 may not touch"
	if f, ok := s.prot[g.Gpa/hv.PageSize]; ok {
		why = "a page protected " + f.String()
	} else if g.Gpa >= s.boot.Start && g.Gpa < s.boot.End {
		why = "the secure kernel"
	}
	s.Logf("cocoon vtl1: refused VTL0 %v of GPA %#x (%s) at RIP %#x", g.Access, g.Gpa, why, g.Rip)
	s.refuse()
}

func (s *Secure) registerIntercept(p []byte) {
	r, err := hv.DecodeRegisterIntercept(p)
	if err != nil {
		s.Logf("cocoon vtl1: malformed register intercept: %v", err)
		s.refuse()
		return
	}
	if r.Access != hv.AccessWrite {
		s.Logf("cocoon vtl1: refused VTL0 %v of %v at RIP %#x: Cocoon traps writes only", r.Access, r.Name, r.Rip)
		s.refuse()
		return
	}
	switch r.Name {
	case hv.RegCR0, hv.RegCR4:
		s.checkedWrite(r.InterceptHeader, r.Name, r.Value.Low)
	default:
		s.Logf("cocoon vtl1: refused VTL0 write of %#x to %v at RIP %#x", r.Value.Low, r.Name, r.Rip)
		s.refuse()
	}
}

func (s *Secure) msrIntercept(p []byte) {
	m, err := hv.DecodeMsrIntercept(p)
	if err != nil {
		s.Logf("cocoon vtl1: malformed MSR intercept: %v", err)
		s.refuse()
		return
	}
	name, _, ok := hv.MSRRegister(m.MSR)
	if !ok || m.Access != hv.AccessWrite {
		s.Logf("cocoon vtl1: refused VTL0 %v of MSR %#x at RIP %#x", m.Access, m.MSR, m.Rip)
		s.refuse()
		return
	}
	s.checkedWrite(m.InterceptHeader, name, m.Value())
}

// checkedWrite applies a trapped register write for VTL0 if it keeps the
// pinned bits, completing the instruction (RIP past it); else refuses it.
func (s *Secure) checkedWrite(h hv.InterceptHeader, name hv.RegisterName, v uint64) {
	p, ok := s.pins[name]
	if !ok {
		s.Logf("cocoon vtl1: refused VTL0 write of %#x to %v at RIP %#x: not a register Cocoon traps", v, name, h.Rip)
		s.refuse()
		return
	}
	if v&p.mask != p.value&p.mask {
		s.Logf("cocoon vtl1: refused VTL0 write of %#x to %v at RIP %#x: pinned bits %#x must stay %#x", v, name, h.Rip, p.mask, p.value&p.mask)
		s.refuse()
		return
	}
	if h.InstructionLength == 0 {
		s.Logf("cocoon vtl1: refused VTL0 write to %v at RIP %#x: the hypervisor reports no instruction length", name, h.Rip)
		s.refuse()
		return
	}
	regs := []hv.Assoc{
		{Name: name, Value: hv.RegisterValue{Low: v}},
		{Name: hv.RegRip, Value: hv.RegisterValue{Low: h.Rip + uint64(h.InstructionLength)}},
	}
	if err := s.cfg.HV.SetVpRegisters(hv.TargetVTL(0), regs); err != nil {
		s.Logf("cocoon vtl1: completing VTL0 write to %v: %v", name, err)
		s.refuse()
		return
	}
	s.Logf("cocoon vtl1: allowed VTL0 write of %#x to %v (pinned bits kept)", v, name)
}

// refuse injects #GP(0) into VTL0 (HvRegisterPendingEvent0; as
// mshv_vsm_vtl1.c __raise_vtl0_gp_fault).
func (s *Secure) refuse() {
	ev := hv.PendingException(hv.VectorGP, 0, true, 0)
	if err := s.cfg.HV.SetVpRegisters(hv.TargetVTL(0), []hv.Assoc{{Name: hv.RegPendingEvent0, Value: ev}}); err != nil {
		s.Logf("cocoon vtl1: injecting #GP into VTL0: %v", err)
	}
}
