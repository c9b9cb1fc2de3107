// Package sevguest is /dev/sev-guest, Linux's SEV-SNP guest device, in
// Cocoon's Linux personality: the ioctls SNP_GET_REPORT,
// SNP_GET_DERIVED_KEY and SNP_GET_EXT_REPORT with the structures of
// include/uapi/linux/sev-guest.h (north/sevguest/uapi) and the error
// semantics of Linux's drivers/virt/coco/sev-guest/sev-guest.c, so that
// attestation clients written for Linux SNP guests, go-sev-guest's client
// package among them, run unmodified.
//
// Requests travel as guest messages sealed with VMPCK0 by snp/guestmsg's
// Channel, which owns the sequence numbers; the Transport below it is the
// GHCB guest request on SNP hardware, or the host channel to the
// simulated PSP (hal/pc/guestwire) under plain QEMU.
//
// As in Linux, an exchange whose outcome is unknown (a transport failure,
// a host or firmware error, a response that is not authentic) disables
// the key for good: VMPCK0 is wiped from the secrets page and every later
// command fails with ENOTTY. A certificate buffer that is too small is the
// one error that keeps the key: the request is then sent without
// certificates so its sequence number is used, and the caller learns the
// size it needs.
package sevguest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sevguest/uapi"
	"github.com/cocoon-vm/cocoon/north/vfs"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/secrets"
)

// Name is the device's name under /dev.
const Name = "sev-guest"

// EBADMSG is what Linux returns for a response that is not authentic.
const EBADMSG = vfs.Errno(linux.EBADMSG)

// vmpckIndex is the key the device uses: VMPCK0, as the guest runs at
// VMPL0.
const vmpckIndex = 0

// Device is the SEV-SNP guest device. It is safe for concurrent use;
// commands run one at a time, as under Linux's snp_cmd_mutex.
type Device struct {
	mu     sync.Mutex // serializes commands; guards everything below
	ch     *guestmsg.Channel
	tr     *certLimit
	page   []byte        // the secrets page, kept up to date
	parsed *secrets.Page // page, parsed
	// disabled is set when the key was disabled: by the Channel, or by
	// the device itself for a response that overflows Linux's buffer.
	disabled bool
}

// New returns the device for the guest whose secrets page is page,
// sending guest messages over t. The page is where VMPCK0 and its last
// sequence number are read, where the sequence number is kept (the
// guest OS area, as Linux keeps it), and where the key is wiped if the
// device disables it.
func New(t guestmsg.Transport, page []byte) (*Device, error) {
	p, err := secrets.Parse(page)
	if err != nil {
		return nil, err
	}
	vmpck, err := p.Key(vmpckIndex)
	if err != nil {
		return nil, err
	}
	tr := &certLimit{t: t}
	ch, err := guestmsg.NewChannel(tr, vmpck, vmpckIndex, p.OSArea.MsgSeqNo[vmpckIndex])
	if err != nil {
		return nil, err
	}
	return &Device{ch: ch, tr: tr, page: page, parsed: p}, nil
}

// Open returns the FileImpl of one open of the device, for
// vfs.Options.Devices.
func (d *Device) Open() vfs.FileImpl { return &file{d: d} }

// file is one open of /dev/sev-guest. Like Linux's, it has only ioctl:
// read and write fail with EINVAL, lseek with ESPIPE.
type file struct {
	vfs.FileDefaults
	d *Device
}

// Stat is never called: vfs reports the device node's attributes for
// files of Options.Devices.
func (*file) Stat(*vfs.File) vfs.Attr { return vfs.Attr{} }

// Ioctl implements vfs.FileImpl.
func (f *file) Ioctl(_ *vfs.File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	return 0, f.d.Ioctl(m, cmd, arg)
}

// Ioctl runs one ioctl(2) command with its snp_guest_request_ioctl at arg
// in m, as Linux's snp_guest_ioctl does: msg_version must be non-zero;
// exitinfo2 is written back whenever it is non-zero (NoFirmwareCall when
// nothing reached the host, the host's SW_EXITINFO2 after a host or
// firmware error).
func (d *Device) Ioctl(m mem.Memory, cmd uint32, arg uint64) error {
	var b [uapi.RequestSize]byte
	if err := m.CopyIn(arg, b[:]); err != nil {
		return vfs.EFAULT
	}
	rio := uapi.UnmarshalRequest(b[:])
	rio.ExitInfo2 = uapi.NoFirmwareCall
	if rio.MsgVersion == 0 {
		return vfs.EINVAL
	}
	err := error(vfs.ENOTTY)
	switch cmd {
	case uapi.SNPGetReport:
		err = d.getReport(m, &rio)
	case uapi.SNPGetDerivedKey:
		err = d.getDerivedKey(m, &rio)
	case uapi.SNPGetExtReport:
		err = d.getExtReport(m, &rio)
	}
	if rio.ExitInfo2 != 0 {
		if m.CopyOut(arg, rio.Marshal()) != nil {
			return vfs.EFAULT
		}
	}
	return err
}

