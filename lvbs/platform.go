package lvbs

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Machine is the boot VP: CPUID, MSRs, and the hypercall page.
type Machine interface {
	hv.Prober
	hv.MSRAccess
	hv.Hypercaller
}

// Pages are the secure kernel's pages the platform gives the hypervisor:
// the hypercall page's GPA (an overlay: TLFS Hypercall Interface,
// "Establishing the Hypercall Interface"), the VP assist page, the SynIC
// message page, and one input and one output page for hypercalls.
type Pages struct {
	Hypercall, Assist, SIMP, In, Out hv.Page
}

// InterceptVector is the vector SINT0 raises for intercept messages: the
// vector Linux uses for Hyper-V callbacks (HYPERVISOR_CALLBACK_VECTOR,
// arch/x86/include/asm/irq_vectors.h), which lvbs-linux's secure kernel
// also programs into SINT0 (mshv_vsm_per_cpu_synic_init).
const InterceptVector = 0xF3

// Platform is the Hyper-V interface of the boot VP.
type Platform struct {
	ID      hv.Identity
	HV      *hv.Client
	Offsets hv.CodePageOffsets
	m       Machine
	pages   Pages
}

// Start brings up the interface, in the order of TLFS Hypercall Interface
// "Establishing the Hypercall Interface" (detect, guest OS ID, hypercall
// MSR), then the VP assist page (TLFS "Virtual Processor Assist Page"),
// the SynIC (SIMP, SINT0 unmasked, SCONTROL), and reads
// HvRegisterVsmCodePageOffsets. Each MSR is read back: a hypervisor that
// ignores a write stops the boot here rather than later.
func Start(m Machine, p Pages) (*Platform, error) {
	for _, pg := range []hv.Page{p.Hypercall, p.Assist, p.SIMP, p.In, p.Out} {
		if pg.GPA%hv.PageSize != 0 {
			return nil, fmt.Errorf("lvbs: page %#x is not page-aligned", pg.GPA)
		}
	}
	id, err := hv.Detect(m)
	if err != nil {
		return nil, err
	}
	if m.ReadMSR(hv.MSRGuestOSID) == 0 {
		m.WriteMSR(hv.MSRGuestOSID, hv.CocoonOSID.Word())
	}
	if m.ReadMSR(hv.MSRGuestOSID) == 0 {
		return nil, fmt.Errorf("lvbs: the hypervisor ignored the guest OS ID")
	}
	if err := enablePage(m, hv.MSRHypercall, "hypercall", p.Hypercall.GPA); err != nil {
		return nil, err
	}
	if err := enablePage(m, hv.MSRVPAssistPage, "VP assist", p.Assist.GPA); err != nil {
		return nil, err
	}
	clear(p.SIMP.Mem)
	if err := enablePage(m, hv.MSRSIMP, "SynIC message", p.SIMP.GPA); err != nil {
		return nil, err
	}
	sint := hv.SINT(m.ReadMSR(hv.MSRSINT0 + hv.InterceptSINT)).Unmasked(InterceptVector)
	m.WriteMSR(hv.MSRSINT0+hv.InterceptSINT, uint64(sint))
	m.WriteMSR(hv.MSRSControl, m.ReadMSR(hv.MSRSControl)|hv.SControlEnable)
	if m.ReadMSR(hv.MSRSControl)&hv.SControlEnable == 0 || hv.SINT(m.ReadMSR(hv.MSRSINT0+hv.InterceptSINT)).Masked() {
		return nil, fmt.Errorf("lvbs: the hypervisor did not enable the SynIC or SINT0")
	}
	pl := &Platform{ID: id, HV: &hv.Client{HC: m, In: p.In, Out: p.Out}, m: m, pages: p}
	off, err := pl.HV.GetVpRegister(hv.CurrentVTL, hv.RegVsmCodePageOffsets)
	if err != nil {
		return nil, fmt.Errorf("lvbs: reading the VSM code page offsets: %w", err)
	}
	pl.Offsets = hv.CodePageOffsets(off)
	if err := pl.Offsets.Validate(); err != nil {
		return nil, err
	}
	return pl, nil
}

