// Package simpsp is a simulated AMD Secure Processor (PSP) for SEV-SNP
// attestation under plain QEMU, which cannot run SNP guests. It runs on
// the host, reached by the guest over a host channel (a second serial
// port) with hal/pc/guestwire framing, and answers guest messages as the
// SNP firmware does: the same message header and AES-256-GCM sealing
// under a VMPCK from the secrets page the launcher placed in the guest,
// sequence numbers that must advance by exactly one (replays and bad tags
// are refused without an answer), MSG_REPORT_REQ answered with an
// ATTESTATION_REPORT built with go-sev-guest's abi package and signed by
// the Chip's test-only VCEK, the extended request's certificate table
// (VCEK, ASK, ARK), MSG_KEY_REQ answered with keys derived
// deterministically from a root secret and the selected guest fields, and
// MSG_TSC_INFO_REQ answered with the Launch's simulated Secure TSC
// parameters (no TSC is scaled by anything: plain QEMU has no Secure TSC).
//
// Layouts and checks follow "SEV Secure Nested Paging Firmware ABI
// Specification" (AMD publication 56860), chapter "Guest Messages", and
// for the certificate buffer "SEV-ES Guest-Hypervisor Communication Block
// Standardization" (AMD publication 56421), section 4.1.8. Where the
// firmware's exact status code is not specified for a failure, the PSP
// answers INVALID_PARAM, as snp/snptest's fake does.
//
// Everything here is host-side. The signing keys are go-sev-guest's
// published test keys: a verifier that trusts AMD's real roots rejects
// every report this package signs.
package simpsp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"

	"github.com/cocoon-vm/cocoon/hal/pc/guestwire"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// PSP answers one guest's messages. It is safe for concurrent use;
// requests are handled one at a time.
type PSP struct {
	chip      *Chip
	launch    *Launch
	certTable []byte
	certPages int

	mu    sync.Mutex
	keys  [4]*guestmsg.Key
	last  [4]uint64 // per VMPCK: the sequence number of the last response
	stats Stats
}

// Stats counts what a PSP did.
type Stats struct {
	Reports, Keys int // authentic requests answered
	TSCInfo       int // authentic MSG_TSC_INFO_REQs answered
	Rejected      int // requests refused without an answer
	ShortBuffer   int // extended requests turned back for a larger certificate buffer
}

// New returns a PSP for the guest launch l on chip c.
func New(c *Chip, l *Launch) (*PSP, error) {
	if l.Secrets == nil {
		return nil, errors.New("simulated PSP: the launch has no secrets page")
	}
	p := &PSP{chip: c, launch: l}
	for i := range p.keys {
		vmpck, err := l.Secrets.Key(i)
		if err != nil {
			continue // an absent key answers nothing
		}
		if p.keys[i], err = guestmsg.NewKey(vmpck); err != nil {
			return nil, err
		}
	}
	table, err := c.CertTable()
	if err != nil {
		return nil, err
	}
	p.certTable = table
	p.certPages = (len(table) + guestmsg.CertPageSize - 1) / guestmsg.CertPageSize
	return p, nil
}

// Stats returns the counts so far.
func (p *PSP) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// CertPages is the certificate buffer, in pages, an extended request must
// offer.
func (p *PSP) CertPages() int { return p.certPages }

// Handle answers one guest request as the hypervisor and PSP together
// would. An extended request offering fewer pages than the certificate
// table needs is turned back with VMM error 1 and the pages needed (GHCB
// spec 4.1.8), without reaching the PSP: its sequence number is not used.
func (p *PSP) Handle(r *guestwire.Request) *guestwire.Response {
	if r.Extended && r.CertPages < p.certPages {
		p.mu.Lock()
		p.stats.ShortBuffer++
		p.mu.Unlock()
		return &guestwire.Response{Result: guestmsg.Result{VMM: guestmsg.VMMInvalidLength, CertPages: uint64(p.certPages)}}
	}
	msg, status := p.guestRequest(r.Message)
	if status != guestmsg.StatusSuccess {
		return &guestwire.Response{Result: guestmsg.Result{Firmware: status}}
	}
	rsp := &guestwire.Response{Message: msg}
	if r.Extended {
		rsp.Certs = p.certTable
	}
	return rsp
}

// Serve answers requests read from rw until the stream ends; it returns
// nil at a clean end. A malformed frame is answered with
// guestwire.VMMProtocolError and ends Serve with an error.
func (p *PSP) Serve(rw io.ReadWriter) error {
	for {
		req, err := guestwire.ReadRequest(rw)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, guestwire.ErrFrame) {
				guestwire.WriteResponse(rw, &guestwire.Response{Result: guestmsg.Result{VMM: guestwire.VMMProtocolError}})
			}
			return err
		}
		if err := guestwire.WriteResponse(rw, p.Handle(req)); err != nil {
			return err
		}
	}
}

