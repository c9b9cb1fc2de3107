package snptest

import (
	"encoding/binary"
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// Hypervisor is a fake SNP hypervisor. Guest memory it can see is one
// contiguous range starting at GPA 0. Its exported fields configure
// answers; the zero value of each is honest.
type Hypervisor struct {
	mem        []byte
	msr        uint64
	registered map[uint64]bool // GHCB GFNs

	// SEVInfo and Features answer the MSR-protocol information requests.
	SEVInfo  ghcbmsr.SEVInfo
	Features ghcbmsr.Features

	// RegisterReply, if set, replaces the GFN echoed to a GHCB
	// registration request.
	RegisterReply func(gfn uint64) uint64

	// MSRPSCError, if nonzero, fails every MSR-protocol page state
	// change with this error code.
	MSRPSCError uint32
	// PSP answers guest requests.
	PSP *PSP
	// Busy answers this many guest requests with VMMBusy first.
	Busy int
	// CertTable is the certificate table returned by extended requests.
	CertTable []byte
	// CertPagesGrowth makes the host ask for this many more pages than
	// it said last time after each too-small answer.
	CertPagesGrowth uint64
	// GuestRequestFirmwareError, if nonzero, fails guest requests with
	// this firmware error after passing them to the PSP.
	GuestRequestFirmwareError guestmsg.FirmwareStatus
	// TamperResponse, if set, rewrites each sealed response.
	TamperResponse func(msg []byte)
	// GuestRequestExitError, if nonzero, rejects guest request exits
	// themselves: SW_EXITINFO1 2 with this GHCB error in SW_EXITINFO2.
	GuestRequestExitError ghcb.GHCBErrorCode

	// Ports, MSRs and MMIO are the devices behind IOIO, MSR and MMIO
	// events; TSC answers RDTSC events. An MSR that is absent answers
	// with a #GP to inject.
	Ports map[uint16]uint32
	MSRs  map[uint32]uint64
	MMIO  map[uint64]uint64
	TSC   uint64
	// DropOutputs answers IOIO, MSR and RDTSC events without marking
	// their output registers valid.
	DropOutputs bool
	// ChangeExitCode, if nonzero, replaces SW_EXITCODE in every answer.
	ChangeExitCode uint64

	// Observations.
	PortLog     []PortAccess
	MMIOLog     []MMIOAccess
	Terminated  *ghcbmsr.Reason // last termination request
	RMP         map[uint64]ghcbmsr.PageOp
	Exits       []ghcb.ExitCode
	certsNeeded uint64
}

// New returns a honest Hypervisor with pages of guest memory, supporting
// GHCB protocol versions 1 to 2 and SNP.
func New(pages int) *Hypervisor {
	return &Hypervisor{
		mem:        make([]byte, pages*ghcb.PageSize),
		registered: make(map[uint64]bool),
		SEVInfo:    ghcbmsr.SEVInfo{MinVersion: 1, MaxVersion: 2, CBit: 51},
		Features:   ghcbmsr.FeatureSNP,
		RMP:        make(map[uint64]ghcbmsr.PageOp),
		Ports:      make(map[uint16]uint32),
		MSRs:       make(map[uint32]uint64),
		MMIO:       make(map[uint64]uint64),
	}
}

// Mem returns n bytes of guest memory at gpa, shared with the guest.
func (h *Hypervisor) Mem(gpa uint64, n int) []byte { return h.mem[gpa : gpa+uint64(n) : gpa+uint64(n)] }

// Page returns the page at gpa as a GHCB page.
func (h *Hypervisor) Page(gpa uint64) *ghcb.Page { return (*ghcb.Page)(h.Mem(gpa, ghcb.PageSize)) }

// ReadGHCBMSR implements ghcbmsr.CPU.
func (h *Hypervisor) ReadGHCBMSR() uint64 { return h.msr }

// WriteGHCBMSR implements ghcbmsr.CPU.
func (h *Hypervisor) WriteGHCBMSR(v uint64) { h.msr = v }

// VMGEXIT implements ghcbmsr.CPU: it answers the request in the MSR.
func (h *Hypervisor) VMGEXIT() {
	w := ghcbmsr.Word(h.msr)
	switch w.Info() {
	case ghcbmsr.InfoGHCBGPA:
		h.exitGHCB(uint64(w))
	case ghcbmsr.InfoSEVInfoRequest:
		h.msr = uint64(h.SEVInfo.Word())
	case ghcbmsr.InfoHypervisorFeaturesRequest:
		h.msr = uint64(h.Features.Word())
	case ghcbmsr.InfoRegisterGHCBRequest:
		gfn := w.Data()
		h.registered[gfn] = true
		if h.RegisterReply != nil {
			gfn = h.RegisterReply(gfn)
		}
		h.msr = uint64(ghcbmsr.RegisterGHCBResponse(gfn))
	case ghcbmsr.InfoPageStateChangeRequest:
		gfn, op, err := ghcbmsr.DecodePageStateChangeRequest(w)
		if err != nil {
			h.msr = uint64(ghcbmsr.PageStateChangeResponse(1))
			return
		}
		if h.MSRPSCError != 0 {
			h.msr = uint64(ghcbmsr.PageStateChangeResponse(h.MSRPSCError))
			return
		}
		h.RMP[gfn] = op
		h.msr = uint64(ghcbmsr.PageStateChangeResponse(0))
	case ghcbmsr.InfoTerminateRequest:
		r, err := ghcbmsr.DecodeTerminateRequest(w)
		if err == nil {
			h.Terminated = &r
		}
	default:
		h.msr = 0
	}
}

func (h *Hypervisor) exitGHCB(gpa uint64) {
	if gpa%ghcb.PageSize != 0 || gpa+ghcb.PageSize > uint64(len(h.mem)) || !h.registered[gpa/ghcb.PageSize] {
		panic(fmt.Sprintf("snptest: VMGEXIT with unregistered GHCB %#x", gpa))
	}
	page := h.Page(gpa)
	var g ghcb.GHCB
	g.Unmarshal(page)
	exit := ghcb.ExitCode(g.SwExitCode)
	h.Exits = append(h.Exits, exit)
	switch {
	case !g.Valid.IsSet(ghcb.FieldSwExitCode):
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(ghcb.ErrMissingInput)
	case exit == ghcb.ExitSNPGuestRequest || exit == ghcb.ExitSNPExtGuestRequest:
		h.guestRequest(&g, exit == ghcb.ExitSNPExtGuestRequest)
	case exit == ghcb.ExitIOIO:
		h.ioio(&g)
	case exit == ghcb.ExitMSR:
		h.msrExit(&g)
	case exit == ghcb.ExitMMIORead || exit == ghcb.ExitMMIOWrite:
		h.mmio(&g, gpa, exit == ghcb.ExitMMIOWrite)
	case exit == 0x6E || exit == 0x87: // RDTSC, RDTSCP
		h.rdtsc(&g, exit == 0x87)
	default:
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(ghcb.ErrInvalidEvent)
	}
	if h.ChangeExitCode != 0 {
		g.SwExitCode = h.ChangeExitCode
	}
	g.Marshal(page)
}

func (h *Hypervisor) guestRequest(g *ghcb.GHCB, ext bool) {
	reqGPA, respGPA := g.SwExitInfo1, g.SwExitInfo2
	g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultOK, 0
	if h.GuestRequestExitError != 0 {
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(h.GuestRequestExitError)
		return
	}
	if ext && !(g.Valid.IsSet(ghcb.FieldRAX) && g.Valid.IsSet(ghcb.FieldRBX)) {
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(ghcb.ErrMissingInput)
		return
	}
	if h.Busy > 0 {
		h.Busy--
		g.SwExitInfo2 = uint64(guestmsg.VMMBusy) << 32
		return
	}
	if ext {
		if h.certsNeeded == 0 {
			h.certsNeeded = uint64((len(h.CertTable) + guestmsg.CertPageSize - 1) / guestmsg.CertPageSize)
		}
		if g.RBX < h.certsNeeded {
			g.Set(ghcb.FieldRBX, h.certsNeeded)
			g.SwExitInfo2 = uint64(guestmsg.VMMInvalidLength) << 32
			h.certsNeeded += h.CertPagesGrowth
			return
		}
	}
	req := append([]byte(nil), h.Mem(reqGPA, guestmsg.MaxMessageSize)...)
	resp, fw := h.PSP.Handle(req)
	if h.GuestRequestFirmwareError != 0 {
		fw = h.GuestRequestFirmwareError
	}
	if fw != guestmsg.StatusSuccess {
		g.SwExitInfo2 = uint64(fw)
		return
	}
	if h.TamperResponse != nil {
		h.TamperResponse(resp)
	}
	copy(h.Mem(respGPA, guestmsg.MaxMessageSize), resp)
	if ext {
		copy(h.Mem(g.RAX, int(g.RBX)*guestmsg.CertPageSize), h.CertTable)
	}
}

// PutSeqNo overwrites the sequence number of a sealed message in place,
// for TamperResponse.
func PutSeqNo(msg []byte, seqno uint64) { binary.LittleEndian.PutUint64(msg[0x20:], seqno) }

// Registered reports whether the guest asked to register gfn as its GHCB.
func (h *Hypervisor) Registered(gfn uint64) bool { return h.registered[gfn] }
