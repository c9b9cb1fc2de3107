package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

type clock struct {
	hz     uint64
	factor uint32
	ok     bool
}

func (c clock) SecureTSC() (uint64, uint32, bool) { return c.hz, c.factor, c.ok }

type confirmer struct {
	info *guestmsg.TSCInfoResponse
	err  error
	got  []uint32
}

func (c *confirmer) ConfirmSecureTSC(factor uint32) (*guestmsg.TSCInfoResponse, error) {
	c.got = append(c.got, factor)
	return c.info, c.err
}

func TestClockReport(t *testing.T) {
	// Without Secure TSC: said to be the host's, and the PSP is not asked.
	dev := &confirmer{}
	line, err := clockReport(clock{}, dev)
	if err != nil || !strings.Contains(line, "time: host-controlled") || len(dev.got) != 0 {
		t.Errorf("no Secure TSC: %q, %v, asked %v", line, err, dev.got)
	}

	// Secure TSC confirmed, with the factor the kernel calibrated with.
	dev = &confirmer{info: &guestmsg.TSCInfoResponse{Scale: 1 << 32, Offset: 0x10, Factor: 250}}
	line, err = clockReport(clock{1_995_000_000, 250, true}, dev)
	if err != nil || !strings.Contains(line, "Secure TSC at 1995.000000 MHz") || !strings.Contains(line, "TSC_FACTOR 250") ||
		strings.Contains(line, "host-controlled") || len(dev.got) != 1 || dev.got[0] != 250 {
		t.Errorf("Secure TSC: %q, %v, asked %v", line, err, dev.got)
	}

	// Refusals: no channel to the PSP, or TSC_INFO failing.
	if _, err := clockReport(clock{2e9, 0, true}, nil); err == nil {
		t.Error("Secure TSC without a PSP channel accepted")
	}
	dev = &confirmer{err: errors.New("TSC_INFO: MSG_TSC_INFO_RSP: 64 bytes, want 128")}
	if _, err := clockReport(clock{2e9, 0, true}, dev); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("failed TSC_INFO: %v", err)
	}
}
