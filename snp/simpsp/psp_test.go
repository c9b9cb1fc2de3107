package simpsp

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/validate"
	"github.com/google/go-sev-guest/verify"

	"github.com/cocoon-vm/cocoon/hal/pc/guestwire"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/report"
)

var (
	testMeasurement = [48]byte{1, 2, 3, 4}
	testHostData    = [32]byte{0xaa, 0xbb}
)

func newPSP(t *testing.T) (*PSP, *Launch) {
	t.Helper()
	l, err := NewLaunch(testMeasurement, testHostData)
	if err != nil {
		t.Fatal(err)
	}
	c, err := DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(c, l)
	if err != nil {
		t.Fatal(err)
	}
	return p, l
}

// serve runs p on one end of a pipe and returns the guest's end.
func serve(t *testing.T, p *PSP) net.Conn {
	guest, host := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- p.Serve(host) }()
	t.Cleanup(func() {
		guest.Close()
		if err := <-done; err != nil && !errors.Is(err, guestwire.ErrFrame) {
			t.Errorf("Serve = %v", err)
		}
		host.Close()
	})
	return guest
}

// channel returns a guest Channel to p under VMPCK0, as the guest builds
// it from its secrets page.
func channel(t *testing.T, p *PSP, l *Launch) *guestmsg.Channel {
	t.Helper()
	vmpck, err := l.Secrets.Key(0)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := guestmsg.NewChannel(&guestwire.Transport{RW: serve(t, p)}, vmpck, 0, l.Secrets.OSArea.MsgSeqNo[0])
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func verifyOptions(t *testing.T, roots bool) *verify.Options {
	c, _ := DefaultChip()
	o := &verify.Options{DisableCertFetching: true, Now: time.Now()}
	if roots {
		o.TrustedRoots = c.TestRoots()
	}
	return o
}

func attestation(t *testing.T, raw, certs []byte) *spb.Attestation {
	t.Helper()
	r, err := report.Parse(raw)
	if err != nil {
		t.Fatalf("report.Parse: %v", err)
	}
	table := new(abi.CertTable)
	if err := table.Unmarshal(certs); err != nil {
		t.Fatalf("certificate table: %v", err)
	}
	return &spb.Attestation{Report: r, CertificateChain: table.Proto()}
}

func TestExtendedReportVerifies(t *testing.T) {
	p, l := newPSP(t)
	ch := channel(t, p, l)
	req := &guestmsg.ReportRequest{ReportData: [64]byte{'n', 'o', 'n', 'c', 'e'}}
	raw, certs, err := ch.ExtendedReport(req)
	if err != nil {
		t.Fatalf("ExtendedReport: %v", err)
	}
	att := attestation(t, raw, certs)
	if err := report.Check(att.Report, req); err != nil {
		t.Error(err)
	}
	if err := verify.SnpAttestation(att, verifyOptions(t, true)); err != nil {
		t.Fatalf("verify with the test roots: %v", err)
	}
	vmpl := 0
	opts := &validate.Options{
		GuestPolicy: abi.SnpPolicy{SMT: true},
		ReportData:  req.ReportData[:],
		Measurement: testMeasurement[:],
		HostData:    testHostData[:],
		ReportID:    l.ReportID[:],
		VMPL:        &vmpl,
		MinimumTCB:  chipTCB,
	}
	if err := validate.SnpAttestation(att, opts); err != nil {
		t.Errorf("validate: %v", err)
	}
	opts.Measurement = make([]byte, 48)
	if err := validate.SnpAttestation(att, opts); err == nil {
		t.Error("validate accepted a different measurement")
	}

	if err := verify.SnpAttestation(attestation(t, raw, certs), verifyOptions(t, false)); err == nil {
		t.Error("a simulator report verified against AMD's real roots")
	}
	flipped := bytes.Clone(raw)
	flipped[0x50] ^= 1
	if err := verify.SnpAttestation(attestation(t, flipped, certs), verifyOptions(t, true)); err == nil {
		t.Error("a report with a flipped byte verified")
	}
	if s := p.Stats(); s.Reports != 1 || s.ShortBuffer != 0 || s.Rejected != 0 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestReportStatus(t *testing.T) {
	p, l := newPSP(t)
	ch := channel(t, p, l)
	var se *guestmsg.StatusError
	if _, err := ch.Report(&guestmsg.ReportRequest{VMPL: 4}); !errors.As(err, &se) || se.Status != guestmsg.StatusInvalidParam {
		t.Errorf("Report(VMPL 4) = %v, want INVALID_PARAM", err)
	}
	if _, err := ch.Report(&guestmsg.ReportRequest{KeySel: guestmsg.KeyVLEK}); !errors.As(err, &se) || se.Status != guestmsg.StatusInvalidKeySelected {
		t.Errorf("Report(VLEK) = %v, want INVALID_KEY", err)
	}
	raw, err := ch.Report(&guestmsg.ReportRequest{VMPL: 2})
	if err != nil {
		t.Fatalf("the channel did not survive error statuses: %v", err)
	}
	if r, _ := report.Parse(raw); r.GetVmpl() != 2 {
		t.Errorf("VMPL = %d, want 2", r.GetVmpl())
	}
}

// rawExchange sends one sealed request straight to p.
func rawExchange(p *PSP, msg []byte, pages int, ext bool) *guestwire.Response {
	return p.Handle(&guestwire.Request{Extended: ext, CertPages: pages, Message: msg})
}

func seal(t *testing.T, l *Launch, seq uint64, typ guestmsg.MsgType, payload []byte) []byte {
	t.Helper()
	k, err := guestmsg.NewKey(l.Secrets.VMPCK[0][:])
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.Seal(guestmsg.Header{SeqNo: seq, Type: typ, Version: guestmsg.MsgVersion1}, payload)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func reportPayload(t *testing.T) []byte {
	b, err := (&guestmsg.ReportRequest{}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSequenceNumbers(t *testing.T) {
	p, l := newPSP(t)
	first := seal(t, l, 1, guestmsg.MsgReportReq, reportPayload(t))
	rsp := rawExchange(p, first, 0, false)
	if rsp.Result != (guestmsg.Result{}) {
		t.Fatalf("first request: %+v", rsp.Result)
	}
	h, _ := guestmsg.UnmarshalHeader(rsp.Message)
	if h.SeqNo != 2 || h.Type != guestmsg.MsgReportRsp {
		t.Errorf("response header %+v, want sequence number 2, MSG_REPORT_RSP", h)
	}

	for name, msg := range map[string][]byte{
		"replay":          first,
		"skipped ahead":   seal(t, l, 5, guestmsg.MsgReportReq, reportPayload(t)),
		"response number": seal(t, l, 2, guestmsg.MsgReportReq, reportPayload(t)),
		"zero":            seal(t, l, 0, guestmsg.MsgReportReq, reportPayload(t)),
	} {
		if rsp := rawExchange(p, msg, 0, false); rsp.Result.Firmware != guestmsg.StatusInvalidParam || len(rsp.Message) != 0 {
			t.Errorf("%s: answered %+v with %d bytes, want INVALID_PARAM and no message", name, rsp.Result, len(rsp.Message))
		}
	}
	if rsp := rawExchange(p, seal(t, l, 3, guestmsg.MsgReportReq, reportPayload(t)), 0, false); rsp.Result != (guestmsg.Result{}) {
		t.Errorf("the next sequence number after refusals: %+v", rsp.Result)
	}
	if s := p.Stats(); s.Rejected != 4 || s.Reports != 2 {
		t.Errorf("Stats = %+v, want 4 rejected, 2 reports", s)
	}
}

func TestBadMessagesRejected(t *testing.T) {
	p, l := newPSP(t)
	good := seal(t, l, 1, guestmsg.MsgReportReq, reportPayload(t))
	tag := bytes.Clone(good)
	tag[0] ^= 1
	body := bytes.Clone(good)
	body[guestmsg.HeaderSize] ^= 1
	aad := bytes.Clone(good)
	aad[0x3D] ^= 1 // a reserved header byte inside the AAD
	other := seal(t, &Launch{Secrets: l.Secrets}, 1, guestmsg.MsgReportReq, reportPayload(t))
	other[0x3C] = 1 // VMPCK1 did not seal it
	for name, msg := range map[string][]byte{
		"tag":         tag,
		"ciphertext":  body,
		"aad":         aad,
		"wrong key":   other,
		"short":       good[:10],
		"response":    seal(t, l, 1, guestmsg.MsgReportRsp, reportPayload(t)),
		"cpuid":       seal(t, l, 1, guestmsg.MsgCPUIDReq, nil),
		"no such key": append(append([]byte{}, good[:0x3C]...), append([]byte{7}, good[0x3D:]...)...),
		"empty":       nil,
	} {
		if rsp := rawExchange(p, msg, 0, false); rsp.Result.Firmware != guestmsg.StatusInvalidParam || len(rsp.Message) != 0 {
			t.Errorf("%s: answered %+v, want INVALID_PARAM and no message", name, rsp.Result)
		}
	}
	// A malformed payload inside an authentic message gets an authentic
	// answer whose STATUS says so.
	k, _ := guestmsg.NewKey(l.Secrets.VMPCK[0][:])
	rsp := rawExchange(p, seal(t, l, 1, guestmsg.MsgKeyReq, []byte{1}), 0, false)
	_, payload, err := k.Open(rsp.Message)
	if err != nil {
		t.Fatal(err)
	}
	if kr, err := guestmsg.UnmarshalKeyResponse(payload); err != nil || kr.Status != guestmsg.StatusInvalidParam {
		t.Errorf("short MSG_KEY_REQ: %+v, %v; want STATUS INVALID_PARAM", kr, err)
	}
}

func TestCertificateBufferSizing(t *testing.T) {
	p, l := newPSP(t)
	need := p.CertPages()
	if need < 2 {
		t.Fatalf("CertPages = %d; the VCEK, ASK and ARK take more than a page", need)
	}
	msg := seal(t, l, 1, guestmsg.MsgReportReq, reportPayload(t))
	for _, pages := range []int{0, need - 1} {
		rsp := rawExchange(p, msg, pages, true)
		if rsp.Result.VMM != guestmsg.VMMInvalidLength || rsp.Result.CertPages != uint64(need) || len(rsp.Message) != 0 {
			t.Errorf("%d pages: %+v, want VMM invalid length asking for %d", pages, rsp.Result, need)
		}
	}
	// The PSP never saw those: the same sealed bytes are still next.
	rsp := rawExchange(p, msg, need, true)
	if rsp.Result != (guestmsg.Result{}) || len(rsp.Certs) == 0 || len(rsp.Certs) > need*guestmsg.CertPageSize {
		t.Fatalf("%d pages: %+v with %d certificate bytes", need, rsp.Result, len(rsp.Certs))
	}
	if s := p.Stats(); s.ShortBuffer != 2 || s.Reports != 1 {
		t.Errorf("Stats = %+v", s)
	}

	// Through a Channel whose transport offers too little: the request
	// still goes out (without certificates) so the sequence number is
	// consumed, and the channel stays usable.
	ch, err := guestmsg.NewChannel(&onePage{&guestwire.Transport{RW: serve(t, p)}}, l.Secrets.VMPCK[0][:], 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ch.ExtendedReport(&guestmsg.ReportRequest{}); !errors.Is(err, guestmsg.ErrCertificates) {
		t.Errorf("ExtendedReport with one page = %v, want ErrCertificates", err)
	}
	if _, err := ch.Report(&guestmsg.ReportRequest{}); err != nil {
		t.Errorf("Report after a short certificate buffer: %v", err)
	}
}

type onePage struct{ *guestwire.Transport }

func (onePage) MaxCertPages() int { return 1 }

func TestDerivedKeys(t *testing.T) {
	p1, l1 := newPSP(t)
	p2, l2 := newPSP(t)
	ch1, ch2 := channel(t, p1, l1), channel(t, p2, l2)
	vcek := &guestmsg.KeyRequest{GuestFieldSelect: guestmsg.FieldMeasurement | guestmsg.FieldGuestPolicy}
	k1, err := ch1.DeriveKey(vcek)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ch2.DeriveKey(vcek)
	if err != nil {
		t.Fatal(err)
	}
	if k1 != k2 {
		t.Error("two launches of the same measurement on one chip derived different VCEK-rooted keys")
	}
	if again, _ := ch1.DeriveKey(vcek); again != k1 {
		t.Error("the same request derived a different key")
	}
	for name, r := range map[string]*guestmsg.KeyRequest{
		"no fields": {},
		"VMPL 1":    {GuestFieldSelect: vcek.GuestFieldSelect, VMPL: 1},
		"TCB":       {GuestFieldSelect: vcek.GuestFieldSelect | guestmsg.FieldTCBVersion},
		"VMRK":      {GuestFieldSelect: vcek.GuestFieldSelect, RootKeyVMRK: true},
	} {
		if k, err := ch1.DeriveKey(r); err != nil || k == k1 {
			t.Errorf("%s: %x, %v; want a different key", name, k, err)
		}
	}
	vmrk := &guestmsg.KeyRequest{RootKeyVMRK: true}
	if a, _ := ch1.DeriveKey(vmrk); a == ([32]byte{}) {
		t.Error("empty VMRK-rooted key")
	} else if b, _ := ch2.DeriveKey(vmrk); a == b {
		t.Error("two launches derived the same VMRK-rooted key; each launch has its own VMRK")
	}

	high := *vcek
	high.TCBVersion = 0x7f // BL_SPL 127, above the chip's
	for name, r := range map[string]*guestmsg.KeyRequest{
		"VMPL 4":         {VMPL: 4},
		"reserved field": {GuestFieldSelect: 1 << 6},
		"guest SVN":      {GuestSVN: 1},
		"TCB above":      &high,
	} {
		var se *guestmsg.StatusError
		if _, err := ch1.DeriveKey(r); !errors.As(err, &se) || se.Status != guestmsg.StatusInvalidParam {
			t.Errorf("%s: %v, want INVALID_PARAM", name, err)
		}
	}
	var se *guestmsg.StatusError
	if _, err := ch1.DeriveKey(&guestmsg.KeyRequest{KeySel: guestmsg.KeyVLEK}); !errors.As(err, &se) || se.Status != guestmsg.StatusInvalidKeySelected {
		t.Errorf("VLEK: %v, want INVALID_KEY", err)
	}

	other := &Launch{Secrets: l1.Secrets, Measurement: [48]byte{9}, Policy: l1.Policy}
	p3, _ := New(p1.chip, other)
	if k3, err := channel(t, p3, other).DeriveKey(vcek); err != nil || k3 == k1 {
		t.Errorf("another measurement: %x, %v; want a different key", k3, err)
	}
}

func TestServeMalformed(t *testing.T) {
	p, _ := newPSP(t)
	guest, host := net.Pipe()
	defer guest.Close()
	done := make(chan error, 1)
	go func() { done <- p.Serve(host) }()
	go guest.Write([]byte("garbage!garbage!"))
	rsp, err := guestwire.ReadResponse(guest)
	if err != nil || rsp.Result.VMM != guestwire.VMMProtocolError {
		t.Errorf("answer to garbage: %+v, %v; want the protocol error", rsp, err)
	}
	if err := <-done; !errors.Is(err, guestwire.ErrFrame) {
		t.Errorf("Serve = %v, want ErrFrame", err)
	}
}

func TestLaunchDigest(t *testing.T) {
	base := LaunchDigest([]byte("kernel"), []byte("initrd"))
	for name, d := range map[string][48]byte{
		"kernel":  LaunchDigest([]byte("kernel2"), []byte("initrd")),
		"initrd":  LaunchDigest([]byte("kernel"), []byte("initrd2")),
		"shifted": LaunchDigest([]byte("kernelinitrd"), nil),
	} {
		if d == base {
			t.Errorf("changing the %s kept the digest", name)
		}
	}
	if LaunchDigest([]byte("kernel"), []byte("initrd")) != base {
		t.Error("LaunchDigest is not deterministic")
	}
}

func TestTestRootsAreTestOnly(t *testing.T) {
	c, err := DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	// A second process builds the same chain: the roots a verifier makes
	// itself must accept the VCEK the simulator hands out.
	c2, err := newChip()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Signer.Ark.RawSubjectPublicKeyInfo, c2.Signer.Ark.RawSubjectPublicKeyInfo) {
		t.Error("the test ARK key differs between builds")
	}
	if !strings.Contains(c.Signer.Ark.Subject.CommonName, "ARK-Milan") {
		t.Errorf("ARK subject %q", c.Signer.Ark.Subject.CommonName)
	}
}

func TestTSCInfo(t *testing.T) {
	p, l := newPSP(t)
	l.Secrets.TSCFactor = 200
	l.TSCOffset = 0x1234
	ch := channel(t, p, l)
	info, err := ch.TSCInfo()
	if err != nil {
		t.Fatal(err)
	}
	want := guestmsg.TSCInfoResponse{Status: guestmsg.StatusSuccess, Scale: 1 << 32, Offset: 0x1234, Factor: 200}
	if *info != want {
		t.Errorf("TSCInfo = %+v, want %+v", *info, want)
	}
	// A second request takes the next sequence numbers (3 and 4).
	if _, err := ch.TSCInfo(); err != nil || ch.SeqNo() != 4 {
		t.Errorf("second TSCInfo: %v, sequence number %d; want 4", err, ch.SeqNo())
	}
	if s := p.Stats(); s.TSCInfo != 2 || s.Rejected != 0 {
		t.Errorf("Stats = %+v, want 2 TSC_INFO answered", s)
	}

	// Reserved bytes set: an authentic answer with STATUS INVALID_PARAM.
	k, _ := guestmsg.NewKey(l.Secrets.VMPCK[0][:])
	bad := guestmsg.TSCInfoRequest()
	bad[0x40] = 1
	rsp := rawExchange(p, seal(t, l, 5, guestmsg.MsgTSCInfoReq, bad), 0, false)
	_, payload, err := k.Open(rsp.Message)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := guestmsg.UnmarshalTSCInfoResponse(payload); err != nil || r.Status != guestmsg.StatusInvalidParam {
		t.Errorf("MSG_TSC_INFO_REQ with a reserved byte set: %+v, %v; want STATUS INVALID_PARAM", r, err)
	}
}
