package run

import (
	"errors"
	"fmt"
	"io"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// tscConfirmer is what the clock check needs of /dev/sev-guest
// (sevguest.Device): the PSP's TSC_INFO, checked against the calibration.
type tscConfirmer interface {
	ConfirmSecureTSC(factor uint32) (*guestmsg.TSCInfoResponse, error)
}

// checkClock says on the console what the application's clock rests on,
// on a confidential platform (hal.SecureClock; docs/SNP.md, "Time"), and
// under SEV-SNP Secure TSC has the PSP confirm the calibration (TSC_INFO)
// before any application runs. dev is nil when there is no
// /dev/sev-guest.
func checkClock(log io.Writer, dev tscConfirmer) error {
	c, ok := kernel.Platform().(hal.SecureClock)
	if !ok {
		return nil
	}
	line, err := clockReport(c, dev)
	if err != nil {
		return err
	}
	fmt.Fprintln(log, line)
	return nil
}

// clockReport is checkClock's console line, or why the application must
// not run: Secure TSC without a PSP to confirm it, or a PSP whose
// TSC_INFO fails or disagrees with the calibration (Linux terminates an
// SNP guest in the same case).
func clockReport(c hal.SecureClock, dev tscConfirmer) (string, error) {
	hz, factor, ok := c.SecureTSC()
	if !ok {
		return "cocoon: time: host-controlled (no SEV-SNP Secure TSC): the hypervisor sets the TSC's rate " +
			"and offset and may intercept RDTSC, and supplies the wall clock; elapsed and real time are its word", nil
	}
	if dev == nil {
		return "", errors.New("SEV-SNP Secure TSC is on but there is no guest channel to the PSP (secrets page, VMPCK0) to confirm it with TSC_INFO")
	}
	info, err := dev.ConfirmSecureTSC(factor)
	if err != nil {
		return "", fmt.Errorf("SEV-SNP Secure TSC: %w; refusing to run the application on an unconfirmed clock", err)
	}
	return fmt.Sprintf("cocoon: time: SEV-SNP Secure TSC at %d.%06d MHz (GUEST_TSC_FREQ, TSC_FACTOR %d), confirmed by the PSP's TSC_INFO "+
		"(GUEST_TSC_SCALE %#x, GUEST_TSC_OFFSET %#x): elapsed time is out of the host's reach; the wall clock at boot is still "+
		"the host's RTC", hz/1_000_000, hz%1_000_000, info.Factor, info.Scale, info.Offset), nil
}
