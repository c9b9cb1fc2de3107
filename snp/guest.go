package snp

// Guest messages to the PSP on this platform (/dev/sev-guest): the SNP
// Guest Request and SNP Extended Guest Request exits (GHCB spec sections
// 4.1.7 and 4.1.8) through the vCPU's GHCB, by the same exit path as the
// #VC handler's (exit.go). Goroutine context: errors are values here.

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
)

// messageSize is the size of a guest message page (SNP Firmware ABI,
// chapter 7: a request or response fits one 4 KiB page).
const messageSize = ghcb.PageSize

// GuestRequests implements hal.GuestRequester: the request, response and
// certificate pages of the shared window carry the sealed messages; only
// sealed messages and certificates pass through them.
func (p *Platform) GuestRequests() hal.GuestTransport { return guestRequests{p} }

// SecretsPage returns the SNP secrets page (VMPCKs and the message
// sequence numbers), private memory.
func (p *Platform) SecretsPage() []byte { return p.secrets }

type guestRequests struct{ p *Platform }

// MaxCertPages implements hal.GuestTransport.
func (g guestRequests) MaxCertPages() int { return CertPages }

// Send implements hal.GuestTransport. The guest request exit takes the
// request and response page GPAs in SW_EXITINFO1 and SW_EXITINFO2; the
// extended one also the certificate buffer GPA in RAX and its page count
// in RBX. The hypervisor returns the VMM and firmware errors in
// SW_EXITINFO2 and, when the certificate buffer is too small, the pages
// needed in RBX.
//
// Interrupt handlers use the same GHCB (an EOI is MMIO, served through
// #VC), so the exit runs inside Config.Exclusive, which the kernel
// implements with interrupts off.
func (g guestRequests) Send(req, resp, certs []byte) (hal.GuestResult, error) {
	p := g.p
	pages := len(certs) / ghcb.PageSize
	if len(req) > messageSize || len(resp) < messageSize || len(certs)%ghcb.PageSize != 0 || pages > CertPages {
		return hal.GuestResult{}, fmt.Errorf("SNP guest request: %d-byte request, %d-byte response and %d-byte certificate buffers (want at most %d, at least %d, whole pages up to %d)",
			len(req), len(resp), len(certs), messageSize, messageSize, CertPages)
	}
	page := func(i, n int) []byte { return p.shared[i*ghcb.PageSize : (i+n)*ghcb.PageSize] }
	gpa := func(i int) uint64 { return p.sharedGPA + uint64(i)*ghcb.PageSize }
	clear(page(sharedRequest, 1))
	copy(page(sharedRequest, 1), req)
	clear(page(sharedResponse, 1))
	exit := ghcb.ExitSNPGuestRequest
	if certs != nil {
		exit = ghcb.ExitSNPExtGuestRequest
		clear(page(sharedCerts, pages))
	}
	var out exitOutput
	var rbx uint64
	var rbxValid bool
	p.exclusive(func() {
		p.Exits.GuestReq++
		p.ghcb.Clear()
		if certs != nil {
			p.ghcb.Put(ghcb.FieldRAX, gpa(sharedCerts))
			p.ghcb.Put(ghcb.FieldRBX, uint64(pages))
		}
		out = p.issue(exit, gpa(sharedRequest), gpa(sharedResponse))
		rbx, rbxValid = p.ghcb.Take(ghcb.FieldRBX)
	})
	if err := out.err(exit); err != nil {
		return hal.GuestResult{}, err
	}
	res := hal.GuestResult{VMM: uint32(out.info2 >> 32), Firmware: uint32(out.info2)}
	if res.VMM == vmmInvalidLength && certs != nil {
		if !rbxValid {
			return hal.GuestResult{}, &ghcb.ProtocolError{Exit: exit, Reason: "RBX (certificate pages needed) not marked valid"}
		}
		res.CertPages = rbx
	}
	copy(resp, page(sharedResponse, 1))
	if certs != nil {
		copy(certs, page(sharedCerts, pages))
	}
	return res, nil
}

// vmmInvalidLength is the VMM error of an extended request whose
// certificate buffer is too small (GHCB spec 4.1.8): RBX holds the pages
// needed.
const vmmInvalidLength = 1

// err checks an exit's output in goroutine context (GHCB spec section
// 4.1: SW_EXITINFO1[31:0] zero on success; the hypervisor must not change
// SW_EXITCODE).
func (o exitOutput) err(exit ghcb.ExitCode) error {
	if o.code != uint64(exit) {
		return &ghcb.ProtocolError{Exit: exit, Reason: fmt.Sprintf("SW_EXITCODE changed to %#x", o.code)}
	}
	if r := uint32(o.info1); r != ghcb.ResultOK {
		return &ghcb.ResultError{Exit: exit, Result: r, Info2: o.info2}
	}
	return nil
}

func (p *Platform) exclusive(fn func()) {
	if p.excl == nil {
		fn()
		return
	}
	p.excl(fn)
}
