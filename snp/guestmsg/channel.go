package guestmsg

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// CertPageSize is the unit of certificate buffer sizes (GHCB spec section
// 4.1.8: RBX counts 4 KiB pages).
const CertPageSize = 4096

// Result is the host's answer to one guest request.
type Result struct {
	VMM      VMMError       // SW_EXITINFO2[63:32]
	Firmware FirmwareStatus // SW_EXITINFO2[31:0]
	// CertPages is, with VMMInvalidLength, the number of certificate
	// pages the host says it needs (RBX).
	CertPages uint64
}

// Transport carries sealed guest messages between the guest and the PSP:
// in the kernel the platform's guest requests (PlatformTransport: the GHCB
// guest request exits on SEV-SNP, the host channel to a simulated PSP on
// the PC platform); in host tests a direct connection.
type Transport interface {
	// Send delivers the sealed request req and copies the sealed response
	// into resp (MaxMessageSize bytes). If certs is non-nil it makes an
	// extended request offering len(certs)/CertPageSize pages for the
	// host's certificate table, which it copies into certs. A non-nil
	// error means the exchange failed without a result; whether the PSP
	// saw the request is then unknown.
	Send(req, resp, certs []byte) (Result, error)
	// MaxCertPages is the largest certificate buffer Send can offer.
	MaxCertPages() int
}

// Channel limits.
const (
	// DefaultCertPages is the certificate buffer offered first (16 KiB,
	// enough for a VCEK, ASK and ARK).
	DefaultCertPages = 4
	// MaxBusyRetries bounds how often a request is re-sent while the host
	// reports VMMBusy.
	MaxBusyRetries = 64
)

// Channel exchanges guest messages with the PSP under one VMPCK. It owns
// the key's message sequence numbers: request n+1 is answered by response
// n+2, and the counter moves on by two only after an authentic answer.
// A sequence number is never used to seal two different messages; when the
// outcome of an exchange is unknown, the Channel disables itself for good
// rather than risk that. A Channel is safe for concurrent use; exchanges
// are serialized.
type Channel struct {
	t     Transport
	key   *Key
	index uint8

	mu       sync.Mutex
	seqno    uint64 // last sequence number used (by a response)
	disabled error
}

// NewChannel returns a Channel for VMPCK number index, whose last used
// sequence number is seqno (0 for a fresh key).
func NewChannel(t Transport, vmpck []byte, index uint8, seqno uint64) (*Channel, error) {
	if index > 3 {
		return nil, fmt.Errorf("guest message channel: VMPCK index %d, want 0 to 3", index)
	}
	key, err := NewKey(vmpck)
	if err != nil {
		return nil, err
	}
	return &Channel{t: t, key: key, index: index, seqno: seqno}, nil
}

// SeqNo returns the last sequence number used, to hand on to a later
// stage (secrets page OS area).
func (c *Channel) SeqNo() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seqno
}

// Err returns the reason the Channel was disabled, or nil.
func (c *Channel) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.disabled
}

// DisabledError reports an exchange refused because an earlier one left
// the key's sequence-number state unknown.
type DisabledError struct {
	Index uint8
	Cause error
}

func (e *DisabledError) Error() string {
	return fmt.Sprintf("VMPCK%d disabled after an exchange with unknown outcome: %v", e.Index, e.Cause)
}

func (e *DisabledError) Unwrap() error { return e.Cause }

// HostError reports a guest request the host or PSP failed.
type HostError struct {
	Result Result
	Reason string
}

func (e *HostError) Error() string {
	return fmt.Sprintf("guest request: %s (VMM: %v, firmware: %v)", e.Reason, e.Result.VMM, e.Result.Firmware)
}

// ResponseError reports a response that is not the authentic answer to
// the request.
type ResponseError struct {
	Reason string
	Err    error
}

func (e *ResponseError) Error() string {
	if e.Err != nil {
		return "guest message response: " + e.Reason + ": " + e.Err.Error()
	}
	return "guest message response: " + e.Reason
}

func (e *ResponseError) Unwrap() error { return e.Err }

