package vsm_test

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// secureInvariants checks what no input may change: VTL0 has no access to
// the secure kernel but for reading its log ring.
func secureInvariants(t *testing.T, h *hvtest.Hypervisor) {
	t.Helper()
	for _, p := range []uint64{skStart, logGPA - hv.PageSize, logGPA + logPages*hv.PageSize, skEnd - hv.PageSize} {
		if f := h.Prot[p/hv.PageSize]; f != hv.MapNone {
			t.Fatalf("secure page %#x gave VTL0 %v", p, f)
		}
	}
	if f := h.Prot[logGPA/hv.PageSize]; f != hv.MapRead {
		t.Fatalf("log page gave VTL0 %v", f)
	}
}

// FuzzVTLCall feeds VTL0-chosen call sequences to the services: no panic,
// every status 0 or a negative errno, the secure kernel stays protected,
// and a pinned CR4 bit keeps its value.
func FuzzVTLCall(f *testing.F) {
	f.Add(uint64(vtlcall.FuncProtectPages), uint64(0x40_0000), uint64(1), uint64(vsm.AttrRead), uint64(vtlcall.FuncPinRegister), uint64(hv.RegCR4), uint64(vsm.CR4SMEP), uint64(0))
	f.Add(uint64(vtlcall.FuncProtectMemory), uint64(0x10_0000), uint64(3), uint64(0), uint64(vtlcall.FuncLockRegs), uint64(0), uint64(0), uint64(0))
	f.Add(uint64(vtlcall.FuncProtectPages), uint64(skStart), uint64(4), uint64(7), uint64(vtlcall.AppFirst), uint64(0x30_0000), uint64(4096), uint64(skStart))
	f.Add(uint64(vtlcall.FuncEnableAPsVtl), uint64(0x200), uint64(0), uint64(0), uint64(vtlcall.FuncBootAPs), uint64(1<<40), uint64(7), uint64(0))
	f.Fuzz(func(t *testing.T, a0, a1, a2, a3, b0, b1, b2, b3 uint64) {
		r := newRig(t, nil)
		// A plausible heki list for PROTECT_MEMORY seeds, and junk.
		binary.LittleEndian.PutUint64(r.h.Mem(0x10_0000+16, 8), a2&0xFF)
		binary.LittleEndian.PutUint64(r.h.Mem(0x10_0000+24+8, 8), a1)
		binary.LittleEndian.PutUint64(r.h.Mem(0x10_0000+24+16, 8), a1+a3)
		binary.LittleEndian.PutUint64(r.h.Mem(0x10_0000+24+24, 8), b3&0xF)
		cr4 := r.h.VTL0[hv.RegCR4].Low
		pinned := false
		for _, a := range []vtlcall.Args{{A0: a0, A1: a1, A2: a2, A3: a3}, {A0: vtlcall.FuncPinRegister, A1: uint64(hv.RegCR4), A2: vsm.CR4SMEP}, {A0: b0, A1: b1, A2: b2, A3: b3}} {
			if a.A0 >= vtlcall.AppFirst && a.A0 <= vtlcall.AppLast {
				continue // no application attached: covered by its own tests
			}
			out := r.s.Call(a)
			st := vtlcall.StatusOf(out.A3)
			if st > 0 || st < -4095 {
				t.Fatalf("%s: status %d", vtlcall.Name(a.A0), st)
			}
			if a.A0 == vtlcall.FuncPinRegister && a.A1 == uint64(hv.RegCR4) && a.A2&vsm.CR4SMEP != 0 && st == 0 {
				pinned = true
			}
		}
		secureInvariants(t, r.h)
		// Once SMEP is pinned, clearing it is refused whatever came
		// before or after.
		if r.h.VTL0WriteCR(hv.RegCR4, cr4&^vsm.CR4SMEP) {
			r.s.Intercept(r.h.InterceptSlot())
		}
		if pinned && r.h.VTL0[hv.RegCR4].Low&vsm.CR4SMEP == 0 {
			t.Fatal("pinned SMEP was cleared")
		}
	})
}

// FuzzIntercept feeds hypervisor-written intercept messages: no panic, the
// slot is emptied, and no pinned bit or protected byte changes.
func FuzzIntercept(f *testing.F) {
	f.Add(uint32(hv.MsgRegisterIntercept), byte(64), hv.EncodeRegisterIntercept(hv.RegisterIntercept{InterceptHeader: hv.InterceptHeader{InstructionLength: 3, Access: hv.AccessWrite}, Name: hv.RegCR4, Value: hv.RegisterValue{Low: 0x6F0}}))
	f.Add(uint32(hv.MsgMsrIntercept), byte(64), hv.EncodeMsrIntercept(hv.MsrIntercept{InterceptHeader: hv.InterceptHeader{InstructionLength: 2, Access: hv.AccessWrite}, MSR: hv.MSRLstar, Rax: 0x41}))
	f.Add(uint32(hv.MsgGpaIntercept), byte(80), hv.EncodeGpaIntercept(hv.GpaIntercept{InterceptHeader: hv.InterceptHeader{InstructionLength: 3, Access: hv.AccessWrite}, Gpa: 0x40_0000}))
	f.Add(uint32(0x12345), byte(255), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, typ uint32, size byte, payload []byte) {
		r := newRig(t, nil)
		r.call(vtlcall.FuncPinRegister, uint64(hv.RegCR4), vsm.CR4SMEP, 0)
		r.call(vtlcall.FuncPinRegister, hv.MSRLstar, ^uint64(0), 0)
		cr4, lstar := r.h.VTL0[hv.RegCR4].Low, r.h.VTL0[hv.RegLstar].Low
		slot := r.h.InterceptSlot()
		copy(slot[16:], payload)
		binary.LittleEndian.PutUint32(slot, typ)
		slot[7] = size
		r.s.Intercept(slot)
		if binary.LittleEndian.Uint32(slot) != 0 && typ != 0 {
			t.Fatal("slot not emptied")
		}
		if (r.h.VTL0[hv.RegCR4].Low^cr4)&vsm.CR4SMEP != 0 || r.h.VTL0[hv.RegLstar].Low != lstar {
			t.Fatalf("pinned register changed: CR4 %#x LSTAR %#x", r.h.VTL0[hv.RegCR4].Low, r.h.VTL0[hv.RegLstar].Low)
		}
		secureInvariants(t, r.h)
	})
}