func enablePage(m Machine, msr uint32, what string, gpa uint64) error {
	old := hv.PageMSR(m.ReadMSR(msr))
	if old.Enabled() && old.GPA() == gpa {
		return nil
	}
	if old.Locked() {
		return fmt.Errorf("lvbs: the %s page is locked at %#x", what, old.GPA())
	}
	v, err := hv.EnablePage(old, gpa)
	if err != nil {
		return err
	}
	m.WriteMSR(msr, uint64(v))
	if got := hv.PageMSR(m.ReadMSR(msr)); !got.Enabled() || got.GPA() != gpa {
		return fmt.Errorf("lvbs: the hypervisor did not enable the %s page at %#x (MSR %#x reads %#x)", what, gpa, msr, uint64(got))
	}
	return nil
}

// Switcher returns to VTL0 through the hypercall page's VTL return
// sequence (at Offsets.VtlReturn(): TLFS VSM, "Hypercall Page Assist";
// a non-fast return, so VTL0's RAX and RCX come from the VP assist page)
// with the shared registers loaded from r, and comes back at the next
// entry into VTL1 with VTL0's shared registers saved into r. It reports
// false when no entry will come (the end of a simulation).
type Switcher interface {
	VTLReturn(r *vtlcall.Regs) bool
}

// Boot starts the services for the boot call whose registers are regs (the
// VP's first entry into VTL1, at the initial context VTL0 built) and puts
// the status where VTL0 reads it. On failure the services are nil: Serve
// then answers every call with ENODEV, so VTL0 is never left waiting.
//
// The platform's own pages (hypercall input and output, VP assist, SIMP)
// must lie in the secure kernel's range, which Boot takes from VTL0: in
// VTL0 memory, VTL0 could read and rewrite hypercall inputs and forge
// entry reasons and intercept messages.
func (p *Platform) Boot(cfg vsm.Config, regs *vtlcall.Regs) (*vsm.Secure, error) {
	args := vtlcall.Boot(vtlcall.FromRegs(regs))
	var s *vsm.Secure
	var err error
	for _, pg := range []hv.Page{p.pages.Hypercall, p.pages.Assist, p.pages.SIMP, p.pages.In, p.pages.Out} {
		if pg.GPA < args.Start || pg.GPA+hv.PageSize > args.End || pg.GPA+hv.PageSize < pg.GPA {
			err = fmt.Errorf("lvbs: platform page %#x lies outside the secure kernel %#x-%#x", pg.GPA, args.Start, args.End)
		}
	}
	if err == nil {
		s, err = vsm.Boot(cfg, args)
	}
	regs.R8 = vtlcall.Status(0)
	if err != nil {
		regs.R8 = vtlcall.Status(vtlcall.EINVAL)
	}
	return s, err
}

// Serve is the VTL call loop. regs holds VTL0's shared registers from the
// last entry, with any results already in place.
func (p *Platform) Serve(sw Switcher, s *vsm.Secure, regs *vtlcall.Regs) {
	for {
		// VTL0's RAX and RCX as they were at entry: the VTL call
		// sequence uses them, so the non-fast return restores them
		// (TLFS datatypes/hv_vp_vtl_control.md, VtlReturnX64Rax/Rcx).
		hv.SetVtlReturnRegs(p.pages.Assist.Mem, regs.Rax, regs.Rcx)
		if !sw.VTLReturn(regs) {
			return
		}
		ctl, err := hv.DecodeVtlControl(p.pages.Assist.Mem)
		if err != nil {
			if s != nil {
				s.Logf("cocoon vtl1: %v; returning to VTL0 unchanged", err)
			}
			continue
		}
		switch ctl.Reason {
		case hv.EntryVtlCall:
			a := vtlcall.FromRegs(regs)
			if s == nil {
				a.A3 = vtlcall.Status(vtlcall.ENODEV)
			} else {
				a = s.Call(a)
			}
			a.ToRegs(regs)
		case hv.EntryInterrupt:
			slot := hv.Slot(p.pages.SIMP.Mem, hv.InterceptSINT)
			eom := slot[6]&1 != 0
			if s != nil {
				eom = s.Intercept(slot)
			} else {
				hv.ClearMessage(slot)
			}
			if eom {
				p.m.WriteMSR(hv.MSREOM, 0)
			}
		}
	}
}
