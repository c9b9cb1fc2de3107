// Package guestwire is the PC platform's transport of SEV-SNP guest
// requests: the byte protocol between the guest and a host-side PSP (the
// simulated one, snp/simpsp, under plain QEMU) over the platform's host
// channel, COM2. The guest sees only hal.GuestTransport; this format is
// what stands between that transport and the host. A
// frame carries exactly what the GHCB guest request exits carry on SEV-SNP
// hardware ("SEV-ES Guest-Hypervisor Communication Block Standardization",
// AMD publication 56421, sections 4.1.7 "SNP Guest Request" and 4.1.8 "SNP
// Extended Guest Request"): the sealed request, the number of certificate
// pages offered, the sealed response, SW_EXITINFO2 and the certificate
// buffer. So the guest's message code (snp/guestmsg's Channel) is the same
// on hardware and under the simulator; only the transport differs.
//
// Every frame is
//
//	offset  size  field
//	0x00    4     Magic, "CPSP"
//	0x04    4     body length, little-endian, at most MaxBody
//	0x08    n     body
//
// A request body (guest to host) is
//
//	0x00    1     kind: KindRequest or KindExtended
//	0x01    3     reserved, zero
//	0x04    4     certificate pages offered (KindExtended; zero otherwise)
//	0x08    m     sealed guest message (at most guestmsg.MaxMessageSize)
//
// and a response body (host to guest) is
//
//	0x00    4     VMM error, SW_EXITINFO2[63:32]
//	0x04    4     firmware status, SW_EXITINFO2[31:0]
//	0x08    4     certificate pages needed (with VMM error 1), RBX
//	0x0C    4     length m of the sealed response message
//	0x10    m     sealed response message (at most guestmsg.MaxMessageSize)
//	0x10+m  c     certificate buffer contents (at most the pages offered)
//
// Nothing here is secret: the messages are sealed with the VMPCK, as the
// pages they travel in are shared with the hypervisor on hardware.
package guestwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// Magic starts every frame.
var Magic = [4]byte{'C', 'P', 'S', 'P'}

// Request kinds.
const (
	KindRequest  = 1 // SNP Guest Request (GHCB exit 0x80000011)
	KindExtended = 2 // SNP Extended Guest Request (GHCB exit 0x80000012)
)

// Limits.
const (
	// MaxCertPages is the largest certificate buffer a request may offer.
	MaxCertPages = 16
	// MaxBody is the largest frame body.
	MaxBody = responseHeader + guestmsg.MaxMessageSize + MaxCertPages*guestmsg.CertPageSize

	frameHeader    = 8
	requestHeader  = 8
	responseHeader = 16
)

// VMMProtocolError is the VMM error a host answers a malformed frame
// with, just before it closes the channel: the stream can no longer be
// trusted to be in step.
const VMMProtocolError guestmsg.VMMError = 0xFFFF_FFFF

// Request is one guest request as the host receives it.
type Request struct {
	Extended  bool
	CertPages int    // pages offered, for an extended request
	Message   []byte // the sealed request
}

// Response is the host's answer to a Request.
type Response struct {
	Result  guestmsg.Result
	Message []byte // the sealed response; empty when the PSP gave none
	Certs   []byte // certificate buffer contents; at most the pages offered
}

// ErrFrame reports bytes that are not a well-formed frame.
var ErrFrame = errors.New("simulated PSP channel: malformed frame")

func frameErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFrame, fmt.Sprintf(format, args...))
}

// writeFrame writes body as one frame with a single Write.
func writeFrame(w io.Writer, body []byte) error {
	if len(body) > MaxBody {
		return frameErr("body of %d bytes above %d", len(body), MaxBody)
	}
	b := make([]byte, frameHeader+len(body))
	copy(b, Magic[:])
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	copy(b[frameHeader:], body)
	_, err := w.Write(b)
	return err
}

// readFrame reads one frame and returns its body. io.EOF means the
// stream ended cleanly before a frame.
func readFrame(r io.Reader) ([]byte, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, frameErr("stream ended inside a frame header")
		}
		return nil, err
	}
	if !bytes.Equal(h[:4], Magic[:]) {
		return nil, frameErr("magic %q, want %q", h[:4], Magic[:])
	}
	n := binary.LittleEndian.Uint32(h[4:])
	if n > MaxBody {
		return nil, frameErr("body of %d bytes above %d", n, MaxBody)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, frameErr("stream ended inside a %d-byte body: %v", n, err)
	}
	return body, nil
}

// WriteRequest sends r as one frame.
func WriteRequest(w io.Writer, r *Request) error {
	if len(r.Message) > guestmsg.MaxMessageSize {
		return frameErr("request message of %d bytes above %d", len(r.Message), guestmsg.MaxMessageSize)
	}
	if r.CertPages < 0 || r.CertPages > MaxCertPages || !r.Extended && r.CertPages != 0 {
		return frameErr("%d certificate pages offered (extended %v), limit %d", r.CertPages, r.Extended, MaxCertPages)
	}
	body := make([]byte, requestHeader+len(r.Message))
	body[0] = KindRequest
	if r.Extended {
		body[0] = KindExtended
	}
	binary.LittleEndian.PutUint32(body[4:], uint32(r.CertPages))
	copy(body[requestHeader:], r.Message)
	return writeFrame(w, body)
}

