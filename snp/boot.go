package snp

// Boot context: the platform's takeover of the GHCB protocol, which the
// UEFI entry runs before the kernel's Go runtime starts (boot/snp.go),
// and tests run on the host. The write barriers are off then, so storing
// the configuration's pointers is harmless; nothing here may allocate or
// grow the stack (//go:nosplit), and nothing may raise #VC.

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/secrets"
)

// Init takes over the GHCB protocol from the firmware: it checks the
// hypervisor's protocol range and SNP support (MSR protocol), registers
// the GHCB page at the start of the shared window and checks the echo,
// and checks the CPUID and secrets pages' headers. The window must
// already be shared (Start does that first). On failure it returns the
// reason to terminate with. Boot context.
//
//go:nosplit
func (p *Platform) Init(c *Config) (ghcbmsr.Reason, bool) {
	if r, ok := p.prepare(c); !ok {
		return r, false
	}
	return p.register()
}

// prepare takes c, checks the CPUID and secrets pages, and negotiates
// the protocol through the MSR protocol alone (GHCB spec section 2.3.1:
// SEV information, then hypervisor features), which needs no GHCB.
//
//go:nosplit
func (p *Platform) prepare(c *Config) (ghcbmsr.Reason, bool) {
	p.m, p.status = c.Machine, c.Status
	if p.status.Kind != SNP {
		return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetGeneral, Code: ghcbmsr.ReasonSNPUnsupported}, false
	}
	if len(c.Shared) < SharedPages*ghcb.PageSize || c.SharedGPA%ghcb.PageSize != 0 {
		return reason(ghcbmsr.ReasonGHCBRegistration), false
	}
	p.shared, p.sharedGPA = c.Shared[:SharedPages*ghcb.PageSize], c.SharedGPA
	p.ghcb = (*ghcb.Page)(p.shared[sharedGHCB*ghcb.PageSize:])
	p.ghcbGPA = c.SharedGPA + sharedGHCB*ghcb.PageSize
	p.cpuid = c.CPUIDPage
	if r, ok := p.checkCPUIDPage(); !ok {
		return r, false
	}
	if r, ok := checkSecretsPage(c.SecretsPage); !ok {
		return r, false
	}
	p.secrets = c.SecretsPage
	p.excl = c.Exclusive

	info, ok := ghcbmsr.ParseSEVInfo(p.msrCall(ghcbmsr.SEVInfoRequest()))
	if !ok || info.MaxVersion < minVersion || info.MinVersion > maxVersion {
		return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetGeneral, Code: ghcbmsr.ReasonProtocolUnsupported}, false
	}
	p.version = min(info.MaxVersion, maxVersion)
	// The hypervisor's C-bit must be the one CPUID (from the CPUID page)
	// reported: a disagreement means one of them is lying.
	if info.CBit != p.status.CBit {
		return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetGeneral, Code: ghcbmsr.ReasonSNPUnsupported}, false
	}
	feat, ok := ghcbmsr.ParseHypervisorFeatures(p.msrCall(ghcbmsr.HypervisorFeaturesRequest()))
	if !ok || feat&ghcbmsr.FeatureSNP == 0 {
		return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetGeneral, Code: ghcbmsr.ReasonSNPUnsupported}, false
	}
	return ghcbmsr.Reason{}, true
}

// register registers the GHCB page and checks the echo.
//
//go:nosplit
func (p *Platform) register() (ghcbmsr.Reason, bool) {
	gfn := p.ghcbGPA / ghcb.PageSize
	w, ok := ghcbmsr.RegisterWord(gfn)
	if !ok || !ghcbmsr.RegisterEchoed(p.msrCall(w), gfn) {
		return reason(ghcbmsr.ReasonGHCBRegistration), false
	}
	return ghcbmsr.Reason{}, true
}

// Start brings the platform up on a boot path, in the order SNP demands
// (GHCB spec section 2.3.1; Linux does the same): the CPUID and secrets
// pages are checked and the protocol negotiated (prepare); the shared
// window's pages, mapped private at va (on hardware, c.Shared's own
// address), are rescinded and converted to shared (Share); mapShared, the
// boot path's, then maps those pages with the C-bit clear at va; the
// window is zeroed through that mapping; and its first page is
// registered as the GHCB. Nothing may raise #VC before Start returns.
// On failure it returns the reason to terminate with. Boot context.
//
//go:nosplit
func (p *Platform) Start(c *Config, va uintptr, mapShared func(va uintptr, pages int)) (ghcbmsr.Reason, bool) {
	if r, ok := p.prepare(c); !ok {
		return r, false
	}
	// Share checks nothing about va: the window must be the private
	// mapping of SharedGPA, or the wrong pages would lose validation.
	if !p.windowMapped(va, true) {
		return reason(ghcbmsr.ReasonPageStateChange), false
	}
	if r, ok := p.Share(c.SharedGPA, va, SharedPages); !ok {
		return r, false
	}
	mapShared(va, SharedPages)
	if !p.windowMapped(va, false) {
		return reason(ghcbmsr.ReasonPageStateChange), false
	}
	clear(p.shared)
	return p.register()
}

// windowMapped reports whether every page of the shared window is mapped
// at va, private or shared as asked.
//
//go:nosplit
func (p *Platform) windowMapped(va uintptr, private bool) bool {
	for i := 0; i < SharedPages; i++ {
		off := uint64(i) * ghcb.PageSize
		pa, priv, ok := p.m.Translate(uint64(va) + off)
		if !ok || priv != private || pa != p.sharedGPA+off {
			return false
		}
	}
	return true
}

// checkSecretsPage checks the secrets page version (SNP Firmware ABI,
// table "Secrets Page Format": version 2 or 3; snp/secrets parses it).
//
//go:nosplit
func checkSecretsPage(page []byte) (ghcbmsr.Reason, bool) {
	if len(page) < secrets.PageSize {
		return reason(ghcbmsr.ReasonSecretsPage), false
	}
	v := binary.LittleEndian.Uint32(page)
	if v != secrets.Version2 && v != secrets.Version3 {
		return reason(ghcbmsr.ReasonSecretsPage), false
	}
	return ghcbmsr.Reason{}, true
}
