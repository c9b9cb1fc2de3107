package lvbs

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// vtl0 plays VTL0 on the fake hypervisor: each step is what VTL0 does
// until it next enters VTL1. It records the shared registers VTL0 sees
// after each return (RAX and RCX from the VP assist page: a non-fast
// return).
type vtl0 struct {
	h      *hvtest.Hypervisor
	assist []byte
	steps  []func(r *vtlcall.Regs)
	seen   []vtlcall.Regs
}

func (v *vtl0) VTLReturn(r *vtlcall.Regs) bool {
	s := *r
	s.Rax, s.Rcx = hv.VtlReturnRegs(v.assist)
	v.seen = append(v.seen, s)
	if len(v.steps) == 0 {
		return false
	}
	step := v.steps[0]
	v.steps = v.steps[1:]
	step(r)
	return true
}

// call is a VTL call as hv_vsm_boot.c makes it: arguments in RDI, RSI,
// RDX, R8, RCX zero, RAX the hypercall page's VTL call address; the other
// registers hold whatever VTL0 had.
func (v *vtl0) call(a vtlcall.Args) func(r *vtlcall.Regs) {
	return func(r *vtlcall.Regs) {
		*r = vtlcall.Regs{Rax: 0xFFFF_C900_0000_0020, Rbx: 0xB, Rbp: 0xBB, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15}
		a.ToRegs(r)
		hv.SetEntryReason(v.assist, hv.EntryVtlCall)
	}
}

func TestServe(t *testing.T) {
	h := hvtest.New(testPages)
	pages := testPlatformPages(h)
	p, err := Start(h, pages)
	if err != nil {
		t.Fatal(err)
	}
	const sk, skEnd, logGPA = 32 << 20, 48 << 20, 33 << 20
	v := &vtl0{h: h, assist: pages.Assist.Mem}
	interrupted := vtlcall.Regs{Rax: 0x1234, Rcx: 0x5678, Rdi: 0xD1, Rsi: 0x51, Rdx: 0xD8, R8: 0x88, Rbx: 0xB}
	v.steps = []func(r *vtlcall.Regs){
		v.call(vtlcall.Args{A0: vtlcall.FuncProtectPages, A1: 0x40_0000, A2: 1, A3: vsm.AttrRead}),
		v.call(vtlcall.Args{A0: vtlcall.FuncPinRegister, A1: uint64(hv.RegCR4), A2: vsm.CR4SMEP}),
		v.call(vtlcall.Args{A0: vtlcall.FuncEndOfBoot}),
		// VTL0 stores into the page it made read-only: an intercept
		// interrupts it mid-instruction.
		func(r *vtlcall.Regs) {
			if !h.VTL0Write(0x40_0010, []byte{1}) {
				t.Fatal("write not intercepted")
			}
			*r = interrupted
			hv.SetEntryReason(v.assist, hv.EntryInterrupt)
		},
		// Garbage in the VP assist page: returned to VTL0 untouched.
		func(r *vtlcall.Regs) {
			*r = interrupted
			hv.SetEntryReason(v.assist, 7)
		},
		v.call(vtlcall.Args{A0: 0x1FFFF}),
	}
	regs := vtlcall.Regs{Rdi: 1, Rsi: sk, Rdx: skEnd, R8: 64 << 20}
	s, err := p.Boot(vsm.Config{HV: p.HV, Mem: h, Log: h.Mem(logGPA, hv.PageSize), LogGPA: logGPA}, &regs)
	if err != nil {
		t.Fatal(err)
	}
	p.Serve(v, s, &regs)
	if len(v.seen) != 7 {
		t.Fatalf("%d returns to VTL0, want 7", len(v.seen))
	}
	if vtlcall.StatusOf(v.seen[0].R8) != 0 {
		t.Errorf("boot call status %d", vtlcall.StatusOf(v.seen[0].R8))
	}
	for i := 1; i <= 3; i++ {
		got := v.seen[i]
		if vtlcall.StatusOf(got.R8) != 0 || got.Rbx != 0xB || got.Rbp != 0xBB || got.R9 != 9 || got.R15 != 15 || got.Rax != 0xFFFF_C900_0000_0020 || got.Rcx != 0 {
			t.Errorf("return %d: VTL0 sees %+v", i, got)
		}
	}
	// The intercepted store: refused, and VTL0's registers all intact.
	if v.seen[4] != interrupted || len(h.Injected) != 1 {
		t.Errorf("after the intercept VTL0 sees %+v (want %+v), injected %v", v.seen[4], interrupted, h.Injected)
	}
	if v.seen[5] != interrupted {
		t.Errorf("after a garbage entry VTL0 sees %+v", v.seen[5])
	}
	if vtlcall.StatusOf(v.seen[6].R8) != -vtlcall.EINVAL {
		t.Errorf("unknown function: status %d", vtlcall.StatusOf(v.seen[6].R8))
	}
	log := string(s.Log())
	for _, want := range []string{"refused VTL0 write of GPA 0x400010", "entry reason 7", "end of boot"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestServeAfterFailedBoot(t *testing.T) {
	h := hvtest.New(testPages)
	pages := testPlatformPages(h)
	p, err := Start(h, pages)
	if err != nil {
		t.Fatal(err)
	}
	v := &vtl0{h: h, assist: pages.Assist.Mem}
	v.steps = []func(*vtlcall.Regs){v.call(vtlcall.Args{A0: vtlcall.FuncProtectPages, A1: 0x40_0000, A2: 1, A3: vsm.AttrRead})}
	regs := vtlcall.Regs{Rdi: 0, Rsi: 32 << 20, Rdx: 48 << 20, R8: 64 << 20} // zero CPUs
	s, err := p.Boot(vsm.Config{HV: p.HV, Mem: h, Log: h.Mem(33<<20, hv.PageSize), LogGPA: 33 << 20}, &regs)
	if err == nil || s != nil {
		t.Fatal("boot with zero CPUs succeeded")
	}
	p.Serve(v, s, &regs)
	if vtlcall.StatusOf(v.seen[0].R8) != -vtlcall.EINVAL || vtlcall.StatusOf(v.seen[1].R8) != -vtlcall.ENODEV {
		t.Errorf("statuses %d, %d", vtlcall.StatusOf(v.seen[0].R8), vtlcall.StatusOf(v.seen[1].R8))
	}
	if len(h.Prot) != 0 {
		t.Error("protections applied without a booted secure kernel")
	}
}

func TestBootRefusesPagesInVTL0Memory(t *testing.T) {
	h := hvtest.New(testPages)
	pages := testPlatformPages(h)
	pages.In = h.Page(0x10_0000) // hypercall input VTL0 could rewrite
	p, err := Start(h, pages)
	if err != nil {
		t.Fatal(err)
	}
	regs := vtlcall.Regs{Rdi: 1, Rsi: 32 << 20, Rdx: 48 << 20, R8: 64 << 20}
	s, err := p.Boot(vsm.Config{HV: p.HV, Mem: h, Log: h.Mem(33<<20, hv.PageSize), LogGPA: 33 << 20}, &regs)
	if err == nil || s != nil || vtlcall.StatusOf(regs.R8) != -vtlcall.EINVAL {
		t.Errorf("boot with the input page at 1 MiB: %v, status %d", err, vtlcall.StatusOf(regs.R8))
	}
}
