// Package attest is SEV-SNP attestation for programs running under Cocoon
// (or under Linux in an SEV-SNP guest): a signed attestation report that
// carries 64 bytes of the caller's data, the certificate chain that
// endorses its signing key, and keys the PSP derives from the guest's
// identity. It talks to /dev/sev-guest with Linux's ioctls, so the same
// binary works on both.
//
// Under plain QEMU there is no PSP; Cocoon's launcher can attach a
// simulated one (qemu.RunWithPSP, 'mkimage attest'), whose reports are
// signed by go-sev-guest's test-only keys and verify only against those.
// With neither, every call fails with ErrUnavailable.
package attest

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/cocoon-vm/cocoon/north/sevguest/uapi"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// DevicePath is the SEV-SNP guest device.
const DevicePath = "/dev/sev-guest"

// ReportDataSize is the size of the caller's data in a report.
const ReportDataSize = guestmsg.ReportDataSize

// ErrUnavailable reports that there is no way to attest: no SEV-SNP and
// no simulated PSP.
var ErrUnavailable = errors.New("attestation unavailable: no " + DevicePath +
	" (this is neither an SEV-SNP guest nor a Cocoon guest with a simulated PSP; under QEMU, boot with 'mkimage attest')")

// devicePath is DevicePath; tests point it elsewhere.
var devicePath = DevicePath

// Error is a failed /dev/sev-guest command.
type Error struct {
	Op    string // "SNP_GET_REPORT", ...
	Errno syscall.Errno
	// ExitInfo2 is the host's SW_EXITINFO2 when the host or PSP failed
	// the request: firmware status in bits 31:0, VMM error in 63:32.
	ExitInfo2 uint64
}

func (e *Error) Error() string {
	var why string
	switch e.Errno {
	case syscall.ENOTTY:
		why = "the message key (VMPCK0) is disabled after an earlier failed exchange; restart the guest"
	case syscall.EBADMSG:
		why = "the PSP's answer failed authentication (tampered with, or out of step); the message key is now disabled"
	case syscall.ETIMEDOUT:
		why = "the host stayed busy"
	case syscall.EIO:
		if e.ExitInfo2 != 0 && e.ExitInfo2 != uapi.NoFirmwareCall {
			why = fmt.Sprintf("the host or PSP failed the request (%v, %v)",
				guestmsg.VMMError(e.ExitInfo2>>uapi.VMMErrShift), guestmsg.FirmwareStatus(uint32(e.ExitInfo2)))
		} else {
			why = "the channel to the PSP failed"
		}
	default:
		why = e.Errno.Error()
	}
	return fmt.Sprintf("%s %s: %s", DevicePath, e.Op, why)
}

func (e *Error) Unwrap() error { return e.Errno }

// StatusError is an answer from the PSP that refuses the request, such as
// INVALID_PARAM for a VMPL the guest may not ask for.
type StatusError = guestmsg.StatusError

// device is an open /dev/sev-guest.
type device struct{ f *os.File }

func open() (*device, error) {
	f, err := os.OpenFile(devicePath, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENXIO) || errors.Is(err, syscall.ENODEV) {
			return nil, ErrUnavailable
		}
		return nil, err
	}
	return &device{f: f}, nil
}

func (d *device) close() { d.f.Close() }

// command is one ioctl's memory: the snp_guest_request_ioctl, the request
// and response structures and the certificate buffer, in one heap
// allocation so the addresses inside it stay valid during the call.
type command struct {
	buf                      []byte
	reqOff, respOff, certOff int
}

func newCommand(reqSize, respSize, certSize int) *command {
	c := &command{reqOff: uapi.RequestSize}
	c.respOff = c.reqOff + reqSize
	c.certOff = c.respOff + respSize
	c.buf = make([]byte, c.certOff+certSize)
	return c
}

func (c *command) req() []byte   { return c.buf[c.reqOff:c.respOff] }
func (c *command) resp() []byte  { return c.buf[c.respOff:c.certOff] }
func (c *command) certs() []byte { return c.buf[c.certOff:] }

// addr returns the address of c.buf[off] as the kernel sees it.
func (c *command) addr(off int) uint64 {
	// unsafe: the address goes into the ioctl's argument structures; Go's
	// heap does not move objects, and ioctl keeps c.buf alive.
	return uint64(uintptr(unsafe.Pointer(&c.buf[off])))
}

// ioctl runs cmd with c's request and response.
func (d *device) ioctl(op string, cmd uint32, c *command) error {
	rio := uapi.Request{MsgVersion: guestmsg.MsgVersion1, ReqData: c.addr(c.reqOff), RespData: c.addr(c.respOff)}
	copy(c.buf, rio.Marshal())
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, d.f.Fd(), uintptr(cmd), uintptr(c.addr(0)))
	runtime.KeepAlive(c)
	runtime.KeepAlive(d.f)
	if errno != 0 {
		return &Error{Op: op, Errno: errno, ExitInfo2: uapi.UnmarshalRequest(c.buf).ExitInfo2}
	}
	return nil
}

