package lvbs

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// vtlReturn is the VTL switch (switch_amd64.s): it saves VTL1's extended
// state and restores VTL0's (fp), loads VTL0's shared registers from r but
// RAX and RCX, calls target, the VTL return sequence
// of the hypercall page, with RCX = 0 (a non-fast return: VTL0's RAX and
// RCX come from the VP assist page; TLFS vsm.md "VTL Return"), and, when
// the next entry into VTL1 returns from that call, stores every shared
// register, which now holds VTL0's value, into r, then saves VTL0's
// extended state and restores VTL1's. RSP and RIP are private to VTL1
// (TLFS vsm.md, "Private State"), so its stack frame survives.
//
// With dbg set, it also loads VTL0's CR2 and debug registers from dbg
// right before the call and stores them into dbg right after it (see
// DebugRegs); nil leaves them alone (host tests run at CPL3).
//
//go:noescape
func vtlReturn(r *vtlcall.Regs, target uintptr, fp *fpAreas, dbg *DebugRegs)

// DebugRegs are VTL0's values of the registers besides the general ones
// that the VTLs share (TLFS vsm.md, "Shared State": CR2 and DR0-DR5)
// and that VTL1's own work may change: a page fault in VTL1 writes CR2.
// DR4 and DR5 are the architectural aliases of DR6 and DR7 (Intel SDM
// vol. 3, 18.2.2 "Debug Registers DR4 and DR5"), so DR6 is kept, and DR7
// is private to each VTL. The switch saves them when VTL0 enters and
// loads them back before it returns; the boot entry saves them at the
// boot call. Order in memory: CR2, DR0, DR1, DR2, DR3, DR6.
type DebugRegs struct {
	CR2, DR0, DR1, DR2, DR3, DR6 uint64
}

// PageSwitcher is the Switcher of a real VTL1: VTL returns through the
// hypercall page mapped at Page, at the offset HvRegisterVsmCodePageOffsets
// gave.
type PageSwitcher struct {
	target uintptr
	fp     *FPState
	// Debug, when set, holds VTL0's CR2 and debug registers across
	// VTL1's work (the kernel sets it; nil on the host).
	Debug *DebugRegs
}

// NewPageSwitcher returns the switcher for the hypercall page mapped
// (executable) at page, with its extended-state areas (NewFPState).
func NewPageSwitcher(page uintptr, off hv.CodePageOffsets) (*PageSwitcher, error) {
	if err := off.Validate(); err != nil {
		return nil, err
	}
	if page == 0 || page%hv.PageSize != 0 {
		return nil, fmt.Errorf("lvbs: hypercall page mapped at %#x", page)
	}
	fp, err := NewFPState()
	if err != nil {
		return nil, err
	}
	return &PageSwitcher{target: page + uintptr(off.VtlReturn()), fp: fp}, nil
}

// VTLReturn implements Switcher. On Hyper-V every return is followed by
// an entry, so it never reports false.
func (s *PageSwitcher) VTLReturn(r *vtlcall.Regs) bool {
	vtlReturn(r, s.target, &s.fp.areas, s.Debug)
	return true
}
