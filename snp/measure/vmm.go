package measure

import (
	"fmt"
	"strings"
)

// VMM is the virtual machine monitor that launches the guest. VMMs differ
// in the initial register state they give vCPUs and in how they present
// OVMF's metadata sections to the ASP, so the same firmware measures
// differently under each.
type VMM uint8

// Supported VMMs.
const (
	// VMMQEMU is QEMU on Linux KVM (KVM_X86_SNP_VM).
	VMMQEMU VMM = iota
	// VMMEC2 is the Amazon EC2 Nitro hypervisor.
	VMMEC2
	// VMMGCE is the Google Compute Engine hypervisor.
	VMMGCE
)

var vmmNames = [...]string{VMMQEMU: "qemu", VMMEC2: "ec2", VMMGCE: "gce"}

// String returns the name ParseVMM accepts.
func (v VMM) String() string {
	if int(v) < len(vmmNames) {
		return vmmNames[v]
	}
	return fmt.Sprintf("VMM(%d)", uint8(v))
}

// MarshalText implements encoding.TextMarshaler.
func (v VMM) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseVMM.
func (v *VMM) UnmarshalText(text []byte) (err error) {
	*v, err = ParseVMM(string(text))
	return err
}

// ParseVMM parses "qemu", "ec2" or "gce" (in any case).
func ParseVMM(s string) (VMM, error) {
	for v, name := range vmmNames {
		if strings.EqualFold(s, name) {
			return VMM(v), nil
		}
	}
	return 0, fmt.Errorf("unknown VMM type %q: want one of %s", s, strings.Join(vmmNames[:], ", "))
}

// EC2 and GCE register state that differs from QEMU's.
const (
	// EC2 leaves the accessed bit clear in CS of the BSP and in SS, and
	// marks TR as an available (not busy) 32-bit TSS.
	ec2BSPCodeAttrib = 0x9a
	ec2DataAttrib    = 0x92
	ec2TRAttrib      = 0x83
	// genericResetRDX is what EC2 and GCE load into RDX instead of the vCPU
	// signature: 0x600 (family 6), the value KVM gives RDX at reset when no
	// CPUID leaf 1 is configured. EC2 launches from before EC2's VMSA update
	// of April 2026 used 0 instead; this package models the current EC2.
	genericResetRDX = 0x600
	// gcePAT is the PAT MSR value GCE programs.
	gcePAT = 0x0007_0106
)

// saveArea returns the VMSA contents v gives a vCPU entering at address.
// signature is the CPUID Fn0000_0001_EAX value QEMU loads into RDX.
func (v VMM) saveArea(address, signature uint32, features uint64) SaveArea {
	s := resetSaveArea(address)
	s.SEVFeatures = features
	switch v {
	case VMMQEMU:
		s.RDX = uint64(signature)
		s.MXCSR = resetMXCSR
		s.X87FCW = resetFCW
	case VMMEC2:
		if address == BSPResetAddress {
			s.CS.Attrib = ec2BSPCodeAttrib
		}
		s.SS.Attrib = ec2DataAttrib
		s.TR.Attrib = ec2TRAttrib
		s.RDX = genericResetRDX
	case VMMGCE:
		s.GPAT = gcePAT
		s.RDX = genericResetRDX
	}
	return s
}

// sectionPageType is the page type v uses for a metadata section without
// kernel hashes, and whether v measures it in the metadata pass at all.
func (v VMM) sectionPageType(t SectionType) (PageType, bool, error) {
	switch t {
	case SectionSNPSecMem:
		if v == VMMGCE {
			// GCE loads pre-validated memory as UNMEASURED pages.
			return PageUnmeasured, true, nil
		}
		return PageZero, true, nil
	case SectionSNPSecrets:
		return PageSecrets, true, nil
	case SectionCPUID:
		// EC2 adds the CPUID page after every other section.
		return PageCPUID, v != VMMEC2, nil
	case SectionSVSMCAA, SectionSNPKernelHashes:
		return PageZero, true, nil
	}
	return 0, false, fmt.Errorf("unknown SEV metadata section type %#x: this OVMF is newer than this measurement code", uint32(t))
}
