package vsm_test

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

func TestPinCR4(t *testing.T) {
	r := newRig(t, nil)
	if _, errno := r.call(vtlcall.FuncPinRegister, uint64(hv.RegCR4), vsm.CR4SMEP|vsm.CR4SMAP, 0); errno != 0 {
		t.Fatalf("errno %d", errno)
	}
	ctl := hv.CrInterceptControl(r.h.VTL1[hv.RegCrInterceptControl].Low)
	if ctl != hv.InterceptCr4Write || r.h.VTL1[hv.RegCrInterceptCr4Mask].Low != vsm.CR4SMEP|vsm.CR4SMAP {
		t.Errorf("intercept control %#x, CR4 mask %#x", uint64(ctl), r.h.VTL1[hv.RegCrInterceptCr4Mask].Low)
	}
	// Clearing SMEP: intercepted, refused with #GP, CR4 unchanged.
	rip := r.h.VTL0[hv.RegRip].Low
	if !r.h.VTL0WriteCR(hv.RegCR4, hvtest.DefaultCR4&^vsm.CR4SMEP) {
		t.Fatal("clearing a pinned bit was not intercepted")
	}
	r.intercept(t)
	if r.h.VTL0[hv.RegCR4].Low != hvtest.DefaultCR4 || len(r.h.Injected) != 1 || r.h.VTL0[hv.RegRip].Low != rip {
		t.Errorf("CR4 %#x, injected %v, RIP moved to %#x", r.h.VTL0[hv.RegCR4].Low, r.h.Injected, r.h.VTL0[hv.RegRip].Low)
	}
	if !strings.Contains(string(r.s.Log()), "refused VTL0 write of 0x2706f0 to Cr4") {
		t.Errorf("log %q", r.s.Log())
	}
	// Toggling PGE alone is not even intercepted (the mask register).
	if r.h.VTL0WriteCR(hv.RegCR4, hvtest.DefaultCR4&^vsm.CR4PGE) {
		t.Error("a write keeping the pinned bits was intercepted")
	}
	// A write that changes a pinned bit and an unpinned one, when the
	// hypervisor traps it anyway: the pinned bits decide.
	r.h.VTL0[hv.RegCR4] = hv.RegisterValue{Low: hvtest.DefaultCR4}
	if !r.h.VTL0WriteCR(hv.RegCR4, hvtest.DefaultCR4&^(vsm.CR4SMAP|vsm.CR4PGE)) {
		t.Fatal("not intercepted")
	}
	r.intercept(t)
	if len(r.h.Injected) != 2 {
		t.Errorf("injected %d", len(r.h.Injected))
	}
}

func TestPinAllowsConformingWrite(t *testing.T) {
	r := newRig(t, nil)
	r.call(vtlcall.FuncPinRegister, uint64(hv.RegCR0), vsm.CR0WP, 0)
	// Make the hypervisor trap every CR0 write, as it may: a write that
	// keeps WP is completed by VTL1 for VTL0 and RIP moves past it.
	r.h.VTL1[hv.RegCrInterceptCr0Mask] = hv.RegisterValue{Low: ^uint64(0)}
	rip := r.h.VTL0[hv.RegRip].Low
	if !r.h.VTL0WriteCR(hv.RegCR0, hvtest.DefaultCR0|1<<3) { // set TS
		t.Fatal("not intercepted")
	}
	r.intercept(t)
	if r.h.VTL0[hv.RegCR0].Low != hvtest.DefaultCR0|1<<3 || r.h.VTL0[hv.RegRip].Low != rip+3 || len(r.h.Injected) != 0 {
		t.Errorf("CR0 %#x RIP %#x (want +3) injected %v", r.h.VTL0[hv.RegCR0].Low, r.h.VTL0[hv.RegRip].Low, r.h.Injected)
	}
}

