package snp

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/hal/pc"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/secrets"
)

// GHCB protocol versions Cocoon speaks (GHCB spec section 2.2): version 2
// adds the SNP events (page state change, guest requests) it needs.
const (
	minVersion = 2
	maxVersion = 2
)

// Layout of the shared window, the guest memory the platform shares with
// the hypervisor, in pages: the GHCB, then the guest-request request and
// response pages, then the certificate area of extended requests. Nothing
// secret is ever written there (guest messages are sealed before).
const (
	sharedGHCB     = 0
	sharedRequest  = 1
	sharedResponse = 2
	sharedCerts    = 3
	// CertPages bounds the certificate table of an extended report
	// (VCEK, ASK, ARK and the table itself fit in 4 pages; 16 leaves
	// room for VLEK chains and others).
	CertPages = 16
	// SharedPages is the size of the shared window.
	SharedPages = sharedCerts + CertPages
)

// Config is what the boot path found and prepared for the platform.
type Config struct {
	Machine Machine
	Status  Status // from Detect; Kind must be SNP

	// SharedGPA and Shared are the shared window: SharedPages pages the
	// kernel mapped with the C-bit clear and converted to shared (see
	// Platform.Share), as guest-physical address and guest view.
	SharedGPA uint64
	Shared    []byte

	// CPUIDPage is the SNP CPUID page (private; from the UEFI
	// confidential-computing blob or the IGVM parameter area).
	CPUIDPage []byte
	// SecretsPage is the SNP secrets page (private).
	SecretsPage []byte

	// Exclusive runs fn with nothing else using the GHCB: in the kernel,
	// with interrupts off. Nil runs fn as is (tests).
	Exclusive func(fn func())
}

// Platform is the SEV-SNP platform. Trap context: see the package comment.
type Platform struct {
	pc.PC // the devices, reached through #VC

	m         Machine
	status    Status
	version   uint16
	ghcb      *ghcb.Page
	ghcbGPA   uint64
	shared    []byte
	sharedGPA uint64
	cpuid     []byte
	secrets   []byte
	insn      [16]byte   // the instruction a #VC is about (one vCPU)
	regs      [16]uint64 // its general registers in ModRM order
	excl      func(func())

	// Exits counts VMGEXITs by kind: the host interface, measured.
	Exits ExitCounts
}

// ExitCounts counts host exits.
type ExitCounts struct {
	MSRProtocol uint64
	CPUIDServed uint64 // CPUIDs answered from the CPUID page: no exit
	IOIO        uint64
	MSR         uint64
	MMIO        uint64
	RDTSC       uint64
	PSC         uint64
	GuestReq    uint64
}

// reason is a Cocoon termination reason.
//
//go:nosplit
func reason(c ghcbmsr.ReasonCode) ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: c}
}

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

// msrCall is one MSR-protocol exchange (GHCB spec section 2.3.1).
//
//go:nosplit
func (p *Platform) msrCall(w ghcbmsr.Word) ghcbmsr.Word {
	p.Exits.MSRProtocol++
	p.m.WriteGHCBMSR(uint64(w))
	p.m.VMGEXIT()
	return ghcbmsr.Word(p.m.ReadGHCBMSR())
}

// Terminate asks the hypervisor to end the guest with reason r (GHCB spec
// section 2.3.1, termination request). On hardware it does not return; a
// hypervisor that resumes the guest anyway gets nothing more from it.
//
//go:nosplit
func (p *Platform) Terminate(r ghcbmsr.Reason) {
	p.m.WriteGHCBMSR(uint64(ghcbmsr.TerminateRequest(r)))
	p.m.VMGEXIT()
}

// Name implements hal.Platform.
//
//go:nosplit
func (p *Platform) Name() string { return "snp" }

// HostExits implements hal.Platform.
//
//go:nosplit
func (p *Platform) HostExits() []hal.HostExit { return hal.SNPExits }

// PowerOff implements hal.Platform: the status goes to QEMU's
// isa-debug-exit port, if the VMM has one (through #VC, like every port),
// then the guest asks to be terminated with the general reason. SNP has
// no other way to report a status to the host.
//
//go:nosplit
func (p *Platform) PowerOff(status int) {
	const debugExit = 0xf4 // QEMU hw/misc/debugexit.c, as hal/pc
	p.ghcb.Clear()
	p.ghcb.Put(ghcb.FieldRAX, uint64(uint32(status)))
	p.Exits.IOIO++
	p.exit(ghcb.ExitIOIO, debugExit<<ioioPortShift|ioioSize32, 0)
	p.Terminate(reason(ghcbmsr.ReasonPowerOff))
}

// IOIO intercept information (AMD APM vol. 2, 15.10.2 "IN and OUT
// Behavior", figure "EXITINFO1 for IOIO Intercept"), the SW_EXITINFO1 of
// the GHCB IOIO event.
const (
	ioioIn        = 1 << 0
	ioioSize32    = 1 << 6
	ioioPortShift = 16
)

// exit issues the NAE event code through the GHCB, whose inputs the
// caller put after p.ghcb.Clear(), and checks the result (GHCB spec
// section 4.1: SW_EXITINFO1[31:0] zero on success; the hypervisor must
// not change SW_EXITCODE).
//
//go:nosplit
func (p *Platform) exit(code ghcb.ExitCode, info1, info2 uint64) bool {
	out := p.issue(code, info1, info2)
	return out.code == uint64(code) && uint32(out.info1) == ghcb.ResultOK
}

// issue is the one GHCB exit path: it puts the exit code and information
// into the GHCB, stamps the protocol version, points the GHCB MSR at the
// page, executes VMGEXIT and reads the hypervisor's SW_EXITCODE,
// SW_EXITINFO1 and SW_EXITINFO2 once each (GHCB spec sections 2.3 and
// 4.1). Reading an output once is what keeps a hypervisor that rewrites
// the shared page from changing a value after it was checked.
//
//go:nosplit
func (p *Platform) issue(code ghcb.ExitCode, info1, info2 uint64) exitOutput {
	g := p.ghcb
	g.Put(ghcb.FieldSwExitCode, uint64(code))
	g.Put(ghcb.FieldSwExitInfo1, info1)
	g.Put(ghcb.FieldSwExitInfo2, info2)
	g.Stamp(p.version)
	p.m.WriteGHCBMSR(p.ghcbGPA)
	p.m.VMGEXIT()
	var out exitOutput
	out.code, _ = g.Take(ghcb.FieldSwExitCode)
	out.info1, _ = g.Take(ghcb.FieldSwExitInfo1)
	out.info2, _ = g.Take(ghcb.FieldSwExitInfo2)
	return out
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
