package hvtest

import "github.com/cocoon-vm/cocoon/lvbs/hv"

// Simulated VTL0 accesses. Each either happens, or, when a VTL1 protection
// or register intercept forbids it, becomes an intercept message in the
// SINT0 slot of VTL1's SIMP page (TLFS VSM, "Memory Access Violations" and
// "Secure Register Intercepts"); the caller then enters VTL1 as an
// interrupt. Messages queue behind an occupied slot and are delivered on
// EOM.

// InterceptSlot is the SINT0 message slot, or nil while SIMP is disabled.
func (h *Hypervisor) InterceptSlot() []byte {
	simp := hv.PageMSR(h.MSRs[hv.MSRSIMP])
	if !simp.Enabled() || simp.GPA()+hv.PageSize > h.Size() {
		return nil
	}
	return hv.Slot(h.Mem(simp.GPA(), hv.PageSize), hv.InterceptSINT)
}

type message struct {
	t       hv.MessageType
	payload []byte
}

func (h *Hypervisor) post(t hv.MessageType, payload []byte) {
	slot := h.InterceptSlot()
	if slot == nil {
		panic("hvtest: intercept with SIMP disabled")
	}
	if hv.MessageType(le32(slot)) != hv.MsgNone {
		slot[6] |= 1 // MessagePending
		h.queue = append(h.queue, message{t, payload})
		return
	}
	if err := hv.EncodeMessage(slot, t, false, hv.PartitionSelf, payload); err != nil {
		panic(err)
	}
}

// eom delivers the next queued message, as the hypervisor does on a write
// of the EOM MSR.
func (h *Hypervisor) eom() {
	slot := h.InterceptSlot()
	if len(h.queue) == 0 || slot == nil || hv.MessageType(le32(slot)) != hv.MsgNone {
		return
	}
	m := h.queue[0]
	h.queue = h.queue[1:]
	if err := hv.EncodeMessage(slot, m.t, len(h.queue) > 0, hv.PartitionSelf, m.payload); err != nil {
		panic(err)
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func (h *Hypervisor) header(access hv.AccessType, length uint8) hv.InterceptHeader {
	return hv.InterceptHeader{VP: h.InterceptVP, InstructionLength: length, Access: access,
		Cs: hv.SegmentRegister{Selector: 0x10, Attributes: 0xA09B}, Rip: h.VTL0[hv.RegRip].Low, Rflags: 0x2}
}

// VTL0Write simulates a VTL0 store of data at gpa. It reports whether the
// store was intercepted (and did not happen).
func (h *Hypervisor) VTL0Write(gpa uint64, data []byte) (intercepted bool) {
	for p := gpa / hv.PageSize; p <= (gpa+uint64(len(data))-1)/hv.PageSize; p++ {
		if f, ok := h.Prot[p]; ok && f&hv.MapWrite == 0 {
			g := hv.GpaIntercept{InterceptHeader: h.header(hv.AccessWrite, 3), Gpa: max(gpa, p*hv.PageSize),
				Gva: 0xFFFF_8880_0000_0000 + gpa, GvaValid: true, InstructionBytes: []byte{0x48, 0x89, 0x07}}
			h.post(hv.MsgGpaIntercept, hv.EncodeGpaIntercept(g))
			return true
		}
	}
	if err := h.WritePhys(gpa, data); err != nil {
		panic(err)
	}
	return false
}

// VTL0WriteCR simulates MOV to CR0 or CR4 (name hv.RegCR0 or hv.RegCR4).
// With the write intercept installed, a write that changes a bit of the
// mask register is intercepted (TLFS VSM, "Mask Registers").
func (h *Hypervisor) VTL0WriteCR(name hv.RegisterName, v uint64) (intercepted bool) {
	bit, mask := hv.InterceptCr0Write, h.VTL1[hv.RegCrInterceptCr0Mask].Low
	if name == hv.RegCR4 {
		bit, mask = hv.InterceptCr4Write, h.VTL1[hv.RegCrInterceptCr4Mask].Low
	}
	ctl := hv.CrInterceptControl(h.VTL1[hv.RegCrInterceptControl].Low)
	if ctl&bit != 0 && (v^h.VTL0[name].Low)&mask != 0 {
		r := hv.RegisterIntercept{InterceptHeader: h.header(hv.AccessWrite, 3), Name: name, Value: hv.RegisterValue{Low: v}}
		h.post(hv.MsgRegisterIntercept, hv.EncodeRegisterIntercept(r))
		return true
	}
	h.VTL0[name] = hv.RegisterValue{Low: v}
	return false
}

// VTL0WriteMSR simulates WRMSR.
func (h *Hypervisor) VTL0WriteMSR(msr uint32, v uint64) (intercepted bool) {
	name, bit, ok := hv.MSRRegister(msr)
	ctl := hv.CrInterceptControl(h.VTL1[hv.RegCrInterceptControl].Low)
	if ok && ctl&bit != 0 {
		m := hv.MsrIntercept{InterceptHeader: h.header(hv.AccessWrite, 2), MSR: msr, Rdx: v >> 32, Rax: v & 0xFFFF_FFFF}
		h.post(hv.MsgMsrIntercept, hv.EncodeMsrIntercept(m))
		return true
	}
	if ok {
		h.VTL0[name] = hv.RegisterValue{Low: v}
	}
	return false
}

// Post puts an arbitrary message in the intercept slot: for hostile tests.
func (h *Hypervisor) Post(t hv.MessageType, payload []byte) { h.post(t, payload) }
