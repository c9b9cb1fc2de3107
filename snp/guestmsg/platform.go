package guestmsg

import "github.com/cocoon-vm/cocoon/hal"

// PlatformTransport is the platform's guest requests (hal.GuestTransport:
// the GHCB exits on SEV-SNP, the host channel on the PC platform) as a
// Transport.
func PlatformTransport(t hal.GuestTransport) Transport { return platformTransport{t} }

type platformTransport struct{ t hal.GuestTransport }

func (p platformTransport) MaxCertPages() int { return p.t.MaxCertPages() }

func (p platformTransport) Send(req, resp, certs []byte) (Result, error) {
	r, err := p.t.Send(req, resp, certs)
	return Result{VMM: VMMError(r.VMM), Firmware: FirmwareStatus(r.Firmware), CertPages: r.CertPages}, err
}