// ErrCertificates reports that an extended request got its response but
// not the certificates: the host asked for a buffer above the limit, or
// for a larger one again after the first retry.
var ErrCertificates = errors.New("guest request: host did not deliver certificates within the buffer limit")

// Request is one guest message to send.
type Request struct {
	Type    MsgType
	Version uint8
	Payload []byte
	// Certs makes this an extended request (GHCB spec section 4.1.8):
	// the host returns its certificate table with the response.
	Certs bool
}

// Response is the authentic answer to a Request.
type Response struct {
	Header  Header
	Payload []byte
	Certs   []byte // the certificate buffer of an extended request
}

// Exchange seals req with the next sequence number, sends it, and checks
// and opens the answer. Exchange fails with a *DisabledError once the
// channel is disabled; it disables the channel when the outcome is
// unknown: transport failure, VMM or firmware error, busy beyond
// MaxBusyRetries, or a response that is not authentic.
func (c *Channel) Exchange(req Request) (*Response, error) {
	if !req.Type.IsRequest() {
		return nil, fmt.Errorf("guest message: %v is not a request type", req.Type)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disabled != nil {
		return nil, &DisabledError{Index: c.index, Cause: c.disabled}
	}
	if c.seqno > math.MaxUint64-2 {
		return nil, c.disable(errors.New("message sequence numbers exhausted"))
	}
	reqSeq, rspSeq := c.seqno+1, c.seqno+2
	sealed, err := c.key.Seal(Header{SeqNo: reqSeq, Type: req.Type, Version: req.Version, VMPCK: c.index}, req.Payload)
	if err != nil {
		return nil, err // nothing was sent
	}

	resp := make([]byte, MaxMessageSize)
	certs, certErr := c.certBuffer(req.Certs)
	busy, resized := 0, false
	for {
		res, err := c.t.Send(sealed, resp, certs)
		if err != nil {
			return nil, c.disable(fmt.Errorf("transport: %w", err))
		}
		switch res.VMM {
		case VMMOK:
		case VMMBusy:
			if busy++; busy > MaxBusyRetries {
				return nil, c.disable(&HostError{res, fmt.Sprintf("host still busy after %d retries", MaxBusyRetries)})
			}
			continue
		case VMMInvalidLength:
			if certs == nil {
				return nil, c.disable(&HostError{res, "certificate buffer too small for a request without one"})
			}
			// The host says it did not pass the request on. Re-send the
			// identical sealed bytes: never re-seal under this sequence
			// number. One larger buffer is offered; after that, or above
			// the limit, the request goes out without certificates so the
			// PSP still consumes the sequence number.
			if need := res.CertPages; !resized && need > uint64(len(certs)/CertPageSize) && need <= uint64(c.t.MaxCertPages()) {
				certs, resized = make([]byte, need*CertPageSize), true
			} else {
				certs, certErr = nil, fmt.Errorf("%w: host asked for %d pages", ErrCertificates, need)
			}
			continue
		default:
			return nil, c.disable(&HostError{res, "hypervisor error"})
		}
		if res.Firmware != StatusSuccess {
			return nil, c.disable(&HostError{res, "PSP rejected the request"})
		}
		break
	}

	h, payload, err := c.open(resp, req, rspSeq)
	if err != nil {
		return nil, c.disable(err)
	}
	c.seqno = rspSeq
	if certErr != nil {
		return nil, certErr
	}
	return &Response{Header: h, Payload: payload, Certs: certs}, nil
}

func (c *Channel) certBuffer(want bool) ([]byte, error) {
	if !want {
		return nil, nil
	}
	pages := min(DefaultCertPages, c.t.MaxCertPages())
	if pages <= 0 {
		return nil, fmt.Errorf("%w: transport offers no certificate buffer", ErrCertificates)
	}
	return make([]byte, pages*CertPageSize), nil
}

// open checks that resp answers req with sequence number seq, then
// authenticates and decrypts it.
func (c *Channel) open(resp []byte, req Request, seq uint64) (Header, []byte, error) {
	h, err := UnmarshalHeader(resp)
	if err != nil {
		return Header{}, nil, &ResponseError{Reason: "malformed", Err: err}
	}
	switch {
	case h.SeqNo != seq:
		return h, nil, &ResponseError{Reason: fmt.Sprintf("sequence number %d, want %d", h.SeqNo, seq)}
	case h.Type != req.Type.Response():
		return h, nil, &ResponseError{Reason: fmt.Sprintf("type %v, want %v", h.Type, req.Type.Response())}
	case h.Version != req.Version:
		return h, nil, &ResponseError{Reason: fmt.Sprintf("message version %d, want %d", h.Version, req.Version)}
	case h.VMPCK != c.index:
		return h, nil, &ResponseError{Reason: fmt.Sprintf("VMPCK %d, want %d", h.VMPCK, c.index)}
	}
	h, payload, err := c.key.Open(resp)
	if err != nil {
		return h, nil, &ResponseError{Reason: "not authentic", Err: err}
	}
	return h, payload, nil
}

func (c *Channel) disable(err error) error {
	c.disabled = err
	c.key = nil
	return &DisabledError{Index: c.index, Cause: err}
}

// StatusError reports an authentic response whose payload STATUS is not
// success. The channel stays usable.
type StatusError struct {
	Type   MsgType
	Status FirmwareStatus
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%v: PSP returned %v", e.Type, e.Status)
}

// Report asks the PSP for an attestation report and returns its raw
// ReportSize bytes.
func (c *Channel) Report(r *ReportRequest) ([]byte, error) {
	report, _, err := c.report(r, false)
	return report, err
}

// ExtendedReport asks for an attestation report and the host's certificate
// table (GHCB spec section 4.1.8).
func (c *Channel) ExtendedReport(r *ReportRequest) (report, certs []byte, err error) {
	return c.report(r, true)
}

func (c *Channel) report(r *ReportRequest, ext bool) ([]byte, []byte, error) {
	payload, err := r.Marshal()
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Exchange(Request{Type: MsgReportReq, Version: MsgVersion1, Payload: payload, Certs: ext})
	if err != nil {
		return nil, nil, err
	}
	rsp, err := UnmarshalReportResponse(resp.Payload)
	if err != nil {
		return nil, nil, err
	}
	if rsp.Status != StatusSuccess {
		return nil, nil, &StatusError{Type: MsgReportRsp, Status: rsp.Status}
	}
	return rsp.Report, resp.Certs, nil
}

// DeriveKey asks the PSP for a key derived from the chip's root key and
// the guest fields r selects.
func (c *Channel) DeriveKey(r *KeyRequest) ([DerivedKeySize]byte, error) {
	payload, err := r.Marshal()
	if err != nil {
		return [DerivedKeySize]byte{}, err
	}
	resp, err := c.Exchange(Request{Type: MsgKeyReq, Version: MsgVersion1, Payload: payload})
	if err != nil {
		return [DerivedKeySize]byte{}, err
	}
	rsp, err := UnmarshalKeyResponse(resp.Payload)
	if err != nil {
		return [DerivedKeySize]byte{}, err
	}
	if rsp.Status != StatusSuccess {
		return [DerivedKeySize]byte{}, &StatusError{Type: MsgKeyRsp, Status: rsp.Status}
	}
	return rsp.Key, nil
}

// TSCInfo asks the PSP for the guest's Secure TSC parameters
// (MSG_TSC_INFO_REQ) under the channel's next sequence numbers. A
// response of the wrong size or with a STATUS other than success is an
// error; nothing of it is returned.
func (c *Channel) TSCInfo() (*TSCInfoResponse, error) {
	resp, err := c.Exchange(Request{Type: MsgTSCInfoReq, Version: MsgVersion1, Payload: TSCInfoRequest()})
	if err != nil {
		return nil, err
	}
	rsp, err := UnmarshalTSCInfoResponse(resp.Payload)
	if err != nil {
		return nil, err
	}
	if rsp.Status != StatusSuccess {
		return nil, &StatusError{Type: MsgTSCInfoRsp, Status: rsp.Status}
	}
	return rsp, nil
}
