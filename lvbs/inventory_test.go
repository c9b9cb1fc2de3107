package lvbs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// TestHostExitsCoverBehaviour runs bring-up, boot and every service
// against the fake and checks that each hypercall code made and each MSR
// written is listed in hal.LVBSExits, the inventory mkimage inspect shows.
func TestHostExitsCoverBehaviour(t *testing.T) {
	h := hvtest.New(testPages)
	pages := testPlatformPages(h)
	p, err := Start(h, pages)
	if err != nil {
		t.Fatal(err)
	}
	v := &vtl0{h: h, assist: pages.Assist.Mem}
	v.steps = []func(*vtlcall.Regs){
		v.call(vtlcall.Args{A0: vtlcall.FuncProtectPages, A1: 0x40_0000, A2: 1, A3: vsm.AttrRead}),
		v.call(vtlcall.Args{A0: vtlcall.FuncLockRegs}),
		func(r *vtlcall.Regs) {
			h.VTL0Write(0x40_0000, []byte{1})
			h.VTL0WriteCR(hv.RegCR4, 0) // queued behind the first: EOM
			hv.SetEntryReason(v.assist, hv.EntryInterrupt)
		},
		func(r *vtlcall.Regs) { hv.SetEntryReason(v.assist, hv.EntryInterrupt) },
	}
	regs := vtlcall.Regs{Rdi: 1, Rsi: 32 << 20, Rdx: 48 << 20, R8: 64 << 20}
	s, err := p.Boot(vsm.Config{HV: p.HV, Mem: h, Log: h.Mem(33<<20, hv.PageSize), LogGPA: 33 << 20}, &regs)
	if err != nil {
		t.Fatal(err)
	}
	p.Serve(v, s, &regs)
	var listed strings.Builder
	for _, e := range hal.LVBSExits {
		fmt.Fprintf(&listed, "%s %s\n", e.Kind, e.Place())
	}
	codes := map[hv.CallCode]bool{}
	for _, c := range h.Calls {
		codes[c.Code()] = true
	}
	if len(codes) != 3 {
		t.Errorf("scenario made hypercalls %v; want the three the platform uses", codes)
	}
	for c := range codes {
		if !strings.Contains(listed.String(), fmt.Sprintf("hypercall %#04x", uint16(c))) {
			t.Errorf("hypercall %v is not in hal.LVBSExits", c)
		}
	}
	for msr := range h.MSRs {
		if !strings.Contains(listed.String(), fmt.Sprintf("msr %#x", msr)) {
			t.Errorf("MSR %#x is written but not in hal.LVBSExits", msr)
		}
	}
	if _, ok := h.MSRs[hv.MSREOM]; !ok {
		t.Error("the scenario did not exercise EOM")
	}
}
