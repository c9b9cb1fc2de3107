// Package snptest provides a fake SEV-SNP hypervisor and PSP for host
// tests: the Hypervisor implements ghcbmsr.CPU over a simulated guest
// memory, answers the GHCB MSR protocol and GHCB exits (page state change,
// guest requests), and can be told to answer in hostile ways; the PSP
// answers guest messages with the real sealing and records any sequence
// number the guest reuses for different content.
package snptest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// PSP answers guest messages as the SNP firmware would.
type PSP struct {
	keys [4]*guestmsg.Key
	last [4]uint64 // last sequence number per key (of a response)
	seen map[[2]uint64][32]byte

	// Status is the STATUS the PSP puts in report and key responses.
	Status guestmsg.FirmwareStatus
	// Report builds the report for a request; by default an unsigned
	// version 2 report carrying the request's REPORT_DATA and VMPL.
	Report func(req *guestmsg.ReportRequest) []byte

	// TSCInfo is what MSG_TSC_INFO_RSP carries when Status is success
	// (its Status field is ignored).
	TSCInfo guestmsg.TSCInfoResponse
	// TSCInfoPayload, if set, builds the raw MSG_TSC_INFO_RSP payload
	// instead: a hostile or broken firmware's answer of any size.
	TSCInfoPayload func() []byte

	// Handled counts requests the PSP authenticated and answered.
	Handled int
	// Reuses counts sequence numbers the guest sent twice with different
	// content. Anything but zero is an IV reuse.
	Reuses int
}

// NewPSP returns a PSP holding the given VMPCKs (nil for absent keys).
func NewPSP(vmpck ...[]byte) (*PSP, error) {
	p := &PSP{seen: make(map[[2]uint64][32]byte)}
	for i, k := range vmpck {
		if k == nil {
			continue
		}
		key, err := guestmsg.NewKey(k)
		if err != nil {
			return nil, err
		}
		p.keys[i] = key
	}
	return p, nil
}

// Handle processes one sealed request and returns the sealed response, or
// a firmware error for the SW_EXITINFO2 low half. Requests out of
// sequence, unauthentic, or of an unsupported type are rejected with
// StatusInvalidParam, without a response.
func (p *PSP) Handle(req []byte) ([]byte, guestmsg.FirmwareStatus) {
	h, err := guestmsg.UnmarshalHeader(req)
	if err != nil || h.VMPCK > 3 || p.keys[h.VMPCK] == nil {
		return nil, guestmsg.StatusInvalidParam
	}
	n := guestmsg.HeaderSize + int(h.Size)
	if n > len(req) {
		return nil, guestmsg.StatusInvalidParam
	}
	sum := sha256.Sum256(req[:n])
	id := [2]uint64{uint64(h.VMPCK), h.SeqNo}
	if prev, ok := p.seen[id]; ok && prev != sum {
		p.Reuses++
	}
	p.seen[id] = sum

	key := p.keys[h.VMPCK]
	h, payload, err := key.Open(req)
	if err != nil || h.SeqNo != p.last[h.VMPCK]+1 {
		return nil, guestmsg.StatusInvalidParam
	}
	var rsp []byte
	switch h.Type {
	case guestmsg.MsgReportReq:
		r, err := guestmsg.UnmarshalReportRequest(payload)
		if err != nil {
			return nil, guestmsg.StatusInvalidParam
		}
		out := &guestmsg.ReportResponse{Status: p.Status}
		if p.Status == guestmsg.StatusSuccess {
			out.Report = p.report(r)
		}
		rsp = out.Marshal()
	case guestmsg.MsgKeyReq:
		r, err := guestmsg.UnmarshalKeyRequest(payload)
		if err != nil {
			return nil, guestmsg.StatusInvalidParam
		}
		out := &guestmsg.KeyResponse{Status: p.Status}
		if p.Status == guestmsg.StatusSuccess {
			out.Key = sha256.Sum256(fmt.Appendf(nil, "derived %d %+v", h.VMPCK, *r))
		}
		rsp = out.Marshal()
	case guestmsg.MsgTSCInfoReq:
		if guestmsg.UnmarshalTSCInfoRequest(payload) != nil {
			return nil, guestmsg.StatusInvalidParam
		}
		out := p.TSCInfo
		out.Status = p.Status
		rsp = out.Marshal()
		if p.TSCInfoPayload != nil {
			rsp = p.TSCInfoPayload()
		}
	default:
		return nil, guestmsg.StatusInvalidParam
	}
	sealed, err := key.Seal(guestmsg.Header{SeqNo: h.SeqNo + 1, Type: h.Type.Response(), Version: h.Version, VMPCK: h.VMPCK}, rsp)
	if err != nil {
		return nil, guestmsg.StatusInvalidParam
	}
	p.last[h.VMPCK] = h.SeqNo + 1
	p.Handled++
	return sealed, guestmsg.StatusSuccess
}

// Attestation report fields of the default report (SNP Firmware ABI,
// table "ATTESTATION_REPORT Structure").
const (
	reportOffVersion    = 0x00 // uint32 VERSION
	reportOffPolicy     = 0x08 // uint64 POLICY
	reportOffVMPL       = 0x30 // uint32 VMPL
	reportOffReportData = 0x50 // 64 bytes REPORT_DATA

	reportVersion = 2
	// reportPolicy sets POLICY bit 17, reserved and must be one, and
	// bit 16, SMT allowed (SNP Firmware ABI, table "Guest Policy").
	reportPolicy = 1<<17 | 1<<16
)

func (p *PSP) report(r *guestmsg.ReportRequest) []byte {
	if p.Report != nil {
		return p.Report(r)
	}
	b := make([]byte, guestmsg.ReportSize)
	binary.LittleEndian.PutUint32(b[reportOffVersion:], reportVersion)
	binary.LittleEndian.PutUint64(b[reportOffPolicy:], reportPolicy)
	binary.LittleEndian.PutUint32(b[reportOffVMPL:], r.VMPL)
	copy(b[reportOffReportData:], r.ReportData[:])
	return b
}
