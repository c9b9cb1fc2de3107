package snp

// Guest memory under SNP: every private page must be validated
// (PVALIDATE) before use, exactly once, and a page shared with the host
// must first lose its validation. Boot context: //go:nosplit, no
// allocation.

import (
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// PVALIDATE results in RAX (AMD APM vol. 3, "PVALIDATE", table of return
// codes).
const (
	PValidateOK           = 0
	PValidateFailInput    = 1
	PValidateFailPerm     = 2
	PValidateSizeMismatch = 6
)

const (
	page4K = 4 << 10
	page2M = 2 << 20
)

// Validate validates size bytes of guest memory at guest-physical pa,
// which the kernel maps at va (the firmware left it unaccepted: UEFI
// EfiUnacceptedMemoryType). It first asks the hypervisor to assign the
// pages to the guest (page state change to private, MSR protocol, one
// exit per 4 KiB page, as OVMF and Linux do before they accept memory),
// then uses 2 MiB PVALIDATEs where pa and the remaining size allow,
// falling back to 4 KiB pages when the RMP holds the range as 4 KiB
// entries (FAIL_SIZEMISMATCH). Any other failure, and a page that was
// already validated (CF set: validating twice is how a hypervisor would
// alias guest memory), stops it.
//
//go:nosplit
func (p *Platform) Validate(pa, size uint64, va uintptr) (ghcbmsr.Reason, bool) {
	if pa%page4K != 0 || size%page4K != 0 || uint64(va)%page4K != 0 {
		return reason(ghcbmsr.ReasonPValidate), false
	}
	// PVALIDATE takes a virtual address: check it reaches pa through a
	// private mapping, or the wrong page would be validated.
	if got, private, ok := p.m.Translate(uint64(va)); !ok || !private || got != pa {
		return reason(ghcbmsr.ReasonPValidate), false
	}
	for gfn := pa / page4K; gfn < (pa+size)/page4K; gfn++ {
		if !p.pageState(gfn, ghcbmsr.PagePrivate) {
			return reason(ghcbmsr.ReasonPageStateChange), false
		}
	}
	for size > 0 {
		if pa%page2M == 0 && size >= page2M && uint64(va)%page2M == 0 {
			ret, unchanged := p.m.PValidate(va, true, true)
			if ret == PValidateOK && !unchanged {
				pa, va, size = pa+page2M, va+page2M, size-page2M
				continue
			}
			if ret != PValidateSizeMismatch {
				return reason(ghcbmsr.ReasonPValidate), false
			}
			for i := 0; i < page2M/page4K; i++ {
				if !p.validate4K(va+uintptr(i)*page4K, true) {
					return reason(ghcbmsr.ReasonPValidate), false
				}
			}
			pa, va, size = pa+page2M, va+page2M, size-page2M
			continue
		}
		if !p.validate4K(va, true) {
			return reason(ghcbmsr.ReasonPValidate), false
		}
		pa, va, size = pa+page4K, va+page4K, size-page4K
	}
	return ghcbmsr.Reason{}, true
}

//go:nosplit
func (p *Platform) validate4K(va uintptr, on bool) bool {
	ret, unchanged := p.m.PValidate(va, false, on)
	return ret == PValidateOK && !unchanged
}

// Share turns pages 4 KiB pages of private memory at guest-physical pa
// (mapped at va) into memory shared with the host: validation rescinded
// first, so the guest can never again use the page as private without
// validating it anew, then the page state change through the MSR
// protocol (GHCB spec section 2.3.1, GHCBInfo 0x014), which works before
// any GHCB is registered. The caller then maps the pages with the C-bit
// clear and must not touch them through a private mapping again.
//
//go:nosplit
func (p *Platform) Share(pa uint64, va uintptr, pages int) (ghcbmsr.Reason, bool) {
	if pa%page4K != 0 {
		return reason(ghcbmsr.ReasonPageStateChange), false
	}
	for i := 0; i < pages; i++ {
		if !p.validate4K(va+uintptr(i)*page4K, false) {
			return reason(ghcbmsr.ReasonPValidate), false
		}
		if !p.pageState(pa/page4K+uint64(i), ghcbmsr.PageShared) {
			return reason(ghcbmsr.ReasonPageStateChange), false
		}
	}
	return ghcbmsr.Reason{}, true
}

// pageState asks for one 4 KiB page's state change through the MSR
// protocol (GHCB spec section 2.3.1, GHCBInfo 0x014/0x015).
//
//go:nosplit
func (p *Platform) pageState(gfn uint64, op ghcbmsr.PageOp) bool {
	w, ok := ghcbmsr.PageStateWord(gfn, op)
	if !ok {
		return false
	}
	p.Exits.PSC++
	return ghcbmsr.PageStateDone(p.msrCall(w))
}
