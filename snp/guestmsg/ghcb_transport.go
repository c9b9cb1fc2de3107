package guestmsg

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
)

// SharedBuffer is guest memory shared with the hypervisor (C-bit clear):
// its guest physical address and the guest's view of its bytes.
type SharedBuffer struct {
	GPA uint64
	Mem []byte
}

// GHCBTransport sends guest messages with the SNP Guest Request and SNP
// Extended Guest Request exits (GHCB spec sections 4.1.7 and 4.1.8). The
// request and response buffers are one shared page each; Certs is a shared
// area of whole pages for certificate tables.
type GHCBTransport struct {
	Exiter            interface{ Exit(*ghcb.GHCB) error }
	Request, Response SharedBuffer
	Certs             SharedBuffer
}

// MaxCertPages implements Transport.
func (t *GHCBTransport) MaxCertPages() int { return len(t.Certs.Mem) / CertPageSize }

// Send implements Transport. The guest request exit takes the request and
// response page GPAs in SW_EXITINFO1 and SW_EXITINFO2; the extended one
// also the certificate buffer GPA in RAX and its page count in RBX. The
// hypervisor returns the VMM and firmware errors in SW_EXITINFO2 and, when
// the certificate buffer is too small, the pages needed in RBX.
func (t *GHCBTransport) Send(req, resp, certs []byte) (Result, error) {
	if len(req) > len(t.Request.Mem) || len(t.Response.Mem) < MaxMessageSize || len(resp) < MaxMessageSize {
		return Result{}, fmt.Errorf("GHCB guest request: %d-byte request, buffers of %d/%d bytes",
			len(req), len(t.Request.Mem), len(t.Response.Mem))
	}
	pages := len(certs) / CertPageSize
	if len(certs)%CertPageSize != 0 || pages > t.MaxCertPages() {
		return Result{}, fmt.Errorf("GHCB guest request: %d-byte certificate buffer, shared area holds %d pages",
			len(certs), t.MaxCertPages())
	}
	clear(t.Request.Mem)
	copy(t.Request.Mem, req)
	clear(t.Response.Mem)

	var g ghcb.GHCB
	exit := ghcb.ExitSNPGuestRequest
	if certs != nil {
		exit = ghcb.ExitSNPExtGuestRequest
		clear(t.Certs.Mem[:len(certs)])
		g.Set(ghcb.FieldRAX, t.Certs.GPA)
		g.Set(ghcb.FieldRBX, uint64(pages))
	}
	g.Set(ghcb.FieldSwExitCode, uint64(exit))
	g.Set(ghcb.FieldSwExitInfo1, t.Request.GPA)
	g.Set(ghcb.FieldSwExitInfo2, t.Response.GPA)
	if err := t.Exiter.Exit(&g); err != nil {
		return Result{}, err
	}
	res := Result{VMM: VMMError(g.SwExitInfo2 >> 32), Firmware: FirmwareStatus(uint32(g.SwExitInfo2))}
	if res.VMM == VMMInvalidLength && certs != nil {
		n, err := g.Get(ghcb.FieldRBX)
		if err != nil {
			return Result{}, err
		}
		res.CertPages = n
	}
	copy(resp, t.Response.Mem[:MaxMessageSize])
	if certs != nil {
		copy(certs, t.Certs.Mem)
	}
	return res, nil
}