func TestPinMSRAndLockRegs(t *testing.T) {
	r := newRig(t, nil)
	if _, errno := r.call(vtlcall.FuncPinRegister, hv.MSRLstar, ^uint64(0), 0); errno != 0 {
		t.Fatal(errno)
	}
	lstar := r.h.VTL0[hv.RegLstar].Low
	if !r.h.VTL0WriteMSR(hv.MSRLstar, 0x4141_4141) {
		t.Fatal("WRMSR LSTAR not intercepted")
	}
	r.intercept(t)
	if r.h.VTL0[hv.RegLstar].Low != lstar || len(r.h.Injected) != 1 {
		t.Errorf("LSTAR %#x injected %v", r.h.VTL0[hv.RegLstar].Low, r.h.Injected)
	}
	// LOCK_REGS pins the LVBS set on top.
	if _, errno := r.call(vtlcall.FuncLockRegs, 0, 0, 0); errno != 0 {
		t.Fatal(errno)
	}
	ctl := hv.CrInterceptControl(r.h.VTL1[hv.RegCrInterceptControl].Low)
	for _, bit := range []hv.CrInterceptControl{hv.InterceptCr0Write, hv.InterceptCr4Write, hv.InterceptGdtrWrite, hv.InterceptIdtrWrite, hv.InterceptLdtrWrite, hv.InterceptTrWrite, hv.InterceptEferWrite, hv.InterceptSfmaskWrite, hv.InterceptLstarWrite} {
		if ctl&bit == 0 {
			t.Errorf("intercept bit %#x missing from %#x", uint64(bit), uint64(ctl))
		}
	}
	if m, _, _ := r.s.Pinned(hv.RegCR0); m != vsm.CR0PE|vsm.CR0WP|vsm.CR0PG {
		t.Errorf("CR0 pin mask %#x", m)
	}
	if m, _, _ := r.s.Pinned(hv.RegCR4); m&vsm.CR4PGE != 0 || m&vsm.CR4SMEP == 0 {
		t.Errorf("CR4 pin mask %#x", m)
	}
	// Bad requests.
	for _, c := range [][2]uint64{{uint64(hv.RegCR4), 0}, {0x10, 1}, {uint64(hv.RegCR3), 1}, {1 << 40, 1}} {
		if _, errno := r.call(vtlcall.FuncPinRegister, c[0], c[1], 0); errno != vtlcall.EINVAL {
			t.Errorf("PIN(%#x, %#x) errno %d", c[0], c[1], errno)
		}
	}
	r.call(vtlcall.FuncEndOfBoot, 0, 0, 0)
	if _, errno := r.call(vtlcall.FuncLockRegs, 0, 0, 0); errno != vtlcall.EINVAL {
		t.Errorf("LOCK_REGS after end of boot: errno %d", errno)
	}
}

func TestPinFailuresLeaveNoPin(t *testing.T) {
	r := newRig(t, nil)
	r.h.Fail[hv.CallSetVpRegisters] = hv.StatusAccessDenied
	if _, errno := r.call(vtlcall.FuncPinRegister, uint64(hv.RegCR4), vsm.CR4SMEP, 0); errno != vtlcall.EIO {
		t.Errorf("errno %d", errno)
	}
	if _, _, ok := r.s.Pinned(hv.RegCR4); ok {
		t.Error("pin recorded though the intercept was not installed")
	}
}

