package snptest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/snptest"
)

var vmpck0 = bytes.Repeat([]byte{0x42}, 32)

type rig struct {
	h  *snptest.Hypervisor
	ch *guestmsg.Channel
}

// newRig brings up the SNP platform (package snp) against a fake
// hypervisor, as the kernel does, and opens a guest-message channel over
// the platform's own transport: the tests below drive the platform's
// real entry points.
func newRig(t *testing.T) *rig {
	t.Helper()
	h := snptest.New(memPages)
	p, err := boot(h)
	if err != nil {
		t.Fatal(err)
	}
	psp, err := snptest.NewPSP(vmpck0)
	if err != nil {
		t.Fatal(err)
	}
	h.PSP = psp
	tr := guestmsg.PlatformTransport(p.GuestRequests())
	if tr.MaxCertPages() != certPages {
		t.Fatalf("platform transport holds %d certificate pages, tests assume %d", tr.MaxCertPages(), certPages)
	}
	ch, err := guestmsg.NewChannel(tr, vmpck0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{h: h, ch: ch}
	t.Cleanup(func() {
		if psp.Reuses != 0 {
			t.Errorf("guest reused a sequence number %d times", psp.Reuses)
		}
	})
	return r
}

func (r *rig) report(t *testing.T, data byte) ([]byte, error) {
	t.Helper()
	req := &guestmsg.ReportRequest{VMPL: 0}
	req.ReportData[0] = data
	return r.ch.Report(req)
}

func (r *rig) mustReport(t *testing.T, data byte) {
	t.Helper()
	rep, err := r.report(t, data)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	if len(rep) != guestmsg.ReportSize || rep[0x50] != data {
		t.Fatalf("Report = %d bytes, REPORT_DATA[0] %#x; want %#x", len(rep), rep[0x50], data)
	}
}

func (r *rig) wantDisabled(t *testing.T, err error) {
	t.Helper()
	var de *guestmsg.DisabledError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "VMPCK0 disabled") {
		t.Fatalf("error = %v, want *DisabledError", err)
	}
	exits, handled := len(r.h.Exits), r.h.PSP.Handled
	if _, err := r.report(t, 0xEE); !errors.As(err, &de) {
		t.Errorf("request after disabling = %v, want *DisabledError", err)
	}
	if len(r.h.Exits) != exits || r.h.PSP.Handled != handled {
		t.Error("a disabled channel still reached the host")
	}
	if r.ch.Err() == nil {
		t.Error("Err() = nil on a disabled channel")
	}
}

func TestGuestMessagesHonest(t *testing.T) {
	r := newRig(t)
	r.mustReport(t, 1)
	r.mustReport(t, 2)
	if got := r.ch.SeqNo(); got != 4 {
		t.Errorf("SeqNo after two exchanges = %d, want 4", got)
	}
	k1, err := r.ch.DeriveKey(&guestmsg.KeyRequest{GuestFieldSelect: guestmsg.FieldMeasurement})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := r.ch.DeriveKey(&guestmsg.KeyRequest{GuestFieldSelect: guestmsg.FieldMeasurement})
	if err != nil || k1 != k2 || k1 == ([32]byte{}) {
		t.Errorf("DeriveKey = %x, %x, %v", k1, k2, err)
	}
	r.h.CertTable = bytes.Repeat([]byte{0xCE}, 2*guestmsg.CertPageSize)
	rep, certs, err := r.ch.ExtendedReport(&guestmsg.ReportRequest{})
	if err != nil || len(rep) != guestmsg.ReportSize || !bytes.HasPrefix(certs, r.h.CertTable) {
		t.Errorf("ExtendedReport = %d-byte report, %d-byte certs, %v", len(rep), len(certs), err)
	}
	if r.h.PSP.Handled != 5 || r.ch.SeqNo() != 10 {
		t.Errorf("PSP handled %d, SeqNo %d", r.h.PSP.Handled, r.ch.SeqNo())
	}
}