// reportRequest is snp_report_req (MSG_REPORT_REQ): the caller's data at
// VMPL0, signed with the default key.
func reportRequest(reportData [ReportDataSize]byte) []byte {
	b, _ := (&guestmsg.ReportRequest{ReportData: reportData}).Marshal()
	return b
}

// report decodes the MSG_REPORT_RSP at the start of a snp_report_resp.
func report(resp []byte) ([]byte, error) {
	r, err := guestmsg.UnmarshalReportResponse(resp[:guestmsg.ReportResponseSize])
	if err != nil {
		return nil, err
	}
	if r.Status != guestmsg.StatusSuccess {
		return nil, &StatusError{Type: guestmsg.MsgReportRsp, Status: r.Status}
	}
	return r.Report, nil
}

// GetReport returns a signed attestation report (SNP Firmware ABI,
// ATTESTATION_REPORT, 1184 bytes) whose REPORT_DATA is reportData.
func GetReport(reportData [ReportDataSize]byte) ([]byte, error) {
	d, err := open()
	if err != nil {
		return nil, err
	}
	defer d.close()
	c := newCommand(uapi.ReportReqSize, uapi.ReportRespSize, 0)
	copy(c.req(), reportRequest(reportData))
	if err := d.ioctl("SNP_GET_REPORT", uapi.SNPGetReport, c); err != nil {
		return nil, err
	}
	return report(c.resp())
}

// ExtendedReport returns a report as GetReport does and the host's
// certificate table ("SEV-ES Guest-Hypervisor Communication Block
// Standardization", section 4.1.8.1): GUID, offset, length entries for
// the VCEK, ASK and ARK, then the certificates. certs is nil if the host
// has none.
func ExtendedReport(reportData [ReportDataSize]byte) (rep, certs []byte, err error) {
	d, err := open()
	if err != nil {
		return nil, nil, err
	}
	defer d.close()
	// Ask for the table's size first, as Linux clients do: a request
	// without a buffer fails with EIO and VMM error INVALID_LEN, and
	// certs_len says how much to offer.
	size := 0
	for try := 0; try < 2; try++ {
		c := newCommand(uapi.ExtReportReqSize, uapi.ReportRespSize, size)
		req := uapi.ExtReportReq{CertsLen: uint32(size)}
		copy(req.Data[:], reportRequest(reportData))
		if size > 0 {
			req.CertsAddress = c.addr(c.certOff)
		}
		copy(c.req(), req.Marshal())
		err := d.ioctl("SNP_GET_EXT_REPORT", uapi.SNPGetExtReport, c)
		var e *Error
		if errors.As(err, &e) && e.Errno == syscall.EIO && e.ExitInfo2 == uapi.VMMErrInvalidLen<<uapi.VMMErrShift {
			size = int(uapi.UnmarshalExtReportReq(c.req()).CertsLen)
			if size <= 0 || size > uapi.MaxCertsLen {
				return nil, nil, fmt.Errorf("%s SNP_GET_EXT_REPORT: the host needs a %d-byte certificate buffer", DevicePath, size)
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		rep, err := report(c.resp())
		if err != nil || size == 0 {
			return rep, nil, err
		}
		return rep, c.certs(), nil
	}
	return nil, nil, fmt.Errorf("%s SNP_GET_EXT_REPORT: the host asked for a larger certificate buffer twice", DevicePath)
}

// Certificates returns the host's certificate table (see ExtendedReport),
// fetched with a report of zero data.
func Certificates() ([]byte, error) {
	_, certs, err := ExtendedReport([ReportDataSize]byte{})
	return certs, err
}

// DeriveKey returns a 32-byte key the PSP derives from its root key
// (the chip's VCEK secret, or with r.RootKeyVMRK the guest's VM root key)
// and the guest fields r selects: a guest with the same selected fields
// (measurement, policy, ...) on the same chip gets the same key.
func DeriveKey(r *guestmsg.KeyRequest) ([guestmsg.DerivedKeySize]byte, error) {
	var key [guestmsg.DerivedKeySize]byte
	payload, err := r.Marshal()
	if err != nil {
		return key, err
	}
	d, err := open()
	if err != nil {
		return key, err
	}
	defer d.close()
	c := newCommand(uapi.DerivedKeyReqSize, uapi.DerivedKeyRespSize, 0)
	copy(c.req(), payload)
	if err := d.ioctl("SNP_GET_DERIVED_KEY", uapi.SNPGetDerivedKey, c); err != nil {
		return key, err
	}
	rsp, err := guestmsg.UnmarshalKeyResponse(c.resp())
	clear(c.resp())
	if err != nil {
		return key, err
	}
	if rsp.Status != guestmsg.StatusSuccess {
		return key, &StatusError{Type: guestmsg.MsgKeyRsp, Status: rsp.Status}
	}
	return rsp.Key, nil
}
