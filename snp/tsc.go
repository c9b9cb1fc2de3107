package snp

// Time under SEV-SNP. Without Secure TSC everything the guest knows about
// time is the host's word: the TSC rate (the hypervisor's CPUID timing
// leaf, which the host puts in the CPUID page, or the PIT it emulates),
// the TSC itself (the hypervisor sets its offset and scale and may
// intercept RDTSC), and the wall clock (the RTC it emulates). With Secure
// TSC (AMD APM vol. 2, 15.36.18 "Secure TSC"; SEV_STATUS bit 11, 15.34.10)
// the processor computes the guest's TSC from the host TSC with a scale
// and offset the PSP fixed at launch, so the hypervisor cannot change the
// TSC, and the guest reads its TSC frequency from GUEST_TSC_FREQ. The
// hypervisor must then intercept neither RDTSC(P) nor GUEST_TSC_FREQ
// (KVM clears both intercepts for Secure TSC guests); if a #VC says it
// did, the guest terminates, as Linux does.
// The wall clock at boot is still the host's RTC. Trap and boot context:
// //go:nosplit, no allocation.

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/secrets"
)

// MSRGuestTSCFreq is GUEST_TSC_FREQ (AMD APM vol. 2, 15.36.18 "Secure
// TSC"; Linux MSR_AMD64_GUEST_TSC_FREQ): the guest's nominal TSC
// frequency in MHz in bits 17:0, the rest reserved. Under Secure TSC the
// processor answers it unless the hypervisor intercepts it, which it must
// not; a #VC for it terminates.
const MSRGuestTSCFreq = 0xC001_0134

// msrTSC is IA32_TIME_STAMP_COUNTER (AMD APM vol. 2, 13.2.4 "Time-Stamp
// Counter"). Cocoon never reads or writes it; under Secure TSC a #VC for
// it is refused rather than let the host supply a time.
const msrTSC = 0x10

const (
	guestTSCFreqMHz = 1<<18 - 1 // GUEST_TSC_FREQ bits 17:0
	// tscFactorScale is the unit of TSC_FACTOR: 0.001% (SNP Firmware
	// ABI, "Secure TSC": mean = nominal * (1 - TSC_FACTOR * 0.00001)).
	tscFactorScale = 100_000
)

// SecureTSCHz returns the guest's mean TSC frequency in Hz: the nominal
// MHz of GUEST_TSC_FREQ (msr) lowered by TSC_FACTOR (factor, from the
// secrets page). It refuses a zero frequency and a factor of 100% or
// more, which would leave none.
//
//go:nosplit
func SecureTSCHz(msr uint64, factor uint32) (uint64, bool) {
	nominal := (msr & guestTSCFreqMHz) * 1_000_000
	if nominal == 0 || factor >= tscFactorScale {
		return 0, false
	}
	return nominal - nominal*uint64(factor)/tscFactorScale, true
}

// tscFactor reads TSC_FACTOR from the secrets page: version 3 pages have
// it; in version 2 the field does not exist and the factor is 0.
//
//go:nosplit
func (p *Platform) tscFactor() uint32 {
	if binary.LittleEndian.Uint32(p.secrets) != secrets.Version3 {
		return 0
	}
	return binary.LittleEndian.Uint32(p.secrets[secrets.OffsetTSCFactor:])
}

// TSCFrequency implements hal.Platform. Without Secure TSC it is the PC
// platform's calibration, against devices the host emulates. With Secure
// TSC it is GUEST_TSC_FREQ scaled by the secrets page's TSC_FACTOR, as
// Linux's snp_secure_tsc_init computes it; an unusable value terminates
// the guest (ReasonSecureTSC) rather than run on a clock of unknown rate.
//
//go:nosplit
func (p *Platform) TSCFrequency() uint64 {
	if !p.status.SecureTSC() {
		return p.PC.TSCFrequency()
	}
	if p.tscHz != 0 {
		return p.tscHz
	}
	hz, ok := p.secureTSC()
	if !ok {
		return 0
	}
	p.PC.KnownTSCFrequency(hz)
	return hz
}

// secureTSC computes the Secure TSC frequency and records it, or asks to
// be terminated.
//
//go:nosplit
func (p *Platform) secureTSC() (uint64, bool) {
	factor := p.tscFactor()
	hz, ok := SecureTSCHz(p.m.GuestTSCFreq(), factor)
	if !ok {
		p.Terminate(reason(ghcbmsr.ReasonSecureTSC))
		return 0, false
	}
	p.tscHz, p.tscFactorUsed = hz, factor
	return hz, true
}

// SecureTSC implements hal.SecureClock: whether the TSC is the processor's
// Secure TSC, and the frequency and TSC_FACTOR the kernel calibrated
// with (after TSCFrequency).
//
//go:nosplit
func (p *Platform) SecureTSC() (hz uint64, factor uint32, ok bool) {
	if !p.status.SecureTSC() || p.tscHz == 0 {
		return 0, 0, false
	}
	return p.tscHz, p.tscFactorUsed, true
}

// refuseTimeExit reports whether a #VC asks the hypervisor for time it
// must not supply: under Secure TSC the hypervisor must intercept neither
// RDTSC(P) nor GUEST_TSC_FREQ, so a #VC for one of them is a hypervisor
// working against the guest's configuration (Linux terminates in the same
// cases: vc_handle_rdtsc, __vc_handle_secure_tsc_msrs). Cocoon never
// touches the TSC MSR, so a #VC for it is refused too (Linux, whose code
// may read it, answers such reads with RDTSC instead).
//
//go:nosplit
func (p *Platform) refuseTimeExit(exit uint64, msr uint32) bool {
	if !p.status.SecureTSC() {
		return false
	}
	switch exit {
	case exitRDTSC, exitRDTSCP:
		return true
	}
	return msr == MSRGuestTSCFreq || msr == msrTSC
}