func (d *Device) getReport(m mem.Memory, rio *uapi.Request) error {
	if rio.ReqData == 0 || rio.RespData == 0 {
		return vfs.EINVAL
	}
	req := make([]byte, uapi.ReportReqSize)
	if m.CopyIn(rio.ReqData, req) != nil {
		return vfs.EFAULT
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rsp, err := d.send(rio, guestmsg.Request{Type: guestmsg.MsgReportReq, Version: rio.MsgVersion, Payload: req})
	if err != nil {
		return err
	}
	return copyOut(m, rio.RespData, rsp.Payload, uapi.ReportRespSize)
}

func (d *Device) getDerivedKey(m mem.Memory, rio *uapi.Request) error {
	if rio.ReqData == 0 || rio.RespData == 0 {
		return vfs.EINVAL
	}
	req := make([]byte, uapi.DerivedKeyReqSize)
	if m.CopyIn(rio.ReqData, req) != nil {
		return vfs.EFAULT
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rsp, err := d.send(rio, guestmsg.Request{Type: guestmsg.MsgKeyReq, Version: rio.MsgVersion, Payload: req})
	if err != nil {
		return err
	}
	if len(rsp.Payload) > uapi.DerivedKeyRespSize {
		// Linux decrypts into a 64-byte buffer and treats a larger
		// payload as a bad message, disabling the key.
		d.disable()
		return EBADMSG
	}
	err = copyOut(m, rio.RespData, rsp.Payload, uapi.DerivedKeyRespSize)
	clear(rsp.Payload)
	return err
}

func (d *Device) getExtReport(m mem.Memory, rio *uapi.Request) error {
	if rio.ReqData == 0 || rio.RespData == 0 {
		return vfs.EINVAL
	}
	b := make([]byte, uapi.ExtReportReqSize)
	if m.CopyIn(rio.ReqData, b) != nil {
		return vfs.EFAULT
	}
	req := uapi.UnmarshalExtReportReq(b)
	pages := 0
	if req.CertsLen != 0 && req.CertsAddress != 0 {
		if req.CertsLen > uapi.MaxCertsLen || req.CertsLen%guestmsg.CertPageSize != 0 {
			return vfs.EINVAL
		}
		if end := req.CertsAddress + uint64(req.CertsLen); end < req.CertsAddress || end > uint64(layout.UserEnd) {
			return vfs.EFAULT // access_ok
		}
		pages = int(req.CertsLen / guestmsg.CertPageSize)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	d.tr.pages, d.tr.need = pages, 0
	rsp, err := d.send(rio, guestmsg.Request{Type: guestmsg.MsgReportReq, Version: rio.MsgVersion, Payload: req.Data[:], Certs: true})
	if rio.ExitInfo2 == uapi.VMMErrInvalidLen<<uapi.VMMErrShift {
		// Tell the caller the buffer it needs.
		req.CertsLen = uint32(d.tr.need * guestmsg.CertPageSize)
		if m.CopyOut(rio.ReqData, req.Marshal()) != nil {
			err = vfs.EFAULT
		}
	}
	if err != nil {
		return err
	}
	if pages > 0 {
		if err := copyOut(m, req.CertsAddress, rsp.Certs, int(req.CertsLen)); err != nil {
			return err
		}
	}
	return copyOut(m, rio.RespData, rsp.Payload, uapi.ReportRespSize)
}

// copyOut writes data zero-padded to size bytes at addr.
func copyOut(m mem.Memory, addr uint64, data []byte, size int) error {
	out := make([]byte, size)
	copy(out, data)
	if m.CopyOut(addr, out) != nil {
		return vfs.EFAULT
	}
	return nil
}

// send exchanges one guest message and maps the outcome to Linux's: the
// errno, and SW_EXITINFO2 in rio. d.mu must be held.
func (d *Device) send(rio *uapi.Request, req guestmsg.Request) (*guestmsg.Response, error) {
	if d.disabled || d.ch.Err() != nil {
		return nil, vfs.ENOTTY // "VMPCK is disabled"
	}
	rsp, err := d.ch.Exchange(req)
	d.saveSeqNo()
	if err == nil {
		rio.ExitInfo2 = 0
		return rsp, nil
	}
	if d.ch.Err() != nil {
		d.disable()
	}
	var he *guestmsg.HostError
	var re *guestmsg.ResponseError
	switch {
	case errors.Is(err, guestmsg.ErrCertificates):
		rio.ExitInfo2 = uapi.VMMErrInvalidLen << uapi.VMMErrShift
		return nil, vfs.EIO
	case errors.As(err, &he):
		rio.ExitInfo2 = uint64(he.Result.VMM)<<uapi.VMMErrShift | uint64(he.Result.Firmware)
		if he.Result.VMM == guestmsg.VMMBusy {
			return nil, vfs.ETIMEDOUT
		}
		return nil, vfs.EIO
	case errors.As(err, &re):
		rio.ExitInfo2 = 0 // the host reported success
		return nil, EBADMSG
	}
	return nil, vfs.EIO // the transport failed, or sequence numbers ran out
}

// saveSeqNo records the key's last sequence number in the secrets page's
// guest OS area.
func (d *Device) saveSeqNo() {
	d.parsed.OSArea.MsgSeqNo[vmpckIndex] = d.ch.SeqNo()
	copy(d.page, d.parsed.Marshal())
}

// disable wipes VMPCK0 from the secrets page so nothing can use it again.
func (d *Device) disable() {
	d.disabled = true
	d.parsed.VMPCK[vmpckIndex] = [secrets.KeySize]byte{}
	copy(d.page, d.parsed.Marshal())
}

// certLimit is the Transport under the device's Channel. It makes an
// extended request offer exactly the pages of the caller's certificate
// buffer, as Linux's driver does, where the Channel would offer its own
// default, and records the pages the host asks for. Set pages before each
// exchange, with the device's lock held.
type certLimit struct {
	t     guestmsg.Transport
	pages int    // pages the caller's buffer holds
	need  uint64 // pages the host last asked for
}

// MaxCertPages implements guestmsg.Transport. With no caller buffer it
// still reports one page, so that the Channel makes the extended request
// (which then offers none) and the host can say what it needs.
func (c *certLimit) MaxCertPages() int { return max(c.pages, 1) }

// Send implements guestmsg.Transport.
func (c *certLimit) Send(req, resp, certs []byte) (guestmsg.Result, error) {
	if certs != nil {
		pages := min(len(certs)/guestmsg.CertPageSize, c.pages, c.t.MaxCertPages())
		certs = certs[:pages*guestmsg.CertPageSize]
	}
	res, err := c.t.Send(req, resp, certs)
	if err == nil && res.VMM == guestmsg.VMMInvalidLength {
		c.need = res.CertPages
	}
	return res, err
}

// ConfirmSecureTSC asks the PSP for the guest's Secure TSC parameters
// (MSG_TSC_INFO_REQ, under the device's next sequence numbers) and checks
// them against the calibration the kernel booted with: a TSC_FACTOR other
// than factor (the secrets page's, which the kernel used) or a zero
// GUEST_TSC_SCALE (a stopped TSC) is refused. Linux's
// snp_get_tsc_info asks the same at boot and terminates when it fails.
// As for the ioctls, a response that cannot be the PSP's answer (an
// authentic one of the wrong size, or one that is not authentic) disables
// VMPCK0; a STATUS other than success does not.
func (d *Device) ConfirmSecureTSC(factor uint32) (*guestmsg.TSCInfoResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.disabled || d.ch.Err() != nil {
		return nil, errors.New("TSC_INFO: VMPCK0 is disabled")
	}
	resp, err := d.ch.Exchange(guestmsg.Request{Type: guestmsg.MsgTSCInfoReq, Version: guestmsg.MsgVersion1, Payload: guestmsg.TSCInfoRequest()})
	d.saveSeqNo()
	if err != nil {
		if d.ch.Err() != nil {
			d.disable()
		}
		return nil, fmt.Errorf("TSC_INFO: %w", err)
	}
	info, err := guestmsg.UnmarshalTSCInfoResponse(resp.Payload)
	switch {
	case err != nil:
		d.disable()
		return nil, fmt.Errorf("TSC_INFO: %w", err)
	case info.Status != guestmsg.StatusSuccess:
		return nil, &guestmsg.StatusError{Type: guestmsg.MsgTSCInfoRsp, Status: info.Status}
	case info.Factor != factor:
		return nil, fmt.Errorf("TSC_INFO: the PSP's TSC_FACTOR %d is not the secrets page's %d the clock was calibrated with", info.Factor, factor)
	case info.Scale == 0:
		return nil, errors.New("TSC_INFO: GUEST_TSC_SCALE 0")
	}
	return info, nil
}