func TestPSPErrorStatus(t *testing.T) {
	r := newRig(t)
	r.h.PSP.Status = guestmsg.StatusInvalidParam
	_, err := r.report(t, 1)
	var se *guestmsg.StatusError
	if !errors.As(err, &se) || se.Status != guestmsg.StatusInvalidParam {
		t.Fatalf("Report = %v, want StatusError INVALID_PARAM", err)
	}
	if _, err := r.ch.DeriveKey(&guestmsg.KeyRequest{}); !errors.As(err, &se) {
		t.Errorf("DeriveKey = %v, want StatusError", err)
	}
	// The answers were authentic: the channel moves on, with new numbers.
	r.h.PSP.Status = guestmsg.StatusSuccess
	r.mustReport(t, 3)
	if r.ch.SeqNo() != 6 || r.ch.Err() != nil {
		t.Errorf("SeqNo %d, Err %v", r.ch.SeqNo(), r.ch.Err())
	}
}

func TestVMMBusy(t *testing.T) {
	r := newRig(t)
	r.h.Busy = 5
	r.mustReport(t, 1)
	if r.h.Busy != 0 || r.ch.SeqNo() != 2 {
		t.Errorf("Busy left %d, SeqNo %d", r.h.Busy, r.ch.SeqNo())
	}
	r.h.Busy = 1 << 20
	_, err := r.report(t, 2)
	r.wantDisabled(t, err)
	if spent := 1<<20 - r.h.Busy; spent != guestmsg.MaxBusyRetries+1 {
		t.Errorf("sent %d times while busy, want %d", spent, guestmsg.MaxBusyRetries+1)
	}
}

func TestCertificateBufferTooSmall(t *testing.T) {
	r := newRig(t)
	r.h.CertTable = bytes.Repeat([]byte{0xCE}, 6*guestmsg.CertPageSize) // more than the default 4 pages
	_, certs, err := r.ch.ExtendedReport(&guestmsg.ReportRequest{})
	if err != nil || len(certs) != 6*guestmsg.CertPageSize || !bytes.Equal(certs, r.h.CertTable) {
		t.Fatalf("ExtendedReport after one resize = %d bytes, %v", len(certs), err)
	}
	if r.ch.SeqNo() != 2 {
		t.Errorf("SeqNo = %d, want 2", r.ch.SeqNo())
	}
}

func TestCertificateBufferTooSmallAgain(t *testing.T) {
	r := newRig(t)
	r.h.CertTable = bytes.Repeat([]byte{0xCE}, 6*guestmsg.CertPageSize)
	r.h.CertPagesGrowth = 1 // says 6, then wants 7
	_, _, err := r.ch.ExtendedReport(&guestmsg.ReportRequest{})
	if !errors.Is(err, guestmsg.ErrCertificates) {
		t.Fatalf("ExtendedReport = %v, want ErrCertificates", err)
	}
	// The request still reached the PSP once, so its number is spent and
	// the channel stays usable.
	if r.h.PSP.Handled != 1 || r.ch.SeqNo() != 2 || r.ch.Err() != nil {
		t.Errorf("PSP handled %d, SeqNo %d, Err %v", r.h.PSP.Handled, r.ch.SeqNo(), r.ch.Err())
	}
	r.mustReport(t, 4)
}

func TestCertificateBufferAboveLimit(t *testing.T) {
	r := newRig(t)
	r.h.CertTable = make([]byte, (certPages+1)*guestmsg.CertPageSize)
	_, _, err := r.ch.ExtendedReport(&guestmsg.ReportRequest{})
	if !errors.Is(err, guestmsg.ErrCertificates) || r.ch.SeqNo() != 2 {
		t.Fatalf("ExtendedReport = %v, SeqNo %d", err, r.ch.SeqNo())
	}
	r.mustReport(t, 5)
}

