package measure

import (
	"errors"
	"fmt"
)

// Guest features: SEV_FEATURES, VMSA offset 0x3B0 (AMD APM Vol. 2,
// Table B-4), whose bits the SEV-SNP chapter of the APM defines.
const (
	// FeatureSNPActive is SEV_FEATURES bit 0; every SNP vCPU has it.
	FeatureSNPActive = 1 << 0
	// DefaultGuestFeatures is what QEMU with Linux 6.8 and newer requests:
	// SNPActive only.
	DefaultGuestFeatures = FeatureSNPActive
)

// maxVCPUs bounds Options.VCPUs generously: no VMM launches more.
const maxVCPUs = 4096

// Options are the launch parameters besides the firmware.
type Options struct {
	// VCPUs is the number of vCPUs at launch (QEMU -smp), at least 1.
	VCPUs int
	// VCPUSignature is CPUID Fn0000_0001_EAX of the vCPU model, which QEMU
	// loads into RDX (see VCPUTypeSignature and CPUSignature). Required for
	// QEMU; EC2 and GCE load a fixed RDX and ignore it.
	VCPUSignature uint32
	// GuestFeatures is SEV_FEATURES of every VMSA; bit 0 (SNPActive) must
	// be set.
	GuestFeatures uint64
	// VMM is the hypervisor that launches the guest.
	VMM VMM
	// KernelHashes, when set, are the hashes of -kernel, -initrd and
	// -append for measured direct boot.
	KernelHashes *KernelHashes
	// FirmwareDigest, when set, is a precomputed OVMF hash (see
	// FirmwareDigest); the firmware pages are then not hashed again.
	FirmwareDigest *Digest
	// VMSAGPA is the GPA VMSA pages are measured with; zero means
	// DefaultVMSAGPA.
	VMSAGPA uint64
}

// FirmwareDigest returns the launch digest after the firmware pages alone:
// the "OVMF hash" that sev-snp-measure prints in snp:ovmf-hash mode. It
// depends only on the image, so it can be computed once per OVMF build.
func FirmwareDigest(fw *Firmware) Digest {
	var l LaunchDigest
	// The image is a whole number of pages ending at 4 GiB (ParseOVMF
	// checks both), so AddPages cannot fail.
	if err := l.AddPages(PageNormal, fw.GPA(), fw.Image); err != nil {
		panic(err)
	}
	return l.Sum()
}

// ErrNoKernelHashesSection reports kernel hashes requested with a firmware
// that cannot receive them.
var ErrNoKernelHashesSection = errors.New("firmware has no SNP_KERNEL_HASHES metadata section")

// Measure computes the launch digest the ASP will report for fw launched by
// opts.VMM with opts: the MEASUREMENT field of the guest's attestation
// reports.
func Measure(fw *Firmware, opts Options) (Digest, error) {
	if err := opts.check(fw); err != nil {
		return Digest{}, err
	}
	var l *LaunchDigest
	if opts.FirmwareDigest != nil {
		l = NewLaunchDigest(*opts.FirmwareDigest)
	} else {
		l = NewLaunchDigest(FirmwareDigest(fw))
	}
	if err := measureSections(l, fw, opts); err != nil {
		return Digest{}, err
	}
	vmsaGPA := opts.VMSAGPA
	if vmsaGPA == 0 {
		vmsaGPA = DefaultVMSAGPA
	}
	bsp := opts.VMM.saveArea(BSPResetAddress, opts.VCPUSignature, opts.GuestFeatures)
	if err := l.AddPages(PageVMSA, vmsaGPA, bsp.Page()); err != nil {
		return Digest{}, err
	}
	if opts.VCPUs > 1 {
		ap := opts.VMM.saveArea(fw.APResetAddress, opts.VCPUSignature, opts.GuestFeatures)
		page := ap.Page()
		for range opts.VCPUs - 1 {
			if err := l.AddPages(PageVMSA, vmsaGPA, page); err != nil {
				return Digest{}, err
			}
		}
	}
	return l.Sum(), nil
}

// check validates opts against fw before any hashing.
func (opts *Options) check(fw *Firmware) error {
	if opts.VCPUs < 1 || opts.VCPUs > maxVCPUs {
		return fmt.Errorf("%d vCPUs: want 1 to %d", opts.VCPUs, maxVCPUs)
	}
	if int(opts.VMM) >= len(vmmNames) {
		return fmt.Errorf("unknown VMM %v", opts.VMM)
	}
	if opts.VMM == VMMQEMU && opts.VCPUSignature == 0 {
		return errors.New("QEMU loads the vCPU signature into RDX: give a vCPU type or a signature")
	}
	if opts.GuestFeatures&FeatureSNPActive == 0 {
		return fmt.Errorf("guest features %#x lack SNPActive (bit 0), which every SNP guest has", opts.GuestFeatures)
	}
	if opts.VMSAGPA%PageSize != 0 {
		return fmt.Errorf("VMSA GPA %#x is not page aligned", opts.VMSAGPA)
	}
	if fw.Sections == nil {
		return fmt.Errorf("firmware has no SEV metadata (no %v entry in its footer table): "+
			"use an OVMF built with SEV-SNP support, such as OvmfPkg/AmdSev/AmdSevX64.dsc", SEVMetadataOffsetGUID)
	}
	if opts.VCPUs > 1 && !fw.HasAPReset {
		return fmt.Errorf("%d vCPUs need the firmware's SEV-ES reset block (GUID %v) for the AP entry point, and it has none",
			opts.VCPUs, SEVESResetBlockGUID)
	}
	if opts.KernelHashes != nil {
		if opts.VMM == VMMGCE {
			return errors.New("GCE does not boot a kernel directly: kernel hashes cannot be measured")
		}
		if !fw.HasSection(SectionSNPKernelHashes) {
			return fmt.Errorf("%w: this OVMF cannot measure a -kernel/-initrd/-append boot; "+
				"build OvmfPkg/AmdSev/AmdSevX64.dsc, or launch without a kernel", ErrNoKernelHashesSection)
		}
	}
	return nil
}

// measureSections adds the SEV metadata sections in image order, as the VMM
// does after loading the firmware.
func measureSections(l *LaunchDigest, fw *Firmware, opts Options) error {
	for _, s := range fw.Sections {
		if s.Type == SectionSNPKernelHashes && opts.KernelHashes != nil {
			head, err := opts.KernelHashes.sectionHead(fw, s)
			if err != nil {
				return err
			}
			if err := l.AddPages(PageNormal, uint64(s.GPA), head); err != nil {
				return err
			}
			tail := uint64(s.Size) - uint64(len(head))
			if err := l.addZeroNormalPages(uint64(s.GPA)+uint64(len(head)), tail); err != nil {
				return err
			}
			continue
		}
		t, now, err := opts.VMM.sectionPageType(s.Type)
		if err != nil {
			return err
		}
		if !now {
			continue
		}
		if err := l.AddEmptyPages(t, uint64(s.GPA), uint64(s.Size)); err != nil {
			return err
		}
	}
	if opts.VMM == VMMEC2 {
		for _, s := range fw.Sections {
			if s.Type == SectionCPUID {
				if err := l.AddEmptyPages(PageCPUID, uint64(s.GPA), uint64(s.Size)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