func TestHostileIntercepts(t *testing.T) {
	r := newRig(t, nil)
	r.call(vtlcall.FuncPinRegister, uint64(hv.RegCR4), vsm.CR4SMEP, 0)
	for _, c := range []struct {
		name string
		t    hv.MessageType
		p    []byte
	}{
		{"short GPA", hv.MsgGpaIntercept, make([]byte, 10)},
		{"unpinned register", hv.MsgRegisterIntercept, hv.EncodeRegisterIntercept(hv.RegisterIntercept{InterceptHeader: hv.InterceptHeader{InstructionLength: 3, Access: hv.AccessWrite}, Name: hv.RegCR3})},
		{"register read", hv.MsgRegisterIntercept, hv.EncodeRegisterIntercept(hv.RegisterIntercept{InterceptHeader: hv.InterceptHeader{InstructionLength: 3, Access: hv.AccessRead}, Name: hv.RegCR4, Value: hv.RegisterValue{Low: hvtest.DefaultCR4}})},
		{"no instruction length", hv.MsgRegisterIntercept, hv.EncodeRegisterIntercept(hv.RegisterIntercept{InterceptHeader: hv.InterceptHeader{Access: hv.AccessWrite}, Name: hv.RegCR4, Value: hv.RegisterValue{Low: hvtest.DefaultCR4}})},
		{"unknown MSR", hv.MsgMsrIntercept, hv.EncodeMsrIntercept(hv.MsrIntercept{InterceptHeader: hv.InterceptHeader{InstructionLength: 2, Access: hv.AccessWrite}, MSR: 0x10})},
		{"unpinned MSR", hv.MsgMsrIntercept, hv.EncodeMsrIntercept(hv.MsrIntercept{InterceptHeader: hv.InterceptHeader{InstructionLength: 2, Access: hv.AccessWrite}, MSR: hv.MSREfer})},
	} {
		n := len(r.h.Injected)
		r.h.Post(c.t, c.p)
		r.intercept(t)
		if len(r.h.Injected) != n+1 {
			t.Errorf("%s: not refused", c.name)
		}
	}
	if r.h.VTL0[hv.RegCR3].Low != 0 || r.h.VTL0[hv.RegCR4].Low != hvtest.DefaultCR4 {
		t.Error("a hostile intercept changed VTL0 registers")
	}
	// A timer message on the intercept SINT is ignored, not acted on.
	n := len(r.h.Injected)
	r.h.Post(hv.MsgTimerExpired, nil)
	r.intercept(t)
	if len(r.h.Injected) != n {
		t.Error("a timer message caused an injection")
	}
}

func TestCPUMasks(t *testing.T) {
	r := newRig(t, nil)
	mask := r.h.Mem(0x20_0000, 8)
	mask[0] = 1
	if _, errno := r.call(vtlcall.FuncEnableAPsVtl, 0x200, 0, 0); errno != 0 {
		t.Errorf("boot CPU only: errno %d", errno)
	}
	mask[0] = 0b1011
	if _, errno := r.call(vtlcall.FuncEnableAPsVtl, 0x200, 0, 0); errno != vtlcall.EOPNOTSUPP {
		t.Errorf("secondary CPUs: errno %d", errno)
	}
	if !strings.Contains(string(r.s.Log()), "CPUs 0xa: they stay parked") {
		t.Errorf("log %q", r.s.Log())
	}
	if _, errno := r.call(vtlcall.FuncBootAPs, skStart/hv.PageSize, 0, 0); errno != vtlcall.EFAULT {
		t.Errorf("mask in the secure kernel: errno %d", errno)
	}
	if _, errno := r.call(vtlcall.FuncBootAPs, 1<<50, 0, 0); errno != vtlcall.EINVAL {
		t.Errorf("huge PFN: errno %d", errno)
	}
	if _, errno := r.call(0x1FFFD, 0, 0, 0); errno != vtlcall.EINVAL {
		t.Errorf("unknown function: errno %d", errno)
	}
	if _, errno := r.call(vtlcall.FuncLoadKData, 0, 0, 0); errno != vtlcall.EOPNOTSUPP {
		t.Errorf("LOAD_KDATA: errno %d", errno)
	}
	out, errno := r.call(vtlcall.FuncLogInfo, 0, 0, 0)
	if errno != 0 || out.A1 != logGPA || out.A2 != logPages*hv.PageSize {
		t.Errorf("LOG_INFO %+v errno %d", out, errno)
	}
	got, err := vsm.ReadLog(r.h.Mem(out.A1, int(out.A2)))
	if err != nil || !strings.HasPrefix(string(got), "cocoon vtl1: secure kernel") {
		t.Errorf("VTL0's read of the log: %q %v", got, err)
	}
}
