package sevguest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/verify"

	"github.com/cocoon-vm/cocoon/hal/pc/guestwire"
	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/fdtable"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sevguest/uapi"
	"github.com/cocoon-vm/cocoon/north/vfs"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/secrets"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
	"github.com/cocoon-vm/cocoon/snp/snptest"
)

// Addresses in the fake application memory.
const (
	base     = 0x10000
	argAddr  = base           // snp_guest_request_ioctl
	reqAddr  = base + 0x100   // request structure
	respAddr = base + 0x1000  // response structure
	certAddr = base + 0x10000 // certificate buffer
	memSize  = 0x20000
)

type rig struct {
	psp  *simpsp.PSP
	l    *simpsp.Launch
	page []byte
	dev  *Device
	m    *mem.Fake
}

// newRig connects a Device to a simulated PSP through wrap(the wire
// transport).
func newRig(t *testing.T, wrap func(guestmsg.Transport) guestmsg.Transport) *rig {
	t.Helper()
	l, err := simpsp.NewLaunch([48]byte{7}, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := simpsp.DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	p, err := simpsp.New(c, l)
	if err != nil {
		t.Fatal(err)
	}
	guest, host := net.Pipe()
	go p.Serve(host)
	t.Cleanup(func() { guest.Close(); host.Close() })
	var tr guestmsg.Transport = &guestwire.Transport{RW: guest}
	if wrap != nil {
		tr = wrap(tr)
	}
	page := l.Secrets.Marshal()
	dev, err := New(tr, page)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{psp: p, l: l, page: page, dev: dev, m: mem.NewFake(base, memSize)}
}

// ioctl writes the request structure and snp_guest_request_ioctl
// (exitinfo2 preset to a marker) and runs cmd.
func (r *rig) ioctl(cmd uint32, version uint8, req []byte) error {
	r.m.CopyOut(reqAddr, req)
	r.m.CopyOut(argAddr, (&uapi.Request{MsgVersion: version, ReqData: reqAddr, RespData: respAddr, ExitInfo2: 0x1234}).Marshal())
	return r.dev.Ioctl(r.m, cmd, argAddr)
}

func (r *rig) exitInfo2() uint64 {
	v, _ := mem.ReadUint64(r.m, argAddr+24)
	return v
}

func (r *rig) read(addr uint64, n int) []byte {
	b := make([]byte, n)
	r.m.CopyIn(addr, b)
	return b
}

func (r *rig) seqNo(t *testing.T) uint64 {
	p, err := secrets.Parse(r.page)
	if err != nil {
		t.Fatal(err)
	}
	return p.OSArea.MsgSeqNo[0]
}

func reportReq(data byte, vmpl uint32) []byte {
	b := make([]byte, uapi.ReportReqSize)
	b[0] = data
	binary.LittleEndian.PutUint32(b[64:], vmpl)
	return b
}

func extReq(data byte, certsAddr uint64, certsLen uint32) []byte {
	r := uapi.ExtReportReq{CertsAddress: certsAddr, CertsLen: certsLen}
	copy(r.Data[:], reportReq(data, 0))
	return r.Marshal()
}

func TestGetReport(t *testing.T) {
	r := newRig(t, nil)
	if err := r.ioctl(uapi.SNPGetReport, 1, reportReq(0x5a, 0)); err != nil {
		t.Fatalf("SNP_GET_REPORT = %v", err)
	}
	if got := r.exitInfo2(); got != 0x1234 {
		t.Errorf("exitinfo2 = %#x after success; Linux leaves it as the caller set it", got)
	}
	resp := r.read(respAddr, uapi.ReportRespSize)
	rsp, err := guestmsg.UnmarshalReportResponse(resp[:guestmsg.ReportResponseSize])
	if err != nil || rsp.Status != guestmsg.StatusSuccess {
		t.Fatalf("response: %+v, %v", rsp, err)
	}
	if rsp.Report[0x50] != 0x5a {
		t.Errorf("REPORT_DATA[0] = %#x, want 0x5a", rsp.Report[0x50])
	}
	if !bytes.Equal(resp[guestmsg.ReportResponseSize:], make([]byte, uapi.ReportRespSize-guestmsg.ReportResponseSize)) {
		t.Error("the response structure is not zero past the report")
	}
	c, _ := simpsp.DefaultChip()
	table, _ := c.CertTable()
	certs := new(abi.CertTable)
	if err := certs.Unmarshal(table); err != nil {
		t.Fatal(err)
	}
	rep, err := abi.ReportToProto(rsp.Report)
	if err != nil {
		t.Fatal(err)
	}
	att := &spb.Attestation{Report: rep, CertificateChain: certs.Proto()}
	if err := verify.SnpAttestation(att, &verify.Options{DisableCertFetching: true, TrustedRoots: c.TestRoots(), Now: time.Now()}); err != nil {
		t.Errorf("verify: %v", err)
	}
	if got := r.seqNo(t); got != 2 {
		t.Errorf("secrets page sequence number = %d, want 2", got)
	}

	// A status error from the PSP is an authentic answer: the ioctl
	// succeeds and the caller reads STATUS.
	if err := r.ioctl(uapi.SNPGetReport, 1, reportReq(0, 4)); err != nil {
		t.Fatalf("SNP_GET_REPORT(VMPL 4) = %v", err)
	}
	if st := binary.LittleEndian.Uint32(r.read(respAddr, 4)); st != uint32(guestmsg.StatusInvalidParam) {
		t.Errorf("STATUS = %#x, want INVALID_PARAM", st)
	}
}

func TestGetExtReportSizing(t *testing.T) {
	r := newRig(t, nil)
	need := uint32(r.psp.CertPages() * guestmsg.CertPageSize)

	// Length query, as go-sev-guest's client makes it: no buffer.
	err := r.ioctl(uapi.SNPGetExtReport, 1, extReq(1, 0, 0))
	if err != vfs.EIO || r.exitInfo2() != 1<<32 {
		t.Fatalf("SNP_GET_EXT_REPORT without a buffer = %v, exitinfo2 %#x; want EIO, 1<<32", err, r.exitInfo2())
	}
	if got := uapi.UnmarshalExtReportReq(r.read(reqAddr, uapi.ExtReportReqSize)).CertsLen; got != need {
		t.Errorf("certs_len written back = %d, want %d", got, need)
	}
	// The exchange went out without certificates: sequence number used.
	if got := r.seqNo(t); got != 2 {
		t.Errorf("sequence number = %d, want 2", got)
	}

	// Too small, but not empty.
	if err := r.ioctl(uapi.SNPGetExtReport, 1, extReq(1, certAddr, guestmsg.CertPageSize)); err != vfs.EIO || r.exitInfo2() != 1<<32 {
		t.Errorf("one page = %v, exitinfo2 %#x; want EIO, 1<<32", err, r.exitInfo2())
	}

	r.m.CopyOut(certAddr, bytes.Repeat([]byte{0xee}, uapi.MaxCertsLen))
	if err := r.ioctl(uapi.SNPGetExtReport, 1, extReq(2, certAddr, uapi.MaxCertsLen)); err != nil {
		t.Fatalf("SNP_GET_EXT_REPORT with 16 KiB = %v", err)
	}
	certs := r.read(certAddr, uapi.MaxCertsLen)
	table := new(abi.CertTable)
	if err := table.Unmarshal(certs); err != nil {
		t.Fatalf("certificate table: %v", err)
	}
	if vcek, err := table.GetByGUIDString(abi.VcekGUID); err != nil || len(vcek) == 0 {
		t.Errorf("no VCEK in the table: %v", err)
	}
	if !bytes.Equal(certs[need:], make([]byte, uapi.MaxCertsLen-int(need))) {
		t.Error("the certificate buffer is not zero past the table")
	}
	if rep := r.read(respAddr+0x20, guestmsg.ReportSize); rep[0x50] != 2 {
		t.Errorf("REPORT_DATA[0] = %d, want 2", rep[0x50])
	}

	for name, c := range map[string]struct {
		req  []byte
		want error
	}{
		"unaligned":   {extReq(0, certAddr, 100), vfs.EINVAL},
		"above 16KiB": {extReq(0, certAddr, uapi.MaxCertsLen+guestmsg.CertPageSize), vfs.EINVAL},
		"kernel":      {extReq(0, uint64(layout.UserEnd), guestmsg.CertPageSize), vfs.EFAULT},
		"wraps":       {extReq(0, 1<<64-guestmsg.CertPageSize, 2*guestmsg.CertPageSize), vfs.EFAULT},
	} {
		if err := r.ioctl(uapi.SNPGetExtReport, 1, c.req); err != c.want || r.exitInfo2() != uapi.NoFirmwareCall {
			t.Errorf("%s: %v, exitinfo2 %#x; want %v, 0xff", name, err, r.exitInfo2(), c.want)
		}
	}
	// An unmapped buffer the caller offered: the exchange happened, the
	// copy fails.
	if err := r.ioctl(uapi.SNPGetExtReport, 1, extReq(0, base+memSize, uapi.MaxCertsLen)); err != vfs.EFAULT {
		t.Errorf("unmapped certificate buffer = %v, want EFAULT", err)
	}
	if err := r.ioctl(uapi.SNPGetReport, 1, reportReq(0, 0)); err != nil {
		t.Errorf("the key did not survive: %v", err)
	}
}

func TestGetDerivedKey(t *testing.T) {
	r := newRig(t, nil)
	req := make([]byte, uapi.DerivedKeyReqSize)
	binary.LittleEndian.PutUint64(req[8:], uint64(guestmsg.FieldMeasurement))
	var keys [2][]byte
	for i := range keys {
		if err := r.ioctl(uapi.SNPGetDerivedKey, 1, req); err != nil {
			t.Fatalf("SNP_GET_DERIVED_KEY = %v", err)
		}
		resp := r.read(respAddr, uapi.DerivedKeyRespSize)
		if st := binary.LittleEndian.Uint32(resp); st != 0 {
			t.Fatalf("STATUS = %#x", st)
		}
		keys[i] = resp[32:]
	}
	if !bytes.Equal(keys[0], keys[1]) || bytes.Equal(keys[0], make([]byte, 32)) {
		t.Errorf("keys %x and %x: want equal and non-zero", keys[0], keys[1])
	}
	binary.LittleEndian.PutUint32(req[16:], 4) // VMPL 4
	if err := r.ioctl(uapi.SNPGetDerivedKey, 1, req); err != nil {
		t.Fatal(err)
	}
	if st := binary.LittleEndian.Uint32(r.read(respAddr, 4)); st != uint32(guestmsg.StatusInvalidParam) {
		t.Errorf("STATUS = %#x for VMPL 4, want INVALID_PARAM", st)
	}
}

func TestIoctlArguments(t *testing.T) {
	r := newRig(t, nil)
	if err := r.ioctl(uapi.SNPGetReport, 0, reportReq(0, 0)); err != vfs.EINVAL || r.exitInfo2() != 0x1234 {
		t.Errorf("msg_version 0: %v, exitinfo2 %#x; want EINVAL, untouched", err, r.exitInfo2())
	}
	if err := r.ioctl(uapi.SNPGetReport+0x10, 1, nil); err != vfs.ENOTTY || r.exitInfo2() != uapi.NoFirmwareCall {
		t.Errorf("unknown command: %v, exitinfo2 %#x; want ENOTTY, 0xff", err, r.exitInfo2())
	}
	if err := r.dev.Ioctl(r.m, uapi.SNPGetReport, 8); err != vfs.EFAULT {
		t.Errorf("unmapped argument: %v, want EFAULT", err)
	}
	r.m.CopyOut(argAddr, (&uapi.Request{MsgVersion: 1, RespData: respAddr}).Marshal())
	if err := r.dev.Ioctl(r.m, uapi.SNPGetDerivedKey, argAddr); err != vfs.EINVAL || r.exitInfo2() != uapi.NoFirmwareCall {
		t.Errorf("no req_data: %v, exitinfo2 %#x; want EINVAL, 0xff", err, r.exitInfo2())
	}
	r.m.CopyOut(argAddr, (&uapi.Request{MsgVersion: 1, ReqData: 8, RespData: respAddr}).Marshal())
	if err := r.dev.Ioctl(r.m, uapi.SNPGetReport, argAddr); err != vfs.EFAULT {
		t.Errorf("unmapped req_data: %v, want EFAULT", err)
	}
	r.m.CopyOut(argAddr, (&uapi.Request{MsgVersion: 1, ReqData: reqAddr, RespData: 8}).Marshal())
	if err := r.dev.Ioctl(r.m, uapi.SNPGetReport, argAddr); err != vfs.EFAULT {
		t.Errorf("unmapped resp_data: %v, want EFAULT", err)
	}
	if err := r.ioctl(uapi.SNPGetReport, 1, reportReq(0, 0)); err != nil {
		t.Errorf("the key did not survive argument errors: %v", err)
	}
}

// tamper flips a byte of every response's authentication tag.
type tamper struct{ guestmsg.Transport }

func (t tamper) Send(req, resp, certs []byte) (guestmsg.Result, error) {
	res, err := t.Transport.Send(req, resp, certs)
	resp[0] ^= 1
	return res, err
}

// busy answers every request with VMM busy.
type busy struct{ guestmsg.Transport }

func (busy) Send(req, resp, certs []byte) (guestmsg.Result, error) {
	return guestmsg.Result{VMM: guestmsg.VMMBusy}, nil
}

// broken fails every exchange.
type broken struct{ guestmsg.Transport }

func (broken) Send(req, resp, certs []byte) (guestmsg.Result, error) {
	return guestmsg.Result{}, errors.New("host channel gone")
}

func TestKeyDisabled(t *testing.T) {
	for name, c := range map[string]struct {
		wrap      func(guestmsg.Transport) guestmsg.Transport
		seq       uint64 // starting sequence number, if not 0
		want      error
		exitInfo2 uint64
	}{
		"tampered response": {func(t guestmsg.Transport) guestmsg.Transport { return tamper{t} }, 0, EBADMSG, 0x1234},
		"firmware error":    {nil, 10, vfs.EIO, uint64(guestmsg.StatusInvalidParam)},
		"busy":              {func(t guestmsg.Transport) guestmsg.Transport { return busy{t} }, 0, vfs.ETIMEDOUT, 2 << 32},
		"transport failure": {func(t guestmsg.Transport) guestmsg.Transport { return broken{t} }, 0, vfs.EIO, uapi.NoFirmwareCall},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, c.wrap)
			if c.seq != 0 {
				p, _ := secrets.Parse(r.page)
				p.OSArea.MsgSeqNo[0] = c.seq
				copy(r.page, p.Marshal())
				dev, err := New(r.dev.tr.t, r.page)
				if err != nil {
					t.Fatal(err)
				}
				r.dev = dev
			}
			if err := r.ioctl(uapi.SNPGetReport, 1, reportReq(0, 0)); err != c.want || r.exitInfo2() != c.exitInfo2 {
				t.Errorf("first request: %v, exitinfo2 %#x; want %v, %#x", err, r.exitInfo2(), c.want, c.exitInfo2)
			}
			if err := r.ioctl(uapi.SNPGetReport, 1, reportReq(0, 0)); err != vfs.ENOTTY || r.exitInfo2() != uapi.NoFirmwareCall {
				t.Errorf("after: %v, exitinfo2 %#x; want ENOTTY (VMPCK disabled), 0xff", err, r.exitInfo2())
			}
			if p, _ := secrets.Parse(r.page); p.VMPCK[0] != ([32]byte{}) {
				t.Error("VMPCK0 is still in the secrets page")
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New(nil, make([]byte, 100)); err == nil {
		t.Error("New accepted a short secrets page")
	}
	empty := (&secrets.Page{Version: secrets.Version3}).Marshal()
	if _, err := New(nil, empty); err == nil {
		t.Error("New accepted a page without VMPCK0")
	}
}

// Linux x86-64 system call numbers the file-layer test makes.
const (
	sysRead  = 0
	sysOpen  = 2
	sysFstat = 5
	sysLseek = 8
	sysIoctl = 16
)

// TestThroughFileLayer opens the device as an application does: through
// vfs.Options.Devices and the descriptor table's system calls.
func TestThroughFileLayer(t *testing.T) {
	r := newRig(t, nil)
	fs, err := vfs.New(nil, vfs.Options{Devices: map[string]func() vfs.FileImpl{Name: r.dev.Open}})
	if err != nil {
		t.Fatal(err)
	}
	files := fdtable.New(fs, "/init")
	call := func(nr uint64, a ...uint64) int64 {
		var args [6]uint64
		copy(args[:], a)
		ret, ok := files.Syscall(r.m, nil, nr, args)
		if !ok {
			t.Fatalf("system call %d not served", nr)
		}
		return ret
	}
	const pathAddr, statAddr = base + 0x8000, base + 0x9000
	r.m.CopyOut(pathAddr, []byte("/dev/sev-guest\x00"))
	fd := call(sysOpen, pathAddr, linux.ORdwr, 0)
	if fd < 0 {
		t.Fatalf("open /dev/sev-guest = %d", fd)
	}
	if ret := call(sysFstat, uint64(fd), statAddr); ret != 0 {
		t.Fatalf("fstat = %d", ret)
	}
	st := r.read(statAddr, 48)
	mode, rdev := binary.LittleEndian.Uint32(st[24:]), binary.LittleEndian.Uint64(st[40:])
	if mode&linux.SIfmt != linux.SIfchr || linux.DevMajor(rdev) != 10 {
		t.Errorf("fstat: mode %#o, rdev %d:%d; want a character device of major 10 (misc)", mode, linux.DevMajor(rdev), linux.DevMinor(rdev))
	}

	r.m.CopyOut(reqAddr, reportReq(9, 0))
	r.m.CopyOut(argAddr, (&uapi.Request{MsgVersion: 1, ReqData: reqAddr, RespData: respAddr}).Marshal())
	if ret := call(sysIoctl, uint64(fd), uapi.SNPGetReport, argAddr); ret != 0 {
		t.Fatalf("ioctl(SNP_GET_REPORT) = %d", ret)
	}
	if rep := r.read(respAddr+0x20, guestmsg.ReportSize); rep[0x50] != 9 {
		t.Errorf("REPORT_DATA[0] = %d, want 9", rep[0x50])
	}
	if ret := call(sysRead, uint64(fd), respAddr, 16); ret != -int64(linux.EINVAL) {
		t.Errorf("read = %d, want -EINVAL", ret)
	}
	if ret := call(sysLseek, uint64(fd), 0, linux.SeekSet); ret != -int64(linux.ESPIPE) {
		t.Errorf("lseek = %d, want -ESPIPE", ret)
	}
	if ret := call(sysIoctl, uint64(fd), 0x5401, argAddr); ret != -int64(linux.ENOTTY) { // TCGETS
		t.Errorf("ioctl(TCGETS) = %d, want -ENOTTY", ret)
	}
}

func TestConfirmSecureTSC(t *testing.T) {
	r := newRig(t, nil)
	r.l.Secrets.TSCFactor = 250
	r.l.TSCOffset = 0x99
	info, err := r.dev.ConfirmSecureTSC(250)
	if err != nil {
		t.Fatal(err)
	}
	if info.Scale != 1<<32 || info.Offset != 0x99 || info.Factor != 250 {
		t.Errorf("ConfirmSecureTSC = %+v", *info)
	}
	if got := r.seqNo(t); got != 2 {
		t.Errorf("secrets page sequence number %d after TSC_INFO, want 2", got)
	}
	// The kernel calibrated with another TSC_FACTOR: refused, the key
	// stays usable (the answer was authentic).
	if _, err := r.dev.ConfirmSecureTSC(0); err == nil || !strings.Contains(err.Error(), "TSC_FACTOR 250") {
		t.Errorf("ConfirmSecureTSC with another factor = %v, want a TSC_FACTOR refusal", err)
	}
	if err := r.ioctl(uapi.SNPGetReport, 1, reportReq(1, 0)); err != nil || r.seqNo(t) != 6 {
		t.Errorf("report after TSC_INFO: %v, sequence number %d; want 6", err, r.seqNo(t))
	}
	if s := r.psp.Stats(); s.TSCInfo != 2 || s.Rejected != 0 {
		t.Errorf("PSP stats %+v", s)
	}
}

// pspTransport answers with snptest's PSP, which can be told to give
// hostile answers, directly; with fail set, the host reports that
// firmware error without passing the request on.
type pspTransport struct {
	p    *snptest.PSP
	fail *guestmsg.FirmwareStatus
}

func (pspTransport) MaxCertPages() int { return 0 }

func (t pspTransport) Send(req, resp, _ []byte) (guestmsg.Result, error) {
	if *t.fail != guestmsg.StatusSuccess {
		return guestmsg.Result{Firmware: *t.fail}, nil
	}
	msg, st := t.p.Handle(req)
	copy(resp, msg)
	return guestmsg.Result{Firmware: st}, nil
}

func TestConfirmSecureTSCHostile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		psp      func(p *snptest.PSP, fail *guestmsg.FirmwareStatus)
		disables bool
	}{
		{"STATUS INVALID_PARAM", func(p *snptest.PSP, _ *guestmsg.FirmwareStatus) { p.Status = guestmsg.StatusInvalidParam }, false},
		{"GUEST_TSC_SCALE 0", func(p *snptest.PSP, _ *guestmsg.FirmwareStatus) { p.TSCInfo.Scale = 0 }, false},
		{"short response", func(p *snptest.PSP, _ *guestmsg.FirmwareStatus) {
			p.TSCInfoPayload = func() []byte { return make([]byte, 0x40) }
		}, true},
		{"long response", func(p *snptest.PSP, _ *guestmsg.FirmwareStatus) {
			p.TSCInfoPayload = func() []byte { return make([]byte, 0x81) }
		}, true},
		{"empty response", func(p *snptest.PSP, _ *guestmsg.FirmwareStatus) { p.TSCInfoPayload = func() []byte { return nil } }, true},
		{"short failure", func(p *snptest.PSP, _ *guestmsg.FirmwareStatus) {
			p.TSCInfoPayload = func() []byte { return []byte{byte(guestmsg.StatusInvalidParam), 0, 0, 0} }
		}, true},
		{"firmware error", func(_ *snptest.PSP, fail *guestmsg.FirmwareStatus) { *fail = guestmsg.StatusInvalidAddress }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := simpsp.NewLaunch([48]byte{}, [32]byte{})
			if err != nil {
				t.Fatal(err)
			}
			l.Secrets.TSCFactor = 100
			psp, err := snptest.NewPSP(l.Secrets.VMPCK[0][:])
			if err != nil {
				t.Fatal(err)
			}
			psp.TSCInfo = guestmsg.TSCInfoResponse{Scale: 1 << 32, Factor: 100}
			page := l.Secrets.Marshal()
			fail := new(guestmsg.FirmwareStatus)
			dev, err := New(pspTransport{psp, fail}, page)
			if err != nil {
				t.Fatal(err)
			}
			tc.psp(psp, fail)
			if info, err := dev.ConfirmSecureTSC(100); err == nil {
				t.Fatalf("ConfirmSecureTSC accepted %+v", *info)
			}
			p, _ := secrets.Parse(page)
			if gone := p.VMPCK[0] == ([32]byte{}); gone != tc.disables {
				t.Errorf("VMPCK0 wiped: %v, want %v", gone, tc.disables)
			}
			if psp.Reuses != 0 {
				t.Errorf("%d sequence numbers reused", psp.Reuses)
			}
			// A second attempt with the PSP honest again succeeds
			// while the key lives (on new sequence numbers) and is
			// refused once it is disabled.
			psp.Status, psp.TSCInfoPayload, *fail = guestmsg.StatusSuccess, nil, guestmsg.StatusSuccess
			psp.TSCInfo.Scale = 1 << 32
			_, err = dev.ConfirmSecureTSC(100)
			if tc.disables && (err == nil || !strings.Contains(err.Error(), "disabled")) || !tc.disables && err != nil {
				t.Errorf("second attempt: %v", err)
			}
			if psp.Reuses != 0 {
				t.Errorf("%d sequence numbers reused", psp.Reuses)
			}
		})
	}
}
