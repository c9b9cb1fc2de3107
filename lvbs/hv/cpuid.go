package hv

import "fmt"

// Hypervisor CPUID leaves (TLFS Feature Discovery, "Hypervisor Discovery"
// and "Microsoft Hypervisor CPUID Leaves").
const (
	LeafVersionAndFeatures = 0x0000_0001 // ECX bit 31: hypervisor present
	LeafVendorAndMax       = 0x4000_0000 // EAX: highest leaf; EBX-EDX: vendor
	LeafInterface          = 0x4000_0001 // EAX: interface signature
	LeafSystemIdentity     = 0x4000_0002 // build, major/minor version
	LeafFeatures           = 0x4000_0003 // EAX/EBX: privilege mask; EDX: features
	LeafRecommendations    = 0x4000_0004
	LeafLimits             = 0x4000_0005
	LeafNested             = 0x4000_000A

	// MinMaxLeaf is the lowest value of CPUID 0x40000000 EAX a Microsoft
	// hypervisor reports (TLFS Feature Discovery, leaf 0x40000000: "at
	// least 0x40000005"; step 2 of "Establishing the Hypercall
	// Interface").
	MinMaxLeaf = LeafLimits

	hypervisorPresent = 1 << 31 // CPUID.1:ECX[31]

	// InterfaceHv1 is "Hv#1" in CPUID 0x40000001 EAX (TLFS Feature
	// Discovery): it implies the guest OS ID, hypercall and VP index MSRs.
	InterfaceHv1 = 0x3123_7648

	// The vendor signature "Microsoft Hv" in EBX, ECX, EDX of leaf
	// 0x40000000. Informational only: the TLFS says to decide on the
	// interface signature, and so does Detect.
	VendorEBX = 0x7263_694D // "Micr"
	VendorECX = 0x666F_736F // "osof"
	VendorEDX = 0x7648_2074 // "t Hv"
)

// Privileges is HV_PARTITION_PRIVILEGE_MASK, CPUID 0x40000003 EBX:EAX
// (TLFS datatypes/hv_partition_privilege_mask.md).
type Privileges uint64

// Partition privileges Cocoon's VTL1 kernel needs (bit numbers in the
// 64-bit mask, TLFS HV_PARTITION_PRIVILEGE_MASK).
const (
	AccessSynicRegs     Privileges = 1 << 2  // SynIC MSRs (SCONTROL..EOM, SINT0-15)
	AccessHypercallMsrs Privileges = 1 << 5  // guest OS ID and hypercall MSRs
	AccessVpIndex       Privileges = 1 << 6  // VP index MSR
	AccessVsm           Privileges = 1 << 48 // "The partition can use VSM"
	AccessVpRegisters   Privileges = 1 << 49 // HvCallGet/SetVpRegisters

	// Required are the privileges without which Cocoon cannot run as a
	// secure kernel: TLFS VSM, "VSM Detection and Status" requires
	// AccessVsm, AccessVpRegisters and AccessSynicRegs for VSM; the
	// hypercall and VP index MSRs come with them (lvbs-linux
	// drivers/hv/hv_vsm_boot.c, vsm_arch_has_vsm_access, checks the same
	// VSM and VP-register bits before loading a secure kernel).
	Required = AccessSynicRegs | AccessHypercallMsrs | AccessVpIndex | AccessVsm | AccessVpRegisters
)

// Features is CPUID 0x40000003 EDX (TLFS Feature Discovery, "Hypervisor
// Feature Identification").
type Features uint32

// Feature bits Cocoon looks at.
const (
	FeatureXMMHypercallInput  Features = 1 << 4
	FeatureXMMHypercallOutput Features = 1 << 15
)

// Prober executes CPUID. In the kernel it is the instruction; in tests,
// package hvtest's fake.
type Prober interface {
	CPUID(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
}

// Identity is what detection learned.
type Identity struct {
	MaxLeaf    uint32
	Vendor     [12]byte // informational (TLFS: diagnostics only)
	Build      uint32
	Major      uint16
	Minor      uint16
	Privileges Privileges
	Features   Features
}

// Detect runs TLFS "Establishing the Hypercall Interface" steps 1, 2 and
// 9: a hypervisor is present, its maximum leaf is at least 0x40000005, its
// interface is "Hv#1", and the partition holds every privilege in
// Required. It returns an error naming what is missing otherwise: on
// anything but a VSM-capable Hyper-V partition the LVBS platform must not
// run.
func Detect(p Prober) (Identity, error) {
	var id Identity
	if _, _, ecx, _ := p.CPUID(LeafVersionAndFeatures, 0); ecx&hypervisorPresent == 0 {
		return id, fmt.Errorf("hv: no hypervisor (CPUID.1:ECX[31] clear)")
	}
	max, ebx, ecx, edx := p.CPUID(LeafVendorAndMax, 0)
	id.MaxLeaf = max
	putLE32(id.Vendor[0:4], ebx)
	putLE32(id.Vendor[4:8], ecx)
	putLE32(id.Vendor[8:12], edx)
	if max < MinMaxLeaf || max > LeafVendorAndMax+0xFF {
		return id, fmt.Errorf("hv: CPUID 0x40000000 reports maximum leaf %#x, want 0x40000005-0x400000ff", max)
	}
	if sig, _, _, _ := p.CPUID(LeafInterface, 0); sig != InterfaceHv1 {
		return id, fmt.Errorf("hv: interface signature %#08x is not Hv#1 (%#08x)", sig, InterfaceHv1)
	}
	build, ver, _, _ := p.CPUID(LeafSystemIdentity, 0)
	id.Build, id.Major, id.Minor = build, uint16(ver>>16), uint16(ver)
	eax, ebx, _, edx := p.CPUID(LeafFeatures, 0)
	id.Privileges = Privileges(uint64(ebx)<<32 | uint64(eax))
	id.Features = Features(edx)
	if missing := Required &^ id.Privileges; missing != 0 {
		return id, fmt.Errorf("hv: partition lacks privileges %v (mask %#x): VSM needs AccessVsm, AccessVpRegisters and AccessSynicRegs", missing, uint64(id.Privileges))
	}
	return id, nil
}

func (p Privileges) String() string {
	names := []struct {
		bit  Privileges
		name string
	}{
		{AccessSynicRegs, "AccessSynicRegs"},
		{AccessHypercallMsrs, "AccessHypercallMsrs"},
		{AccessVpIndex, "AccessVpIndex"},
		{AccessVsm, "AccessVsm"},
		{AccessVpRegisters, "AccessVpRegisters"},
	}
	s := ""
	for _, n := range names {
		if p&n.bit != 0 {
			if s != "" {
				s += ","
			}
			s += n.name
		}
	}
	if rest := p &^ Required; rest != 0 {
		if s != "" {
			s += ","
		}
		s += fmt.Sprintf("%#x", uint64(rest))
	}
	if s == "" {
		return "none"
	}
	return s
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
