package snp

// Detection: CPUID says whether the processor can run encrypted guests
// and where the C-bit is; the SEV_STATUS MSR, which the hypervisor cannot
// intercept, says what this guest actually is. Boot context.

// CPUID Fn8000_001F, "Encrypted Memory Capabilities" (AMD APM vol. 3,
// appendix E.4.17).
const (
	LeafMaxExtended = 0x8000_0000
	LeafEncryption  = 0x8000_001F

	cpuidSEV   = 1 << 1 // EAX bit 1: SEV supported
	cpuidSEVES = 1 << 3 // EAX bit 3: SEV-ES supported
	cpuidSNP   = 1 << 4 // EAX bit 4: SEV-SNP supported

	cbitMask = 0x3f // EBX[5:0]: C-bit position in a page table entry
)

// MSRSEVStatus is SEV_STATUS (AMD APM vol. 2, 15.34.10 "SEV_STATUS MSR"):
// read-only, and reads of it never reach the hypervisor.
const MSRSEVStatus = 0xC001_0131

// SEV_STATUS bits (AMD APM vol. 2, 15.34.10, table "SEV_STATUS MSR
// Fields").
const (
	StatusSEV                 = 1 << 0
	StatusSEVES               = 1 << 1
	StatusSNP                 = 1 << 2
	StatusVTOM                = 1 << 3
	StatusReflectVC           = 1 << 4
	StatusRestrictedInjection = 1 << 5
	StatusAlternateInjection  = 1 << 6
	StatusDebugSwap           = 1 << 7
	StatusPreventHostIBS      = 1 << 8
	StatusBTBIsolation        = 1 << 9
	StatusVMPLSSS             = 1 << 10
	StatusSecureTSC           = 1 << 11
	StatusVMSARegProt         = 1 << 16
	StatusSMTProtection       = 1 << 17

	// statusTransparent are the features that change nothing the guest
	// must do (hypervisor-side debug register swap and IBS/BTB/SMT
	// protections, VMSA register protection), as Linux's
	// SNP_FEATURES_PRESENT and its not-required set.
	statusTransparent = StatusDebugSwap | StatusPreventHostIBS | StatusBTBIsolation |
		StatusVMSARegProt | StatusSMTProtection

	// statusImplemented are the features that need guest support Cocoon
	// has: Secure TSC (tsc.go). Every other bit (vTOM, which makes the
	// C-bit meaningless; restricted or alternate injection, which deliver
	// #HV instead of interrupts; reflect-#VC, VMPL supervisor shadow
	// stacks, and bits not yet defined) asks for guest support Cocoon
	// does not have.
	statusImplemented = StatusSecureTSC
)

// Kind is what detection found.
type Kind uint8

// Kinds.
const (
	NotEncrypted Kind = iota // no SEV: the generic platform
	SNP                      // an SEV-SNP guest: this platform
	// Unsupported is an encrypted guest Cocoon cannot run as: SEV or
	// SEV-ES without SNP (no RMP, no validated memory), SNP with a
	// feature that needs guest support Cocoon lacks, or SEV_STATUS bits
	// that contradict each other.
	Unsupported
)

// Status is the outcome of Detect.
type Status struct {
	Kind Kind
	// SEVStatus is the SEV_STATUS MSR (0 when CPUID reports no SEV and
	// the MSR was not read).
	SEVStatus uint64
	// CBit is the position of the encryption bit in page table entries.
	CBit uint8
}

// CBitMask is the page-table-entry bit that marks a mapping private.
//
//go:nosplit
func (s Status) CBitMask() uint64 {
	if s.Kind != SNP {
		return 0
	}
	return 1 << s.CBit
}

// SecureTSC reports whether the guest runs with SEV-SNP Secure TSC
// (SEV_STATUS bit 11): the TSC it reads is scaled and offset by the
// processor with values the PSP set at launch, out of the hypervisor's
// reach.
//
//go:nosplit
func (s Status) SecureTSC() bool { return s.Kind == SNP && s.SEVStatus&StatusSecureTSC != 0 }

// Prober reads what detection needs. In the kernel it executes CPUID and
// RDMSR; before the #VC handler exists, CPUID is served by the firmware's
// (under UEFI) or is not intercepted (no SEV-ES).
type Prober interface {
	CPUID(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
	ReadMSR(msr uint32) uint64
}

// Detect decides the platform. SEV_STATUS is read only when CPUID
// advertises SEV: on other processors the MSR does not exist and reading
// it faults.
//
//go:nosplit
func Detect(p Prober) Status {
	if max, _, _, _ := p.CPUID(LeafMaxExtended, 0); max < LeafEncryption {
		return Status{}
	}
	eax, ebx, _, _ := p.CPUID(LeafEncryption, 0)
	if eax&cpuidSEV == 0 {
		return Status{}
	}
	return Decode(eax, ebx, p.ReadMSR(MSRSEVStatus))
}

// Decode classifies a guest from CPUID Fn8000_001F EAX/EBX and SEV_STATUS.
//
//go:nosplit
func Decode(eax, ebx uint32, sevStatus uint64) Status {
	s := Status{SEVStatus: sevStatus, CBit: uint8(ebx & cbitMask)}
	switch {
	case sevStatus&(StatusSEV|StatusSEVES|StatusSNP) == 0:
		s.Kind = NotEncrypted
	case sevStatus&(StatusSEV|StatusSEVES|StatusSNP) != StatusSEV|StatusSEVES|StatusSNP:
		// SEV or SEV-ES alone, or SNP without the bits it implies.
		s.Kind = Unsupported
	case sevStatus&^(StatusSEV|StatusSEVES|StatusSNP|statusTransparent|statusImplemented) != 0:
		// A feature the guest would have to implement (see
		// statusImplemented).
		s.Kind = Unsupported
	case eax&(cpuidSEVES|cpuidSNP) != cpuidSEVES|cpuidSNP:
		// The processor claims no SNP while the guest runs with it:
		// CPUID (answered from the CPUID page) and the MSR disagree.
		s.Kind = Unsupported
	case s.CBit < 32 || s.CBit > 51:
		// The C-bit lies above the guest-physical addresses in use and
		// below bit 52 (AMD APM vol. 2, 15.34.6, "Supported Encryption
		// Features"; today's parts use 47 or 51).
		s.Kind = Unsupported
	default:
		s.Kind = SNP
	}
	return s
}
