package hv

import (
	"fmt"
	"math/bits"
)

// Time sources of a Hyper-V partition (TLFS timers.md), for the LVBS
// platform's clock and timer: VTL1 has no PIT or CMOS clock of its own.
const (
	// MSRTimeRefCount is the partition reference counter, 100 ns units
	// since partition creation (TLFS timers.md, "Partition Reference
	// Counter MSR"); writes raise #GP.
	MSRTimeRefCount = 0x4000_0020
	// MSRReferenceTSC places the reference TSC page (same layout as the
	// other page MSRs: 63:12 GPA page number, 11:1 RsvdP, 0 enable).
	MSRReferenceTSC = 0x4000_0021
	// MSRTSCFrequency reads the TSC frequency in Hz (AccessFrequencyRegs;
	// lvbs-linux asm/hyperv-tlfs.h HV_X64_MSR_TSC_FREQUENCY).
	MSRTSCFrequency = 0x4000_0022
	// MSRSTimer0Config and MSRSTimer0Count are synthetic timer 0 (TLFS
	// timers.md, "Synthetic Timer MSRs"); timer n is at + 2n.
	MSRSTimer0Config = 0x4000_00B0
	MSRSTimer0Count  = 0x4000_00B1
)

// STimerConfig is a synthetic timer configuration register (TLFS
// timers.md, "Synthetic Timer Configuration Register"): bit 0 Enabled, 1
// Periodic, 2 Lazy, 3 AutoEnable, 11:4 ApicVector, 12 DirectMode, 19:16
// SINTx; 15:13 and 63:20 RsvdZ.
type STimerConfig uint64

// STimer configuration bits.
const (
	STimerEnabled    STimerConfig = 1 << 0
	STimerPeriodic   STimerConfig = 1 << 1
	STimerLazy       STimerConfig = 1 << 2
	STimerAutoEnable STimerConfig = 1 << 3
	STimerDirect     STimerConfig = 1 << 12
)

// DirectOneShot is a one-shot timer that asserts vector directly (no SynIC
// message) and arms itself when its count is written (AutoEnable), so the
// count register alone re-arms it: the configuration a kernel's one-shot
// timer needs. Vectors below 16 are exceptions, not interrupts.
func DirectOneShot(vector uint8) (STimerConfig, error) {
	if vector < 16 {
		return 0, fmt.Errorf("hv: synthetic timer vector %d is an exception vector", vector)
	}
	return STimerAutoEnable | STimerDirect | STimerConfig(vector)<<4, nil
}

// Vector is bits 11:4.
func (c STimerConfig) Vector() uint8 { return uint8(c >> 4) }

// SINT is bits 19:16.
func (c STimerConfig) SINT() int { return int(c>>16) & 0xF }

// ReservedBits returns the RsvdZ bits that are set.
func (c STimerConfig) ReservedBits() uint64 { return uint64(c) & (0x7<<13 | 0xFFFF_FFFF_FFF0_0000) }

// ReferenceTSC reads the reference TSC page (TLFS timers.md,
// HV_REFERENCE_TSC_PAGE: TscSequence 0/4, Reserved1 4/4, TscScale 8/8,
// TscOffset 16/8) as the TLFS's recommended code does: a sequence of 0
// means the page is not usable now and the reference counter MSR must be
// read instead (ok false); a sequence that changes during the read means
// the hypervisor updated the page, and the read is retried, at most tries
// times. load reads the page's fields (the kernel reads guest memory; a
// test, a fake page); tsc reads the TSC.
func ReferenceTSC(load func(off int) uint64, tsc func() uint64, tries int) (refTime uint64, ok bool) {
	for range tries {
		seq := uint32(load(0))
		if seq == 0 {
			return 0, false
		}
		t := tsc()
		scale, offset := load(8), load(16)
		if uint32(load(0)) != seq {
			continue
		}
		// ReferenceTime = ((VirtualTsc * TscScale) >> 64) + TscOffset
		hi, _ := bits.Mul64(t, scale)
		return hi + offset, true
	}
	return 0, false
}
