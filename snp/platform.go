package snp

// Trap context: the platform's types and the hal.Platform methods the
// kernel calls from trap context. //go:nosplit, no allocation. boot.go
// holds the boot steps, exit.go the way to the hypervisor, vc.go the #VC
// handler, guest.go (goroutine context) the guest requests.

import (
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/hal/pc"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// GHCB protocol versions Cocoon speaks (GHCB spec section 2.2): version 2
// adds the SNP events (page state change, guest requests) it needs.
const (
	minVersion = 2
	maxVersion = 2
)

// Layout of the shared window, the guest memory the platform shares with
// the hypervisor, in pages: the GHCB, then the guest-request request and
// response pages, then the certificate area of extended requests, then
// the device memory. Nothing secret is ever written there (guest
// messages are sealed before; network frames are what the host sees on
// the wire anyway).
const (
	sharedGHCB     = 0
	sharedRequest  = 1
	sharedResponse = 2
	sharedCerts    = 3
	// CertPages bounds the certificate table of an extended report
	// (VCEK, ASK, ARK and the table itself fit in 4 pages; 16 leaves
	// room for VLEK chains and others).
	CertPages = 16
	// sharedDevice is the first of DevicePages pages for devices
	// (DeviceMemory): virtqueue rings and bounce buffers.
	sharedDevice = sharedCerts + CertPages
	// DevicePages is the device memory: 512 KiB, the virtio-net
	// driver's two 64-entry queues (3 ring pages and 32 buffer pages
	// each) and room for another device.
	DevicePages = 128
	// SharedPages is the size of the shared window.
	SharedPages = sharedDevice + DevicePages
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

	tscHz         uint64 // Secure TSC: the frequency calibrated with
	tscFactorUsed uint32 // and the secrets page's TSC_FACTOR in it

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