// guestRequest checks, opens and answers one sealed message. Anything
// that is not the authentic next message under its VMPCK is refused with
// a firmware error and no answer, and leaves the sequence number where it
// was.
func (p *PSP) guestRequest(msg []byte) ([]byte, guestmsg.FirmwareStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	reject := func() ([]byte, guestmsg.FirmwareStatus) {
		p.stats.Rejected++
		return nil, guestmsg.StatusInvalidParam
	}
	h, err := guestmsg.UnmarshalHeader(msg)
	if err != nil || h.VMPCK > 3 || p.keys[h.VMPCK] == nil {
		return reject()
	}
	key := p.keys[h.VMPCK]
	if h.SeqNo != p.last[h.VMPCK]+1 || h.SeqNo > 1<<64-3 {
		return reject() // a replay, or out of order
	}
	h, payload, err := key.Open(msg)
	if err != nil || !h.Type.IsRequest() || h.Version != guestmsg.MsgVersion1 {
		return reject()
	}
	var rsp []byte
	switch h.Type {
	case guestmsg.MsgReportReq:
		rsp = p.report(payload).Marshal()
		p.stats.Reports++
	case guestmsg.MsgKeyReq:
		rsp = p.derivedKey(payload).Marshal()
		p.stats.Keys++
	case guestmsg.MsgTSCInfoReq:
		rsp = p.tscInfo(payload).Marshal()
		p.stats.TSCInfo++
	default:
		return reject()
	}
	sealed, err := key.Seal(guestmsg.Header{SeqNo: h.SeqNo + 1, Type: h.Type.Response(), Version: h.Version, VMPCK: h.VMPCK}, rsp)
	if err != nil {
		return reject()
	}
	p.last[h.VMPCK] = h.SeqNo + 1
	return sealed, guestmsg.StatusSuccess
}

// report answers MSG_REPORT_REQ.
func (p *PSP) report(payload []byte) *guestmsg.ReportResponse {
	req, err := guestmsg.UnmarshalReportRequest(payload)
	switch {
	case err != nil || req.VMPL < p.launch.VMPL || req.VMPL > 3:
		return &guestmsg.ReportResponse{Status: guestmsg.StatusInvalidParam}
	case req.KeySel == guestmsg.KeyVLEK:
		// No VLEK is installed: reports are signed with the VCEK.
		return &guestmsg.ReportResponse{Status: guestmsg.StatusInvalidKeySelected}
	}
	raw, err := p.signedReport(req)
	if err != nil {
		return &guestmsg.ReportResponse{Status: guestmsg.StatusInvalidParam}
	}
	return &guestmsg.ReportResponse{Status: guestmsg.StatusSuccess, Report: raw}
}

// tscInfo answers MSG_TSC_INFO_REQ with the launch's simulated Secure
// TSC parameters and the secrets page's TSC_FACTOR, which the firmware
// reports in both places. A request whose reserved bytes are not zero is
// refused with INVALID_PARAM.
func (p *PSP) tscInfo(payload []byte) *guestmsg.TSCInfoResponse {
	if guestmsg.UnmarshalTSCInfoRequest(payload) != nil {
		return &guestmsg.TSCInfoResponse{Status: guestmsg.StatusInvalidParam}
	}
	l := p.launch
	return &guestmsg.TSCInfoResponse{Status: guestmsg.StatusSuccess, Scale: l.TSCScale, Offset: l.TSCOffset, Factor: l.Secrets.TSCFactor}
}

// Report fields of a simulated report (SNP Firmware ABI, table
// "ATTESTATION_REPORT Structure").
const (
	reportVersion = abi.ReportVersion3
	// signatureAlgoECDSAP384 is SIGNATURE_ALGO 1, ECDSA P-384 with SHA-384.
	signatureAlgoECDSAP384 = 1
	// platformSMTEnabled is PLATFORM_INFO bit 0: SMT is enabled.
	platformSMTEnabled = 1 << 0
)