// ReadRequest receives one request frame. It returns io.EOF when the
// stream ends cleanly between frames, and an error wrapping ErrFrame for
// a malformed one.
func ReadRequest(rd io.Reader) (*Request, error) {
	body, err := readFrame(rd)
	if err != nil {
		return nil, err
	}
	if len(body) < requestHeader {
		return nil, frameErr("request body of %d bytes", len(body))
	}
	r := &Request{CertPages: int(binary.LittleEndian.Uint32(body[4:])), Message: body[requestHeader:]}
	switch body[0] {
	case KindRequest:
		if r.CertPages != 0 {
			return nil, frameErr("guest request offering %d certificate pages", r.CertPages)
		}
	case KindExtended:
		r.Extended = true
		if r.CertPages > MaxCertPages {
			return nil, frameErr("%d certificate pages offered, limit %d", r.CertPages, MaxCertPages)
		}
	default:
		return nil, frameErr("request kind %d", body[0])
	}
	if body[1] != 0 || body[2] != 0 || body[3] != 0 {
		return nil, frameErr("reserved request bytes %x", body[1:4])
	}
	if len(r.Message) > guestmsg.MaxMessageSize {
		return nil, frameErr("request message of %d bytes above %d", len(r.Message), guestmsg.MaxMessageSize)
	}
	return r, nil
}

// WriteResponse sends r as one frame.
func WriteResponse(w io.Writer, r *Response) error {
	if len(r.Message) > guestmsg.MaxMessageSize || len(r.Certs) > MaxCertPages*guestmsg.CertPageSize {
		return frameErr("response of %d message and %d certificate bytes", len(r.Message), len(r.Certs))
	}
	body := make([]byte, responseHeader+len(r.Message)+len(r.Certs))
	binary.LittleEndian.PutUint32(body[0:], uint32(r.Result.VMM))
	binary.LittleEndian.PutUint32(body[4:], uint32(r.Result.Firmware))
	binary.LittleEndian.PutUint32(body[8:], uint32(r.Result.CertPages))
	binary.LittleEndian.PutUint32(body[12:], uint32(len(r.Message)))
	copy(body[responseHeader:], r.Message)
	copy(body[responseHeader+len(r.Message):], r.Certs)
	return writeFrame(w, body)
}

// ReadResponse receives one response frame.
func ReadResponse(rd io.Reader) (*Response, error) {
	body, err := readFrame(rd)
	if err != nil {
		if err == io.EOF {
			return nil, frameErr("stream ended before the response")
		}
		return nil, err
	}
	if len(body) < responseHeader {
		return nil, frameErr("response body of %d bytes", len(body))
	}
	m := binary.LittleEndian.Uint32(body[12:])
	if m > guestmsg.MaxMessageSize || uint64(m) > uint64(len(body)-responseHeader) {
		return nil, frameErr("response message of %d bytes in a %d-byte body", m, len(body))
	}
	return &Response{
		Result: guestmsg.Result{
			VMM:       guestmsg.VMMError(binary.LittleEndian.Uint32(body[0:])),
			Firmware:  guestmsg.FirmwareStatus(binary.LittleEndian.Uint32(body[4:])),
			CertPages: uint64(binary.LittleEndian.Uint32(body[8:])),
		},
		Message: body[responseHeader : responseHeader+m],
		Certs:   body[responseHeader+m:],
	}, nil
}

// Transport is a guestmsg.Transport over a host channel: each Send writes
// one request frame and reads one response frame. A Transport is not safe
// for concurrent use; a guestmsg.Channel serializes its exchanges.
type Transport struct {
	RW io.ReadWriter
}

// MaxCertPages implements guestmsg.Transport.
func (t *Transport) MaxCertPages() int { return MaxCertPages }

// Send implements guestmsg.Transport. A nil certs makes a guest request,
// a non-nil one (even empty) an extended request offering its whole
// pages.
func (t *Transport) Send(req, resp, certs []byte) (guestmsg.Result, error) {
	if len(certs)%guestmsg.CertPageSize != 0 {
		return guestmsg.Result{}, fmt.Errorf("simulated PSP channel: certificate buffer of %d bytes is not whole pages", len(certs))
	}
	r := &Request{Extended: certs != nil, CertPages: len(certs) / guestmsg.CertPageSize, Message: req}
	if err := WriteRequest(t.RW, r); err != nil {
		return guestmsg.Result{}, err
	}
	rsp, err := ReadResponse(t.RW)
	if err != nil {
		return guestmsg.Result{}, err
	}
	if rsp.Result.VMM == VMMProtocolError {
		return guestmsg.Result{}, errors.New("simulated PSP channel: the host refused a malformed frame")
	}
	if len(rsp.Message) > len(resp) || len(rsp.Certs) > len(certs) {
		return guestmsg.Result{}, frameErr("response of %d message and %d certificate bytes for buffers of %d and %d",
			len(rsp.Message), len(rsp.Certs), len(resp), len(certs))
	}
	clear(resp)
	copy(resp, rsp.Message)
	if certs != nil {
		clear(certs)
		copy(certs, rsp.Certs)
	}
	return rsp.Result, nil
}
