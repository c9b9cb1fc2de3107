package snp

// Guest messages to the PSP on this platform (/dev/sev-guest). Goroutine
// context: the guestmsg layer allocates and returns errors.

import (
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// GuestTransport returns the transport of guest messages: SNP guest
// request exits (GHCB spec sections 4.1.7 and 4.1.8) through the vCPU's
// GHCB, with the shared window's request, response and certificate pages.
// Only sealed messages and certificates pass through those pages.
//
// Interrupt handlers use the same GHCB (an EOI is MMIO, served through
// #VC), so each exit runs inside Config.Exclusive, which the kernel
// implements with interrupts off.
func (p *Platform) GuestTransport() guestmsg.Transport {
	page := func(i int) guestmsg.SharedBuffer {
		return guestmsg.SharedBuffer{GPA: p.sharedGPA + uint64(i)*ghcb.PageSize, Mem: p.shared[i*ghcb.PageSize : (i+1)*ghcb.PageSize]}
	}
	certs := page(sharedCerts)
	certs.Mem = p.shared[sharedCerts*ghcb.PageSize : (sharedCerts+CertPages)*ghcb.PageSize]
	return &guestmsg.GHCBTransport{
		Exiter:   &guestExiter{p: p, b: ghcb.Registered(p.m, p.ghcb, p.ghcbGPA, p.version)},
		Request:  page(sharedRequest),
		Response: page(sharedResponse),
		Certs:    certs,
	}
}

// GuestRequests implements hal.GuestRequester with GuestTransport.
func (p *Platform) GuestRequests() hal.GuestTransport { return guestRequests{p.GuestTransport()} }

// guestRequests is a guestmsg.Transport as a hal.GuestTransport.
type guestRequests struct{ t guestmsg.Transport }

func (g guestRequests) MaxCertPages() int { return g.t.MaxCertPages() }

func (g guestRequests) Send(req, resp, certs []byte) (hal.GuestResult, error) {
	r, err := g.t.Send(req, resp, certs)
	return hal.GuestResult{VMM: uint32(r.VMM), Firmware: uint32(r.Firmware), CertPages: r.CertPages}, err
}

// SecretsPage returns the SNP secrets page (VMPCKs and the message
// sequence numbers), private memory.
func (p *Platform) SecretsPage() []byte { return p.secrets }

type guestExiter struct {
	p *Platform
	b *ghcb.Block
}

func (e *guestExiter) Exit(g *ghcb.GHCB) error {
	exit := g.SwExitCode
	e.p.exclusive(func() {
		e.p.Exits.GuestReq++
		e.b.Exchange(g)
	})
	return e.b.Check(g, exit)
}

func (p *Platform) exclusive(fn func()) {
	if p.excl == nil {
		fn()
		return
	}
	p.excl(fn)
}