// signedReport builds the ATTESTATION_REPORT for req and signs it with
// the chip's VCEK.
func (p *PSP) signedReport(req *guestmsg.ReportRequest) ([]byte, error) {
	l, c := p.launch, p.chip
	tcb := c.tcbVersion()
	r := &spb.Report{
		Version:         reportVersion,
		GuestSvn:        l.GuestSVN,
		Policy:          l.Policy,
		FamilyId:        l.FamilyID[:],
		ImageId:         l.ImageID[:],
		Vmpl:            req.VMPL,
		SignatureAlgo:   signatureAlgoECDSAP384,
		CurrentTcb:      tcb,
		PlatformInfo:    platformSMTEnabled,
		SignerInfo:      abi.ComposeSignerInfo(abi.SignerInfo{SigningKey: abi.VcekReportSigner}),
		ReportData:      req.ReportData[:],
		Measurement:     l.Measurement[:],
		HostData:        l.HostData[:],
		IdKeyDigest:     make([]byte, abi.IDKeyDigestSize),
		AuthorKeyDigest: make([]byte, abi.AuthorKeyDigestSize),
		ReportId:        l.ReportID[:],
		// No migration agent: REPORT_ID_MA is all ones.
		ReportIdMa:     bytes.Repeat([]byte{0xff}, abi.ReportIDMASize),
		ReportedTcb:    tcb,
		ChipId:         c.ChipID[:],
		CommittedTcb:   tcb,
		CurrentBuild:   uint32(c.Build),
		CurrentMinor:   uint32(c.Minor),
		CurrentMajor:   uint32(c.Major),
		CommittedBuild: uint32(c.Build),
		CommittedMinor: uint32(c.Minor),
		CommittedMajor: uint32(c.Major),
		LaunchTcb:      tcb,
		Signature:      make([]byte, abi.SignatureSize),
		Cpuid1EaxFms:   c.CPUID1EAX,
	}
	raw, err := abi.ReportToAbiBytes(r)
	if err != nil {
		return nil, fmt.Errorf("simulated PSP: %v", err)
	}
	signMu.Lock()
	R, S, err := c.Signer.Sign(abi.SignedComponent(raw))
	signMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("simulated PSP: signing: %v", err)
	}
	if err := abi.SetSignature(R, S, raw); err != nil {
		return nil, fmt.Errorf("simulated PSP: signing: %v", err)
	}
	return raw, nil
}

// allFields are the GUEST_FIELD_SELECT bits message version 1 defines;
// the others are reserved.
const allFields = guestmsg.FieldGuestPolicy | guestmsg.FieldImageID | guestmsg.FieldFamilyID |
	guestmsg.FieldMeasurement | guestmsg.FieldGuestSVN | guestmsg.FieldTCBVersion

// derivedKey answers MSG_KEY_REQ. As the firmware does, it refuses a VMPL
// more privileged than the guest's, a GUEST_SVN above the guest's, a
// TCB_VERSION above the committed TCB, reserved field bits, and the VLEK,
// which is not installed.
func (p *PSP) derivedKey(payload []byte) *guestmsg.KeyResponse {
	req, err := guestmsg.UnmarshalKeyRequest(payload)
	l, c := p.launch, p.chip
	switch {
	case err != nil, req.VMPL < l.VMPL, req.VMPL > 3, req.GuestFieldSelect&^allFields != 0,
		req.GuestSVN > l.GuestSVN, !kds.TCBPartsLE(kds.DecomposeTCBVersion(kds.TCBVersion(req.TCBVersion)), c.TCB):
		return &guestmsg.KeyResponse{Status: guestmsg.StatusInvalidParam}
	case req.KeySel == guestmsg.KeyVLEK:
		return &guestmsg.KeyResponse{Status: guestmsg.StatusInvalidKeySelected}
	}
	root := c.RootSecret
	if req.RootKeyVMRK {
		root = l.VMRK
	}
	return &guestmsg.KeyResponse{Status: guestmsg.StatusSuccess, Key: p.deriveKey(root, req)}
}

// deriveKey is the simulated key derivation: HMAC-SHA-256 under the root
// key over a fixed-size context of the request's VMPL and field selection
// and each selected field, zero where not selected. (The firmware uses a
// NIST SP 800-108 KDF; what matters here is that equal inputs give equal
// keys and any change gives another.)
func (p *PSP) deriveKey(root [32]byte, req *guestmsg.KeyRequest) [guestmsg.DerivedKeySize]byte {
	l := p.launch
	var ctx struct {
		VMPL        uint32
		FieldSelect uint64
		Policy      uint64
		ImageID     [abi.ImageIDSize]byte
		FamilyID    [abi.FamilyIDSize]byte
		Measurement [abi.MeasurementSize]byte
		GuestSVN    uint32
		TCBVersion  uint64
	}
	ctx.VMPL, ctx.FieldSelect = req.VMPL, uint64(req.GuestFieldSelect)
	sel := req.GuestFieldSelect
	if sel&guestmsg.FieldGuestPolicy != 0 {
		ctx.Policy = l.Policy
	}
	if sel&guestmsg.FieldImageID != 0 {
		ctx.ImageID = l.ImageID
	}
	if sel&guestmsg.FieldFamilyID != 0 {
		ctx.FamilyID = l.FamilyID
	}
	if sel&guestmsg.FieldMeasurement != 0 {
		ctx.Measurement = l.Measurement
	}
	if sel&guestmsg.FieldGuestSVN != 0 {
		ctx.GuestSVN = req.GuestSVN
	}
	if sel&guestmsg.FieldTCBVersion != 0 {
		ctx.TCBVersion = req.TCBVersion
	}
	m := hmac.New(sha256.New, root[:])
	m.Write([]byte("cocoon simulated PSP derived key v1\x00"))
	binary.Write(m, binary.LittleEndian, &ctx)
	var k [guestmsg.DerivedKeySize]byte
	m.Sum(k[:0])
	return k
}