func TestHostileResponses(t *testing.T) {
	var replay []byte
	for _, tc := range []struct {
		name   string
		tamper func(msg []byte)
	}{
		{"tag", func(m []byte) { m[3] ^= 0x80 }},
		{"ciphertext", func(m []byte) { m[guestmsg.HeaderSize+0x30] ^= 1 }},
		{"sequence number from the future", func(m []byte) { snptest.PutSeqNo(m, 6) }},
		{"sequence number reused by the host", func(m []byte) { snptest.PutSeqNo(m, 2) }},
		{"message type", func(m []byte) { m[0x34] = byte(guestmsg.MsgKeyRsp) }},
		{"VMPCK index", func(m []byte) { m[0x3C] = 1 }},
		{"replayed earlier response", func(m []byte) { copy(m, replay) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.h.TamperResponse = func(m []byte) { replay = bytes.Clone(m) }
			r.mustReport(t, 1)
			r.h.TamperResponse = tc.tamper
			_, err := r.report(t, 2)
			var re *guestmsg.ResponseError
			if !errors.As(err, &re) {
				t.Errorf("Report = %v, want a ResponseError", err)
			}
			r.wantDisabled(t, err)
		})
	}
}

func TestHostFirmwareError(t *testing.T) {
	r := newRig(t)
	r.h.GuestRequestFirmwareError = guestmsg.StatusInvalidAddress
	_, err := r.report(t, 1)
	var he *guestmsg.HostError
	if !errors.As(err, &he) || he.Result.Firmware != guestmsg.StatusInvalidAddress {
		t.Errorf("Report = %v, want HostError INVALID_ADDRESS", err)
	}
	r.wantDisabled(t, err)
}

func TestGHCBExitError(t *testing.T) {
	// A hypervisor that rejects the exit itself: the outcome is unknown.
	r := newRig(t)
	r.h.GuestRequestExitError = ghcb.ErrInvalidInput
	_, err := r.report(t, 1)
	var de *guestmsg.DisabledError
	var rerr *ghcb.ResultError
	if !errors.As(err, &de) || !errors.As(err, &rerr) || rerr.Result != ghcb.ResultGHCBError || rerr.Info2 != uint64(ghcb.ErrInvalidInput) {
		t.Errorf("Report = %v", err)
	}
	if _, err := r.report(t, 2); !errors.As(err, &de) {
		t.Errorf("second Report = %v", err)
	}
}

// TestTSCInfo sends MSG_TSC_INFO_REQ through the platform's GHCB guest
// request: an honest answer, then answers of the wrong size and with a
// failure STATUS, each refused without reusing a sequence number.
func TestTSCInfo(t *testing.T) {
	r := newRig(t)
	r.h.PSP.TSCInfo = guestmsg.TSCInfoResponse{Scale: 3 << 31, Offset: 7, Factor: 42}
	info, err := r.ch.TSCInfo()
	if err != nil || info.Scale != 3<<31 || info.Offset != 7 || info.Factor != 42 || r.ch.SeqNo() != 2 {
		t.Fatalf("TSCInfo = %+v, %v; SeqNo %d", info, err, r.ch.SeqNo())
	}

	r.h.PSP.Status = guestmsg.StatusInvalidParam
	var se *guestmsg.StatusError
	if _, err := r.ch.TSCInfo(); !errors.As(err, &se) || se.Type != guestmsg.MsgTSCInfoRsp || r.ch.SeqNo() != 4 {
		t.Errorf("failure STATUS: %v, SeqNo %d; want a StatusError, 4", err, r.ch.SeqNo())
	}
	r.h.PSP.Status = guestmsg.StatusSuccess
	for _, n := range []int{0, 0x7C, 0x81, 0x200} {
		r.h.PSP.TSCInfoPayload = func() []byte { return make([]byte, n) }
		before := r.ch.SeqNo()
		if info, err := r.ch.TSCInfo(); err == nil || r.ch.SeqNo() != before+2 {
			t.Errorf("%d-byte MSG_TSC_INFO_RSP: %+v, %v, SeqNo %d", n, info, err, r.ch.SeqNo())
		}
	}
	r.h.PSP.TSCInfoPayload = nil
	r.mustReport(t, 9)
}
